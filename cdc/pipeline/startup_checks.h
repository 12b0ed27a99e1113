// Startup checks of the Pipeline that need no I/O: what Prepare() decides
// from facts it read from the server and the catalog (cdc/pg/catalog.h),
// kept apart so that they are tested from values.
//
// Free functions over values; thread-safe.
#ifndef CDC_PIPELINE_STARTUP_CHECKS_H_
#define CDC_PIPELINE_STARTUP_CHECKS_H_

#include <chrono>
#include <string>
#include <vector>

#include "cdc/pg/catalog.h"

namespace cdc::pipeline {

struct StatusInterval {
  std::chrono::milliseconds interval{10000};
  // Shortened to a quarter of the server's wal_sender_timeout.
  bool capped = false;
};

// How often standby status updates are sent: source.status_interval_ms,
// capped to a quarter of the server's wal_sender_timeout (0: none), but not
// below 100 ms, so that the server never gives up on a pgcdc that is busy
// (or held back by the broker) and not reading keepalives.
StatusInterval ChooseStatusInterval(int configured_ms,
                                    int wal_sender_timeout_ms);

// One warning per table whose replica identity and key make its events
// less than complete: REPLICA IDENTITY NOTHING (PostgreSQL refuses UPDATE
// and DELETE on it while published), or no primary key (a null Kafka key,
// and no old image unless FULL).
std::vector<std::string> ReplicaIdentityWarnings(
    const std::vector<pg::TableInfo>& tables);

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_STARTUP_CHECKS_H_
