#include "cdc/pg/sqlstate.h"

#include "absl/strings/cord.h"
#include "cdc/common/absl_compat.h"

namespace cdc::pg {

absl::StatusCode StatusCodeForSqlState(std::string_view s) {
  if (s.empty()) return absl::StatusCode::kUnavailable;
  if (s == kInsufficientPrivilege) return absl::StatusCode::kPermissionDenied;
  if (s == kUndefinedTable || s == kUndefinedObject ||
      s == kInvalidCatalogName) {
    return absl::StatusCode::kNotFound;
  }
  if (s == kDuplicateObject || s == kDuplicateTable) {
    return absl::StatusCode::kAlreadyExists;
  }
  if (s == kObjectInUse) return absl::StatusCode::kFailedPrecondition;
  // query_canceled: statement_timeout, or Cancel().
  if (s == kQueryCanceled) return absl::StatusCode::kDeadlineExceeded;
  // lock_not_available (lock_timeout, NOWAIT): worth trying again.
  if (s == kLockNotAvailable) return absl::StatusCode::kUnavailable;
  const std::string_view error_class = s.substr(0, 2);
  // Class 40, transaction rollback (serialization failure, deadlock): the
  // transaction may succeed when run again.
  if (error_class == "40") return absl::StatusCode::kAborted;
  if (error_class == "08" || error_class == "57") {
    return absl::StatusCode::kUnavailable;  // connection / operator action
  }
  if (error_class == "53") return absl::StatusCode::kResourceExhausted;
  if (error_class == "55") return absl::StatusCode::kFailedPrecondition;
  if (error_class == "42" || error_class == "22") {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kInternal;
}

absl::Status SqlError(std::string_view sqlstate, std::string_view message) {
  absl::Status status(StatusCodeForSqlState(sqlstate), AsAbsl(message));
  if (!sqlstate.empty()) {
    status.SetPayload(kSqlStatePayloadUrl, absl::Cord(AsAbsl(sqlstate)));
  }
  return status;
}

std::string SqlStateOf(const absl::Status& status) {
  auto payload = status.GetPayload(kSqlStatePayloadUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

}  // namespace cdc::pg
