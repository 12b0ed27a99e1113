#include "cdc/pg/slot_state.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cdc::pg {
namespace {

// The slot's row joined to the server's position and limit: one row even
// when there is no slot (then the slot's columns are NULL). On a standby
// pg_current_wal_lsn() fails, so the replay position stands for it.
constexpr char kSlotStateQuery[] =
    "WITH server AS (SELECT pg_is_in_recovery() AS standby, "
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END AS lsn) "
    "SELECT server.lsn, server.standby, "
    "pg_size_bytes(current_setting('max_slot_wal_keep_size', true)), "
    "s.slot_name IS NOT NULL, s.plugin, s.slot_type, d.datname, s.temporary, "
    "s.active, s.active_pid, s.restart_lsn, s.confirmed_flush_lsn, "
    "s.wal_status, s.safe_wal_size, "
    "pg_wal_lsn_diff(server.lsn, s.restart_lsn)::bigint, "
    "pg_wal_lsn_diff(server.lsn, s.confirmed_flush_lsn)::bigint "
    "FROM server LEFT JOIN pg_replication_slots s ON s.slot_name = $1 "
    "LEFT JOIN pg_database d ON d.oid = s.datoid";

// Column names for error messages, in the query's order.
constexpr const char* kSlotColumnNames[kSlotStateColumns] = {
    "pg_current_wal_lsn",
    "pg_is_in_recovery",
    "max_slot_wal_keep_size",
    "exists",
    "plugin",
    "slot_type",
    "database",
    "temporary",
    "active",
    "active_pid",
    "restart_lsn",
    "confirmed_flush_lsn",
    "wal_status",
    "safe_wal_size",
    "retained WAL",
    "lag"};

absl::Status Malformed(const char* column,
                       const std::optional<std::string>& v) {
  // The value is not quoted: it came from the server and may be anything.
  return absl::InternalError(
      absl::StrCat("the server answered a malformed ", column,
                   v.has_value() ? absl::StrCat(" (", v->size(), " bytes)")
                                 : std::string(" (NULL)")));
}

absl::Status ReadBool(const std::optional<std::string>& v, const char* column,
                      bool* out) {
  if (v == "t") {
    *out = true;
  } else if (v == "f") {
    *out = false;
  } else {
    return Malformed(column, v);
  }
  return absl::OkStatus();
}

// NULL stays nullopt; anything else must be an int64.
absl::Status ReadInt(const std::optional<std::string>& v, const char* column,
                     std::optional<int64_t>* out) {
  out->reset();
  if (!v.has_value()) return absl::OkStatus();
  int64_t n = 0;
  if (!absl::SimpleAtoi(*v, &n)) return Malformed(column, v);
  *out = n;
  return absl::OkStatus();
}

absl::Status ReadLsn(const std::optional<std::string>& v, const char* column,
                     std::optional<Lsn>* out) {
  out->reset();
  if (!v.has_value()) return absl::OkStatus();
  absl::StatusOr<Lsn> lsn = ParseLsn(*v);
  if (!lsn.ok()) return Malformed(column, v);
  *out = *lsn;
  return absl::OkStatus();
}

WalStatus ToWalStatus(const std::optional<std::string>& v) {
  if (!v.has_value()) return WalStatus::kNull;
  for (WalStatus s : kKnownWalStatuses) {
    if (*v == WalStatusName(s)) return s;
  }
  return WalStatus::kOther;
}

}  // namespace

std::string_view WalStatusName(WalStatus status) {
  switch (status) {
    case WalStatus::kNull:
      return "";
    case WalStatus::kReserved:
      return "reserved";
    case WalStatus::kExtended:
      return "extended";
    case WalStatus::kUnreserved:
      return "unreserved";
    case WalStatus::kLost:
      return "lost";
    case WalStatus::kOther:
      return "other";
  }
  return "other";
}

absl::StatusOr<SlotState> ParseSlotStateRow(const SqlRow& row) {
  if (row.size() != kSlotStateColumns) {
    return absl::InternalError(absl::StrCat("the slot query returned ",
                                            row.size(), " columns, not ",
                                            kSlotStateColumns));
  }
  const auto* name = kSlotColumnNames;
  SlotState s;
  std::optional<Lsn> server_lsn;
  if (absl::Status st = ReadLsn(row[0], name[0], &server_lsn); !st.ok()) {
    return st;
  }
  // A standby that has replayed nothing yet has no replay position.
  s.server_lsn = server_lsn.value_or(kInvalidLsn);
  if (absl::Status st = ReadBool(row[1], name[1], &s.in_recovery); !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadInt(row[2], name[2], &s.max_slot_wal_keep_size);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadBool(row[3], name[3], &s.exists); !st.ok()) {
    return st;
  }
  if (!s.exists) return s;
  s.plugin = row[4].value_or("");
  s.slot_type = row[5].value_or("");
  s.database = row[6].value_or("");
  if (absl::Status st = ReadBool(row[7], name[7], &s.temporary); !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadBool(row[8], name[8], &s.active); !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadInt(row[9], name[9], &s.active_pid); !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadLsn(row[10], name[10], &s.restart_lsn); !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadLsn(row[11], name[11], &s.confirmed_flush_lsn);
      !st.ok()) {
    return st;
  }
  s.wal_status = ToWalStatus(row[12]);
  s.wal_status_text = row[12].value_or("");
  if (absl::Status st = ReadInt(row[13], name[13], &s.safe_wal_size);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadInt(row[14], name[14], &s.retained_wal_bytes);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadInt(row[15], name[15], &s.lag_bytes); !st.ok()) {
    return st;
  }
  return s;
}

absl::StatusOr<SlotState> ReadSlotState(SqlConnection& conn,
                                        const std::string& slot) {
  absl::StatusOr<std::vector<SqlRow>> rows =
      conn.Query(kSlotStateQuery, {slot});
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1) {
    return absl::InternalError(absl::StrCat("the slot query returned ",
                                            rows->size(), " rows, not one"));
  }
  return ParseSlotStateRow(rows->front());
}

absl::StatusOr<CopyProgress> ParseCopyProgressRow(const SqlRow& row) {
  if (row.size() != 4) {
    return absl::InternalError(absl::StrCat("the COPY progress query returned ",
                                            row.size(), " columns, not 4"));
  }
  CopyProgress c;
  std::optional<int64_t> n;
  if (absl::Status st = ReadInt(row[0], "pid", &n); !st.ok()) return st;
  if (!n) return Malformed("pid", row[0]);
  c.pid = *n;
  c.table = row[1].value_or("");
  if (absl::Status st = ReadInt(row[2], "tuples_processed", &n); !st.ok()) {
    return st;
  }
  c.tuples_processed = n.value_or(0);
  if (absl::Status st = ReadInt(row[3], "bytes_processed", &n); !st.ok()) {
    return st;
  }
  c.bytes_processed = n.value_or(0);
  return c;
}

absl::StatusOr<ServerActivity> ReadServerActivity(
    SqlConnection& conn, const std::string& publication) {
  ServerActivity out;
  absl::StatusOr<std::vector<SqlRow>> pub = conn.Query(
      "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)",
      {publication});
  if (!pub.ok()) return pub.status();
  if (pub->size() != 1 || pub->front().size() != 1) {
    return absl::InternalError("the publication query returned no row");
  }
  if (absl::Status st = ReadBool(pub->front()[0], "publication exists",
                                 &out.publication_exists);
      !st.ok()) {
    return st;
  }
  // A snapshot reads with COPY (SELECT ...) TO STDOUT, whose relid is 0: the
  // server does not name the table then.
  absl::StatusOr<std::vector<SqlRow>> copies = conn.Query(
      "SELECT p.pid, CASE WHEN p.relid = 0 THEN NULL ELSE "
      "p.relid::regclass::text END, p.tuples_processed, p.bytes_processed "
      "FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid "
      "WHERE p.datname = current_database() AND a.application_name = 'pgcdc' "
      "AND p.command = 'COPY TO' ORDER BY p.pid");
  if (!copies.ok()) return copies.status();
  for (const SqlRow& row : *copies) {
    absl::StatusOr<CopyProgress> c = ParseCopyProgressRow(row);
    if (!c.ok()) return c.status();
    out.copies.push_back(*std::move(c));
  }
  return out;
}

}  // namespace cdc::pg
