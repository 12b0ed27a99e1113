// The one error the value parsers report: text that is not what its type's
// output function prints. kDataLoss, naming the type and quoting (a prefix
// of) the text, so that a corrupt multi-megabyte value cannot flood a log.
//
// Pure; thread-safe.
#ifndef CDC_ENVELOPE_TEXT_ERROR_H_
#define CDC_ENVELOPE_TEXT_ERROR_H_

#include <string_view>

#include "absl/status/status.h"

namespace cdc::envelope {

// "cannot read <type> value "<text>"[: <why>]".
absl::Status BadText(std::string_view type, std::string_view text,
                     std::string_view why = {});

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_TEXT_ERROR_H_
