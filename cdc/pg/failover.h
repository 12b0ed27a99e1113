// Failover readiness: whether pgcdc's slot survives the promotion of a
// physical standby (PostgreSQL 17+ failover slots), decided from values the
// servers reported. `pgcdc check` and `pgcdc status` read those values from
// every host of source.dsn (failover_probe.h, the I/O half) and print what
// AssessFailover returns.
//
// The slot survives when, on the primary, it has failover = true and
// synchronized_standby_slots names physical slots that exist and are active
// (so that pgcdc is never sent a change those standbys have not flushed, and
// a promoted standby's copy of the slot is never behind what pgcdc
// published), and at least one standby streams from one of those slots with
// sync_replication_slots = on, hot_standby_feedback = on, a primary_slot_name
// and a dbname in primary_conninfo, and holds the slot with synced = true.
// A standby cannot be read from the primary, so a standby that is not in
// source.dsn is not seen: the verdict is then "no" with that reason.
//
// Plain value types and a pure function; thread-safe.
#ifndef CDC_PG_FAILOVER_H_
#define CDC_PG_FAILOVER_H_

#include <optional>
#include <string>
#include <vector>

#include "cdc/common/lsn.h"

namespace cdc::pg {

// A physical slot named by the primary's synchronized_standby_slots, as the
// primary's pg_replication_slots shows it.
struct StandbySlotState {
  std::string name;
  bool exists = false;
  bool physical = false;  // slot_type = 'physical'
  bool active = false;    // a standby streams from it
};

// One host of source.dsn, as a session on it (target_session_attrs=any)
// read it.
struct HostFailoverState {
  std::string endpoint;  // "host:port", for the report
  // Non-empty: the host could not be reached or read (and nothing below is
  // set). Reported, not fatal.
  std::string error;
  int server_version_num = 0;
  bool in_recovery = false;  // pg_is_in_recovery(): a standby

  // pgcdc's slot on this host.
  bool slot_exists = false;
  std::optional<bool> slot_failover;  // nullopt before 17
  std::optional<bool> slot_synced;    // nullopt before 17
  bool slot_invalidated = false;      // invalidation_reason / wal_status lost
  std::optional<Lsn> slot_confirmed_flush;

  // A primary's synchronized_standby_slots (17+; empty when unset) and each
  // named slot as this host sees it.
  std::vector<StandbySlotState> synchronized_standby_slots;

  // A standby's settings (17+ for sync_replication_slots). nullopt: the
  // server has no such setting, or the role may not read it
  // (primary_conninfo is readable only with pg_read_all_settings).
  std::optional<bool> sync_replication_slots;
  std::optional<bool> hot_standby_feedback;
  std::string primary_slot_name;
  std::optional<bool> primary_conninfo_has_dbname;
};

struct FailoverInput {
  std::string slot;                      // source.slot
  bool slot_failover = false;            // source.slot_failover
  std::vector<HostFailoverState> hosts;  // source.dsn's, in its order
};

struct FailoverVerdict {
  // The slot survives the promotion of at least one of the standbys read.
  bool survives = false;
  // Why not (each says what to change), when !survives.
  std::vector<std::string> reasons;
  // The standbys ready to be promoted ("host:port").
  std::vector<std::string> ready_standbys;
  // What is not a reason: unreachable hosts, standbys that are not ready
  // while another is.
  std::vector<std::string> notes;
};

FailoverVerdict AssessFailover(const FailoverInput& in);

// Why `host`, a standby, would not keep the slot if promoted (empty: it
// would). `primary` is the primary read at the same time, or null.
std::vector<std::string> StandbyProblems(const HostFailoverState& host,
                                         const HostFailoverState* primary,
                                         const std::string& slot);

}  // namespace cdc::pg

#endif  // CDC_PG_FAILOVER_H_
