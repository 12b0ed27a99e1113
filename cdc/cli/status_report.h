// The pure half of `pgcdc status`: from the values the server reported
// (pg::SlotState, pg::ServerActivity), decides whether the slot is at risk
// of invalidation and renders the report for a person (text) or a program
// (one JSON object). No I/O; the command (status_command.cc) reads the
// values and prints what these return.
//
// Pure functions and plain value types; thread-safe.
#ifndef CDC_CLI_STATUS_REPORT_H_
#define CDC_CLI_STATUS_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cdc/pg/failover.h"
#include "cdc/pg/slot_state.h"

namespace cdc::cli {

// safe_wal_size below this fraction of max_slot_wal_keep_size: at risk.
inline constexpr double kSafeWalFraction = 0.2;
// An inactive slot retaining at least this much WAL: at risk (nobody
// consumes it, and it grows until the disk or max_slot_wal_keep_size ends
// it).
inline constexpr int64_t kInactiveRetainedBytes = int64_t{1} << 30;  // 1 GiB

struct StatusInput {
  std::string slot;         // source.slot
  std::string publication;  // source.publication
  pg::SlotState state;
  pg::ServerActivity activity;
  // Every host of source.dsn, read for failover readiness (failover.h).
  pg::FailoverInput failover;
};

struct RiskAssessment {
  bool at_risk = false;
  // One sentence each: what is wrong and what to do. Notes that are not a
  // risk (a slot that does not exist yet, a standby) are in `notes`.
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
  // Whether the slot survives a failover. With source.slot_failover set, a
  // "no" is a risk: its reasons are warnings too, and at_risk is set.
  pg::FailoverVerdict failover;
};

RiskAssessment AssessRisk(const StatusInput& in);

// "1.5 MiB": binary units, one decimal below 10 of a unit; below 1 KiB
// (negative counts too) in bytes, "512 B".
std::string FormatByteSize(int64_t bytes);

// The report for a person: several lines, ending in a newline, the last one
// "OK: ..." or "WARNING: ..." lines.
std::string FormatStatusText(const StatusInput& in, const RiskAssessment& risk);

// One JSON object on one line, ending in a newline. Field names are stable
// (docs/operations.md lists them); absent values are null.
std::string FormatStatusJson(const StatusInput& in, const RiskAssessment& risk);

}  // namespace cdc::cli

#endif  // CDC_CLI_STATUS_REPORT_H_
