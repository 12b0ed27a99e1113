// Status helpers shared by the subsystems.
//
// Pure, header-only, thread-safe.
#ifndef CDC_COMMON_STATUS_H_
#define CDC_COMMON_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc {

// `status` with `prefix` before its message and the same code, so that a
// caller can say where an error happened without changing what kind it is.
// OK stays OK.
inline absl::Status WithPrefix(const absl::Status& status,
                               std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(AsAbsl(prefix), status.message()));
}

}  // namespace cdc

#endif  // CDC_COMMON_STATUS_H_
