// Bridges std::string_view and Debian 12's absl::string_view, which is a
// distinct class there (abseil built without ABSL_USES_STD_STRING_VIEW), so
// absl::StrCat, SimpleAtoi and friends do not accept std::string_view.
#ifndef CDC_COMMON_ABSL_COMPAT_H_
#define CDC_COMMON_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace cdc {

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view AsStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace cdc

#endif  // CDC_COMMON_ABSL_COMPAT_H_
