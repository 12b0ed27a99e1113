#include "cdc/common/lsn.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cdc/common/absl_compat.h"

namespace cdc {

std::string FormatLsn(Lsn lsn) {
  return absl::StrFormat("%X/%X", static_cast<uint32_t>(lsn >> 32),
                         static_cast<uint32_t>(lsn));
}

absl::StatusOr<Lsn> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  uint32_t hi = 0, lo = 0;
  if (slash == std::string_view::npos || slash == 0 ||
      slash + 1 == text.size() ||
      !absl::SimpleHexAtoi(AsAbsl(text.substr(0, slash)), &hi) ||
      !absl::SimpleHexAtoi(AsAbsl(text.substr(slash + 1)), &lo)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an LSN (expected X/Y in hex): \"", AsAbsl(text), "\""));
  }
  return (static_cast<Lsn>(hi) << 32) | lo;
}

}  // namespace cdc
