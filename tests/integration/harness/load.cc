#include "tests/integration/harness/load.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "cdc/pg/connection.h"

namespace cdc::testing {

Load::Load(std::string dsn, ChangeFn change, int pause_ms)
    : dsn_(std::move(dsn)),
      change_(std::move(change)),
      pause_ms_(pause_ms),
      thread_([this] { Run(); }) {}

Load::~Load() { Stop(); }

void Load::Stop() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
}

void Load::Run() {
  std::mt19937 rng(7);
  std::unique_ptr<pg::SqlConnection> conn;
  for (int i = 0; !done_; ++i) {
    if (conn == nullptr) {
      absl::StatusOr<std::unique_ptr<pg::SqlConnection>> c =
          pg::SqlConnection::Connect(dsn_);
      if (!c.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      conn = *std::move(c);
    }
    if (conn->Query(change_(rng, i)).ok()) {
      ++committed_;
    } else {
      ++failed_;
      conn.reset();  // the server may be gone: connect again
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms_));
  }
}

}  // namespace cdc::testing
