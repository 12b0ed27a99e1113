#include "cdc/envelope/text_error.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc::envelope {
namespace {

// Long enough to recognise the value in a log line, short enough that a
// corrupt multi-megabyte value does not flood it.
constexpr size_t kMaxQuotedText = 64;

}  // namespace

absl::Status BadText(std::string_view type, std::string_view text,
                     std::string_view why) {
  std::string quoted = absl::CEscape(AsAbsl(text.substr(0, kMaxQuotedText)));
  if (text.size() > kMaxQuotedText) absl::StrAppend(&quoted, "...");
  return absl::DataLossError(
      absl::StrCat("cannot read ", AsAbsl(type), " value \"", quoted, "\"",
                   why.empty() ? "" : ": ", AsAbsl(why)));
}

}  // namespace cdc::envelope
