#include "cdc/metrics/metrics.h"

#include <algorithm>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace cdc::metrics {
namespace {

const char* OpLabel(int op) {
  static const char* const kNames[] = {"unspecified", "create", "update",
                                       "delete",      "read",   "truncate",
                                       "message"};
  if (op < 0 || op >= static_cast<int>(std::size(kNames))) return "other";
  return kNames[op];
}

prometheus::Gauge* NewGauge(prometheus::Registry& registry,
                            const std::string& name, const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(
      {});
}

prometheus::Counter* NewCounter(prometheus::Registry& registry,
                                const std::string& name,
                                const std::string& help) {
  return &prometheus::BuildCounter()
              .Name(name)
              .Help(help)
              .Register(registry)
              .Add({});
}

// Fine at the low end, where the latency target (p99 <= 20 ms) and the
// producer's linger.ms (2) are: 0.5 ms, 1 ms steps to 50 ms, then coarser
// up to a minute, for a broker outage.
prometheus::Histogram::BucketBoundaries CommitToAckBuckets() {
  prometheus::Histogram::BucketBoundaries b = {0.0005};
  for (int ms = 1; ms <= 50; ++ms) b.push_back(ms / 1000.0);
  for (double s : {0.06, 0.07, 0.08, 0.09, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3,
                   0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0}) {
    b.push_back(s);
  }
  return b;
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  events_family_ = &prometheus::BuildCounter()
                        .Name("pgcdc_events_total")
                        .Help(
                            "Change events published (acknowledged or in "
                            "flight), by table and op")
                        .Register(r);
  transactions_ = NewCounter(r, "pgcdc_transactions_total",
                             "Committed transactions received");
  delivery_errors_ = NewCounter(r, "pgcdc_delivery_errors_total",
                                "Events the broker failed to acknowledge");
  snapshot_signals_rejected_ = NewCounter(
      r, "pgcdc_snapshot_signals_rejected_total",
      "Snapshot signals and requested tables refused: unreadable signal, a "
      "table not captured or without a primary key, a failing condition");
  received_lsn_ = NewGauge(
      r, "pgcdc_received_lsn",
      "WAL position of the newest message received from the slot (for a "
      "Commit, the end of its commit record); keepalives do not move it");
  confirmed_lsn_ = NewGauge(
      r, "pgcdc_confirmed_lsn",
      "LSN confirmed to the slot (everything before it is acknowledged)");
  server_lsn_ = NewGauge(r, "pgcdc_server_lsn",
                         "Newest WAL end position the server reported");
  lag_bytes_ = NewGauge(r, "pgcdc_lag_bytes",
                        "Bytes of WAL between the server's position and the "
                        "confirmed position");
  inflight_events_ = NewGauge(r, "pgcdc_inflight_events",
                              "Events produced but not yet acknowledged");
  inflight_bytes_ = NewGauge(r, "pgcdc_inflight_bytes",
                             "Bytes produced but not yet acknowledged");
  behind_source_ms_ = NewGauge(
      r, "pgcdc_behind_source_ms",
      "When the newest confirmed transaction was acknowledged, milliseconds "
      "since its commit");
  commit_to_ack_ =
      &prometheus::BuildHistogram()
           .Name("pgcdc_commit_to_ack_seconds")
           .Help(
               "Seconds from a transaction's commit (its commit timestamp) "
               "until the broker acknowledged all of its events")
           .Register(r)
           .Add({}, CommitToAckBuckets());
  commit_to_ack_max_ =
      NewGauge(r, "pgcdc_commit_to_ack_max_seconds",
               "Largest pgcdc_commit_to_ack_seconds observed since start");
  connected_ = NewGauge(r, "pgcdc_connected",
                        "1 while streaming from the replication slot");
  reconnects_ = NewCounter(r, "pgcdc_reconnects_total",
                           "Replication connections lost and made again");
  streamed_transactions_ = NewCounter(
      r, "pgcdc_streamed_transactions_total",
      "Transactions the server streamed in chunks while they ran (counted "
      "at their Stream Commit)");
  spool_bytes_ = NewGauge(
      r, "pgcdc_stream_spool_bytes",
      "Bytes of open streamed transactions held until their commit, in "
      "memory and in spill files");
  spilled_bytes_ = NewCounter(r, "pgcdc_stream_spilled_bytes_total",
                              "Bytes of streamed transactions written to "
                              "spill files");
  snapshot_rows_family_ = &prometheus::BuildCounter()
                               .Name("pgcdc_snapshot_rows_total")
                               .Help("Rows read by snapshots, by table")
                               .Register(r);
  dead_letters_family_ =
      &prometheus::BuildCounter()
           .Name("pgcdc_dead_letters_total")
           .Help(
               "Events sent to kafka.dead_letter_topic instead of their "
               "table's topic, by table")
           .Register(r);
  snapshot_running_ =
      NewGauge(r, "pgcdc_snapshot_running", "1 while a snapshot is running");
  snapshot_tables_remaining_ =
      NewGauge(r, "pgcdc_snapshot_tables_remaining",
               "Tables the running snapshot has not finished reading");
  snapshot_duration_seconds_ =
      NewGauge(r, "pgcdc_snapshot_duration_seconds",
               "Seconds the running (or the last) snapshot has taken so far");
  slot_retained_wal_bytes_ = NewGauge(
      r, "pgcdc_slot_retained_wal_bytes",
      "WAL the slot retains (pg_current_wal_lsn() - restart_lsn), read from "
      "the server every 10 s; -1 when the server reports none");
  slot_safe_wal_size_bytes_ = NewGauge(
      r, "pgcdc_slot_safe_wal_size_bytes",
      "pg_replication_slots.safe_wal_size: WAL that may still be written "
      "before the slot exceeds max_slot_wal_keep_size; -1 when NULL "
      "(unbounded, or lost)");
  auto& wal_status = prometheus::BuildGauge()
                         .Name("pgcdc_slot_wal_status")
                         .Help(
                             "1 for the slot's current "
                             "pg_replication_slots.wal_status, 0 for the "
                             "others (all 0 when NULL or unknown)")
                         .Register(r);
  for (size_t i = 0; i < std::size(kSlotWalStatuses); ++i) {
    slot_wal_status_[i] =
        &wal_status.Add({{"status", std::string(kSlotWalStatuses[i])}});
  }
  producer_retries_ = NewCounter(
      r, "pgcdc_producer_retries_total",
      "Requests and messages librdkafka sent again, from its statistics: "
      "the brokers' txretries plus the messages each partition transmitted "
      "more than once");
}

Metrics::~Metrics() = default;

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(
    const std::string& listen) {
  std::unique_ptr<Metrics> metrics(new Metrics());
  if (!listen.empty()) {
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> http =
        HttpEndpoint::Start(listen, metrics->registry_, &metrics->health_);
    if (!http.ok()) return http.status();
    metrics->http_ = *std::move(http);
  }
  return metrics;
}

void Metrics::CountEvent(std::string_view schema, std::string_view table,
                         int op) {
  // Events come in runs of one table (a transaction's rows): the run's
  // counters are found by comparing two short strings, without building
  // "schema.table" and hashing it for every event.
  if (last_events_ == nullptr || table != last_table_ ||
      schema != last_schema_) {
    event_table_.clear();
    if (!table.empty()) {
      event_table_.append(schema).append(".").append(table);
    }
    last_events_ = &EventCounters(event_table_);
    last_schema_.assign(schema);
    last_table_.assign(table);
  }
  Increment(*last_events_, event_table_, op);
}

void Metrics::CountEvent(const std::string& table, int op) {
  Increment(EventCounters(table), table, op);
}

Metrics::EventCounterArray& Metrics::EventCounters(const std::string& table) {
  auto it = events_.find(table);
  if (it == events_.end()) {
    it = events_.emplace(table, EventCounterArray{}).first;
  }
  return it->second;
}

void Metrics::Increment(EventCounterArray& counters, const std::string& table,
                        int op) {
  size_t slot = op >= 0 && op < 7 ? static_cast<size_t>(op) : 7;
  prometheus::Counter*& counter = counters[slot];
  if (counter == nullptr) {
    counter = &events_family_->Add({{"table", table}, {"op", OpLabel(op)}});
  }
  counter->Increment();
}

void Metrics::CountTransaction() { transactions_->Increment(); }
void Metrics::CountDeliveryError() { delivery_errors_->Increment(); }

void Metrics::CountSnapshotSignalRejected() {
  snapshot_signals_rejected_->Increment();
}
void Metrics::SetReceivedLsn(uint64_t lsn) {
  received_lsn_->Set(static_cast<double>(lsn));
}
void Metrics::SetConfirmedLsn(uint64_t lsn) {
  confirmed_lsn_value_ = lsn;
  confirmed_lsn_->Set(static_cast<double>(lsn));
  UpdateLag();
}
void Metrics::SetServerLsn(uint64_t lsn) {
  if (lsn <= server_lsn_value_) return;
  server_lsn_value_ = lsn;
  server_lsn_->Set(static_cast<double>(lsn));
  UpdateLag();
}
void Metrics::UpdateLag() {
  lag_bytes_->Set(
      server_lsn_value_ > confirmed_lsn_value_
          ? static_cast<double>(server_lsn_value_ - confirmed_lsn_value_)
          : 0.0);
}
uint64_t Metrics::lag_bytes() const {
  return static_cast<uint64_t>(lag_bytes_->Value());
}
int64_t Metrics::behind_source_ms() const {
  return static_cast<int64_t>(behind_source_ms_->Value());
}
void Metrics::SetInflight(size_t events, size_t bytes) {
  inflight_events_->Set(static_cast<double>(events));
  inflight_bytes_->Set(static_cast<double>(bytes));
}
void Metrics::SetBehindSourceMs(int64_t ms) {
  behind_source_ms_->Set(static_cast<double>(ms));
}
void Metrics::ObserveCommitToAck(double seconds) {
  // The server's clock and ours may disagree a little.
  seconds = std::max(0.0, seconds);
  commit_to_ack_->Observe(seconds);
  if (seconds > commit_to_ack_max_value_) {
    commit_to_ack_max_value_ = seconds;
    commit_to_ack_max_->Set(seconds);
  }
}
void Metrics::CountReconnect() { reconnects_->Increment(); }
void Metrics::CountStreamedTransaction() {
  streamed_transactions_->Increment();
}
void Metrics::SetSpool(size_t bytes, uint64_t spilled_total) {
  spool_bytes_->Set(static_cast<double>(bytes));
  if (spilled_total > spilled_bytes_value_) {
    spilled_bytes_->Increment(
        static_cast<double>(spilled_total - spilled_bytes_value_));
    spilled_bytes_value_ = spilled_total;
  }
}
void Metrics::SetConnected(bool connected) {
  connected_->Set(connected ? 1.0 : 0.0);
}

void Metrics::CountSnapshotRows(const std::string& table, uint64_t rows) {
  prometheus::Counter*& counter = snapshot_rows_[table];
  if (counter == nullptr) {
    counter = &snapshot_rows_family_->Add({{"table", table}});
  }
  counter->Increment(static_cast<double>(rows));
}
void Metrics::CountDeadLetter(const std::string& table) {
  prometheus::Counter*& counter = dead_letters_[table];
  if (counter == nullptr) {
    counter = &dead_letters_family_->Add({{"table", table}});
  }
  counter->Increment();
}
void Metrics::SetSnapshotRunning(bool running) {
  snapshot_running_->Set(running ? 1.0 : 0.0);
}
void Metrics::SetSnapshotTablesRemaining(size_t tables) {
  snapshot_tables_remaining_->Set(static_cast<double>(tables));
}
void Metrics::SetSnapshotDurationSeconds(double seconds) {
  snapshot_duration_seconds_->Set(seconds);
}

void Metrics::SetSlotWal(int64_t retained_wal_bytes,
                         int64_t safe_wal_size_bytes,
                         std::string_view wal_status) {
  slot_retained_wal_bytes_->Set(static_cast<double>(retained_wal_bytes));
  slot_safe_wal_size_bytes_->Set(static_cast<double>(safe_wal_size_bytes));
  for (size_t i = 0; i < std::size(kSlotWalStatuses); ++i) {
    slot_wal_status_[i]->Set(wal_status == kSlotWalStatuses[i] ? 1 : 0);
  }
}

void Metrics::CountProducerRetries(uint64_t retries) {
  if (retries > 0) producer_retries_->Increment(static_cast<double>(retries));
}

std::string Metrics::Render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

int Metrics::port() const { return http_ ? http_->port() : 0; }

}  // namespace cdc::metrics
