// PostgreSQL's SQLSTATE error codes and what they become in absl::Status:
// the one place that maps a server error's condition to a status code.
//
// An error from the server becomes a Status whose code says what a caller
// may do about it (kUnavailable: try again, kPermissionDenied: grant, ...)
// and whose payload keeps the SQLSTATE itself, so that a caller that must
// tell one condition from another of the same code (a replication slot in
// use by another session, say) tests the condition, not the message text,
// which the server translates with lc_messages.
//
// Pure (no libpq) and stateless; thread-safe.
#ifndef CDC_PG_SQLSTATE_H_
#define CDC_PG_SQLSTATE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdc::pg {

// The SQLSTATE codes pgcdc names (PostgreSQL's src/backend/utils/errcodes.txt).
inline constexpr std::string_view kInsufficientPrivilege = "42501";
inline constexpr std::string_view kUndefinedTable = "42P01";
inline constexpr std::string_view kUndefinedObject = "42704";
inline constexpr std::string_view kInvalidCatalogName = "3D000";
inline constexpr std::string_view kDuplicateObject = "42710";
inline constexpr std::string_view kDuplicateTable = "42P07";
// Among others: a replication slot active for another process's PID.
inline constexpr std::string_view kObjectInUse = "55006";
inline constexpr std::string_view kLockNotAvailable = "55P03";
inline constexpr std::string_view kQueryCanceled = "57014";

// The type URL of the payload that holds a Status's SQLSTATE.
inline constexpr char kSqlStatePayloadUrl[] = "pgcdc/pg.sqlstate";

// The status code for an error with `sqlstate`; an empty one (an error
// libpq reports without a server's SQLSTATE, such as a lost connection) is
// kUnavailable.
absl::StatusCode StatusCodeForSqlState(std::string_view sqlstate);

// An error with StatusCodeForSqlState(sqlstate), `message`, and `sqlstate`
// as its payload (none when it is empty).
absl::Status SqlError(std::string_view sqlstate, std::string_view message);

// The SQLSTATE a Status carries, or "" when it carries none (OK, or not an
// error from the server).
std::string SqlStateOf(const absl::Status& status);

}  // namespace cdc::pg

#endif  // CDC_PG_SQLSTATE_H_
