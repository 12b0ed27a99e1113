// SlotState: a replication slot as the server reports it right now — the
// row of pg_replication_slots, the server's WAL position and its
// max_slot_wal_keep_size — for `pgcdc status` and the slot metrics of
// `pgcdc run`. Everything is read from the server, nothing derived by pgcdc:
// retained WAL and lag are pg_wal_lsn_diff() on the server.
//
// ReadSlotState and ReadServerActivity run one query each on a
// SqlConnection; ParseSlotStateRow and ParseCopyProgressRow are the pure
// halves that validate a returned row (NULLs are normal: an inactive slot
// has no active_pid, a slot that never reserved WAL has no restart_lsn, a
// server without a limit has no safe_wal_size). A row that is not what the
// query asks for (a non-numeric number, a malformed LSN, a boolean that is
// neither t nor f) is kInternal naming the column.
//
// Plain value types and free functions; thread-compatible (a SqlConnection
// has one owner).
#ifndef CDC_PG_SLOT_STATE_H_
#define CDC_PG_SLOT_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/connection.h"

namespace cdc::pg {

// pg_replication_slots.wal_status (PostgreSQL 13 and later).
enum class WalStatus {
  kNull,        // NULL: the slot never reserved WAL (or no slot)
  kReserved,    // within max_wal_size
  kExtended,    // beyond max_wal_size, kept by the slot (within the limit)
  kUnreserved,  // beyond max_slot_wal_keep_size: removed at a checkpoint
  kLost,        // removed: the slot is invalidated and cannot stream
  kOther,       // a value this pgcdc does not know (a newer server)
};
// The four statuses PostgreSQL 15 knows, in order of risk: the label values
// of pgcdc_slot_wal_status.
inline constexpr WalStatus kKnownWalStatuses[] = {
    WalStatus::kReserved, WalStatus::kExtended, WalStatus::kUnreserved,
    WalStatus::kLost};
// "reserved", ...; "" for kNull, "other" for kOther.
std::string_view WalStatusName(WalStatus status);

struct SlotState {
  // The server's current WAL position (pg_current_wal_lsn(), or on a
  // standby pg_last_wal_replay_lsn()) and whether it is a standby.
  Lsn server_lsn = kInvalidLsn;
  bool in_recovery = false;
  // max_slot_wal_keep_size in bytes: -1 unbounded (the default); nullopt on
  // a server without the setting.
  std::optional<int64_t> max_slot_wal_keep_size;

  bool exists = false;    // nothing below is set when false
  std::string plugin;     // "pgoutput" for pgcdc's slots
  std::string slot_type;  // "logical" for pgcdc's slots
  std::string database;   // the slot's database ("" for a physical slot)
  bool temporary = false;
  bool active = false;
  std::optional<int64_t> active_pid;  // the walsender streaming from it
  std::optional<Lsn> restart_lsn;
  std::optional<Lsn> confirmed_flush_lsn;
  WalStatus wal_status = WalStatus::kNull;
  std::string wal_status_text;  // as the server wrote it
  // Bytes that may still be written before the slot is at risk; NULL (here
  // nullopt) when max_slot_wal_keep_size is -1 or the slot is lost.
  std::optional<int64_t> safe_wal_size;
  // pg_wal_lsn_diff(server_lsn, restart_lsn): the WAL the slot keeps.
  std::optional<int64_t> retained_wal_bytes;
  // pg_wal_lsn_diff(server_lsn, confirmed_flush_lsn): what the slot's
  // consumer has not confirmed yet.
  std::optional<int64_t> lag_bytes;
};

// The columns of the query ReadSlotState runs, in order (for tests).
inline constexpr int kSlotStateColumns = 16;

// Validates one row of ReadSlotState's query.
absl::StatusOr<SlotState> ParseSlotStateRow(const SqlRow& row);

// Reads `slot`'s state (exists == false when there is none). Errors are the
// connection's (SQLSTATE mapped; kUnavailable for a lost connection) or
// kInternal for a row the server should not have sent.
absl::StatusOr<SlotState> ReadSlotState(SqlConnection& conn,
                                        const std::string& slot);

// A COPY ... TO running on the server for this database in a session whose
// application_name is "pgcdc" (pg_stat_progress_copy): a snapshot, initial
// or incremental, reading a table. The journal of a snapshot lives in the
// WAL as logical decoding messages (cdc/snapshot/snapshot_journal.h), which
// only a client decoding the slot can read; this is what the server itself
// shows of a snapshot in progress.
struct CopyProgress {
  int64_t pid = 0;
  std::string table;  // "schema.table"; "" when the relation is gone
  int64_t tuples_processed = 0;
  int64_t bytes_processed = 0;
};

absl::StatusOr<CopyProgress> ParseCopyProgressRow(const SqlRow& row);

// The server's view of pgcdc in this database: whether `publication`
// exists, and the snapshot COPYs in progress.
struct ServerActivity {
  bool publication_exists = false;
  std::vector<CopyProgress> copies;
};
absl::StatusOr<ServerActivity> ReadServerActivity(
    SqlConnection& conn, const std::string& publication);

}  // namespace cdc::pg

#endif  // CDC_PG_SLOT_STATE_H_
