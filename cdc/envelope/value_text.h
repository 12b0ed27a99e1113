// ValueToPgText: a cdc.v1.Value back to the text PostgreSQL prints for it
// under pgcdc's replication session settings (connection.h) — the inverse
// of the value codec, so that `TextToValue` then `ValueToPgText` gives back
// the server's text byte for byte. It shows that no case loses anything,
// and lets a consumer write a value back with `'<text>'::type`.
//
// What the Value alone does not say comes from the type name: a double is
// printed as float4 when `type` is "float4" (shortest digits for a 32-bit
// float) and as float8 otherwise; an array's elements are split by ';' when
// its element_type is "box", by ',' otherwise.
//
// Pure functions; thread-safe.
#ifndef CDC_ENVELOPE_VALUE_TEXT_H_
#define CDC_ENVELOPE_VALUE_TEXT_H_

#include <optional>
#include <string>
#include <string_view>

#include "cdc/v1/change_event.pb.h"

namespace cdc::envelope {

// nullopt for null and unchanged_toast (no text exists) and for an unset
// Value. `type` is Column.type (or base_type for a domain).
std::optional<std::string> ValueToPgText(const v1::Value& value,
                                         std::string_view type = {});

// float8out / float4out with extra_float_digits > 0: the shortest digits
// that read back exactly, fixed-point when the decimal exponent is in
// [-4, 15) (float4: [-4, 6)), else d.ddde±XX.
std::string FormatFloat8(double value);
std::string FormatFloat4(float value);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_VALUE_TEXT_H_
