// Status helpers shared by the subsystems.
//
// Pure, header-only, thread-safe.
#ifndef CDC_COMMON_STATUS_H_
#define CDC_COMMON_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc {

// `status` with `message` in place of its own, the same code and the same
// payloads (the SQLSTATE of a server error, the Kafka error code, ...), so
// that the caller's caller can still test the condition. OK stays OK.
inline absl::Status WithMessage(const absl::Status& status,
                                std::string_view message) {
  if (status.ok()) return status;
  absl::Status replaced(status.code(), AsAbsl(message));
  status.ForEachPayload(
      [&replaced](absl::string_view type_url, const absl::Cord& payload) {
        replaced.SetPayload(type_url, payload);
      });
  return replaced;
}

// `status` with `prefix` before its message and the same code and payloads,
// so that a caller can say where an error happened without changing what
// kind it is. OK stays OK.
inline absl::Status WithPrefix(const absl::Status& status,
                               std::string_view prefix) {
  if (status.ok()) return status;
  return WithMessage(status, absl::StrCat(AsAbsl(prefix), status.message()));
}

}  // namespace cdc

#endif  // CDC_COMMON_STATUS_H_
