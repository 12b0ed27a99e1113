#include "cdc/snapshot/signal_writer.h"

#include <openssl/rand.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status.h"
#include "cdc/pg/catalog.h"
#include "cdc/snapshot/signal.h"

namespace cdc::snapshot {
namespace {

constexpr size_t kKeyBytes = 32;
// pg_advisory_xact_lock's key for making the key: "pgcdcsk1" as a bigint.
constexpr char kKeyLock[] = "8099551737665514289";

// The database's key, if this role has one.
absl::StatusOr<std::optional<std::string>> FindKey(pg::SqlConnection& sql) {
  absl::StatusOr<std::vector<pg::SqlRow>> rows = sql.Query(
      "SELECT encode(lo_get(m.oid), 'hex') FROM pg_largeobject_metadata m "
      "JOIN pg_description d ON d.objoid = m.oid AND d.objsubid = 0 "
      "AND d.classoid = 'pg_largeobject'::regclass "
      "WHERE m.lomowner = (SELECT oid FROM pg_roles WHERE rolname = "
      "current_user) AND d.description = $1 ORDER BY m.oid LIMIT 1",
      {kSignalKeyComment});
  if (!rows.ok()) {
    return WithPrefix(rows.status(), "cannot read pgcdc's signal key: ");
  }
  if (rows->empty() || !rows->front()[0].has_value()) return std::nullopt;
  std::string key = absl::HexStringToBytes(*rows->front()[0]);
  if (key.size() != kKeyBytes) {
    return absl::DataLossError(absl::StrCat(
        "pgcdc's signal key (the large object commented \"", kSignalKeyComment,
        "\") holds ", key.size(), " bytes, not ", kKeyBytes,
        "; drop it (SELECT lo_unlink(oid)) when no snapshot runs, and pgcdc "
        "makes a new one"));
  }
  return key;
}

absl::StatusOr<std::string> MakeKey(pg::SqlConnection& sql) {
  unsigned char bytes[kKeyBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("no random bytes for the signal key");
  }
  const std::string key(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  // One maker at a time, so that two pgcdc starting together agree.
  if (absl::Status s =
          sql.Query(absl::StrCat("BEGIN; SET LOCAL lock_timeout = '30s'; "
                                 "SELECT pg_advisory_xact_lock(",
                                 kKeyLock, ")"))
              .status();
      !s.ok()) {
    (void)sql.Query("ROLLBACK");
    return WithPrefix(s, "cannot make pgcdc's signal key: ");
  }
  auto fail = [&](const absl::Status& s) {
    (void)sql.Query("ROLLBACK");
    return WithPrefix(s, "cannot make pgcdc's signal key: ");
  };
  absl::StatusOr<std::optional<std::string>> found = FindKey(sql);
  if (!found.ok()) return fail(found.status());
  if (found->has_value()) {
    (void)sql.Query("ROLLBACK");
    return **found;
  }
  absl::StatusOr<std::vector<pg::SqlRow>> made =
      sql.Query("SELECT lo_from_bytea(0, decode($1, 'hex'))::text",
                {absl::BytesToHexString(key)});
  if (!made.ok()) return fail(made.status());
  uint64_t oid = 0;
  if (made->size() != 1 || !made->front()[0].has_value() ||
      !absl::SimpleAtoi(*made->front()[0], &oid)) {
    return fail(absl::DataLossError("lo_from_bytea returned no OID"));
  }
  if (absl::Status s =
          sql.Query(absl::StrCat("COMMENT ON LARGE OBJECT ", oid, " IS ",
                                 sql.QuoteLiteral(kSignalKeyComment),
                                 "; COMMIT"))
              .status();
      !s.ok()) {
    return fail(s);
  }
  return key;
}

}  // namespace

absl::StatusOr<SignalKeys> LoadSignalKeys(pg::SqlConnection& sql,
                                          const config::SignalsConfig& signals,
                                          bool create) {
  absl::StatusOr<std::optional<std::string>> found = FindKey(sql);
  if (!found.ok()) return found.status();
  std::vector<std::string> keys;
  if (!signals.secret.empty()) keys.push_back(signals.secret);
  if (found->has_value()) {
    keys.push_back(**found);
  } else if (keys.empty()) {
    if (!create) {
      return absl::NotFoundError(
          "pgcdc has no signal key in this database yet (signals.secret is "
          "not set, and pgcdc run makes one when it starts)");
    }
    absl::StatusOr<std::string> made = MakeKey(sql);
    if (!made.ok()) return made.status();
    keys.push_back(*std::move(made));
  }
  return SignalKeys(std::move(keys));
}

absl::StatusOr<Lsn> WriteSignal(pg::SqlConnection& sql, const SignalKeys& keys,
                                v1::SnapshotSignal signal) {
  auto fail = [&](const absl::Status& s) {
    (void)sql.Query("ROLLBACK");
    return s;
  };
  absl::StatusOr<std::vector<pg::SqlRow>> xid =
      sql.Query("BEGIN; SELECT (txid_current() % 4294967296)::text");
  if (!xid.ok()) return fail(xid.status());
  uint32_t id = 0;
  if (xid->size() != 1 || !xid->front()[0].has_value() ||
      !absl::SimpleAtoi(*xid->front()[0], &id)) {
    return fail(absl::DataLossError("txid_current returned no id"));
  }
  signal.set_xid(id);
  absl::StatusOr<Lsn> lsn = pg::EmitLogicalMessage(
      sql, kSignalPrefix, keys.Seal(FormatSignal(signal)),
      /*transactional=*/true);
  if (!lsn.ok()) return fail(lsn.status());
  if (absl::Status s = sql.Query("COMMIT").status(); !s.ok()) return fail(s);
  return lsn;
}

std::string NewRequestId(std::string_view prefix) {
  absl::BitGen gen;
  return absl::StrCat(AsAbsl(prefix), "-", absl::ToUnixSeconds(absl::Now()),
                      "-", absl::Hex(absl::Uniform<uint32_t>(gen)));
}

}  // namespace cdc::snapshot
