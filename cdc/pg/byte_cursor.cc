#include "cdc/pg/byte_cursor.h"

#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc::pg {

absl::Status ByteCursor::ShortRead(std::string_view field,
                                   size_t needed) const {
  return absl::DataLossError(
      absl::StrCat("truncated input reading ", AsAbsl(field), ": need ", needed,
                   " bytes at offset ", pos_, ", only ", remaining(), " left"));
}

absl::Status ByteCursor::Unterminated(std::string_view field) const {
  return absl::DataLossError(absl::StrCat(
      "truncated input reading ", AsAbsl(field), ": no NUL terminator in the ",
      remaining(), " bytes from offset ", pos_));
}

}  // namespace cdc::pg
