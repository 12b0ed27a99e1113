// SlotMonitor: while `pgcdc run` runs, reads the replication slot's state
// from the server every kInterval (pg::ReadSlotState, the query `pgcdc
// status` runs) and exports it as the pgcdc_slot_* metrics.
//
// It has a thread and an ordinary (non-replication) connection of its own,
// so the streaming loop never waits for it: a slow or failing query is the
// monitor's alone — it logs a warning, drops the connection, and tries
// again (reconnecting) at the next interval. Each query runs under a
// statement_timeout of kQueryTimeout.
//
// Stopping (Stop or the destructor) wakes the thread, aborts a query in
// progress (shuts its socket down: a query blocked on a silent network
// ends too) and joins it; only a connection attempt in progress is waited
// for, at most the connect timeout every pgcdc session has (10 s,
// connection.cc), and only when the server does not answer. While running,
// a query blocked on a silent network leaves the gauges at their last
// values until TCP gives up on the connection.
//
// Owns its thread and connection; borrows the metrics, which must outlive
// it. Stop is safe to call from any one thread.
#ifndef CDC_PIPELINE_SLOT_MONITOR_H_
#define CDC_PIPELINE_SLOT_MONITOR_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "cdc/metrics/metrics.h"
#include "cdc/pg/connection.h"

namespace cdc::pipeline {

class SlotMonitor {
 public:
  static constexpr std::chrono::seconds kInterval{10};
  static constexpr std::chrono::seconds kQueryTimeout{5};

  // Starts the thread; the first reading is taken at once.
  SlotMonitor(std::string dsn, std::string slot, metrics::Metrics* metrics,
              std::chrono::milliseconds interval = kInterval);
  ~SlotMonitor();
  SlotMonitor(const SlotMonitor&) = delete;
  SlotMonitor& operator=(const SlotMonitor&) = delete;

  void Stop();

 private:
  void Loop();
  // One reading: connects when needed, reads, sets the metrics.
  absl::Status ReadOnce();

  const std::string dsn_;
  const std::string slot_;
  metrics::Metrics* const metrics_;
  const std::chrono::milliseconds interval_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;                        // guarded by mu_
  std::unique_ptr<pg::SqlConnection> conn_;  // replaced under mu_
  std::thread thread_;
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_SLOT_MONITOR_H_
