#include "cdc/pipeline/slot_monitor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "cdc/common/log.h"
#include "cdc/pg/slot_state.h"

namespace cdc::pipeline {

SlotMonitor::SlotMonitor(std::string dsn, std::string slot,
                         metrics::Metrics* metrics,
                         std::chrono::milliseconds interval)
    : dsn_(std::move(dsn)),
      slot_(std::move(slot)),
      metrics_(metrics),
      interval_(interval) {
  thread_ = std::thread([this] { Loop(); });
}

SlotMonitor::~SlotMonitor() { Stop(); }

void SlotMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    // Thread-safe: a query in progress fails at once, even one blocked on
    // a silent network, which a cancel request could not reach.
    if (conn_ != nullptr) conn_->Abort();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::Status SlotMonitor::ReadOnce() {
  pg::SqlConnection* conn = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conn = conn_.get();
  }
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> made =
        pg::SqlConnection::Connect(dsn_);
    if (!made.ok()) return made.status();
    absl::StatusOr<std::vector<pg::SqlRow>> set = (*made)->Query(
        absl::StrCat("SET statement_timeout = ",
                     std::chrono::milliseconds(kQueryTimeout).count()));
    if (!set.ok()) return set.status();
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::OkStatus();
    conn_ = *std::move(made);
    conn = conn_.get();
  }
  absl::StatusOr<pg::SlotState> state = pg::ReadSlotState(*conn, slot_);
  if (!state.ok()) return state.status();
  metrics_->SetSlotWal(state->retained_wal_bytes.value_or(-1),
                       state->safe_wal_size.value_or(-1),
                       state->exists ? pg::WalStatusName(state->wal_status)
                                     : std::string_view());
  return absl::OkStatus();
}

void SlotMonitor::Loop() {
  while (true) {
    absl::Status read = ReadOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) break;
    if (!read.ok()) {
      LogWarning(
          "cannot read the replication slot's state for the "
          "pgcdc_slot_* metrics (trying again in ",
          interval_.count() / 1000, " s): ", read.message());
      conn_.reset();  // a fresh session next time
    }
    wake_.wait_for(lock, interval_, [this] { return stop_; });
    if (stop_) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  conn_.reset();
}

}  // namespace cdc::pipeline
