// Value codec: one pgoutput column value → one cdc.v1.Value.
//
// pgoutput sends values in their type's text output form, which pgcdc makes
// deterministic by the settings of its replication session (DateStyle ISO,
// IntervalStyle iso_8601, TimeZone UTC, extra_float_digits 3, bytea hex; see
// connection.h). Types with a more precise Value case are parsed:
//
//   bool → bool_value; int2/int4/int8/oid → int_value; float4/float8 →
//   double_value; numeric → numeric_value (exact text, never a double);
//   bytea → bytes_value; date → date_days; time → time_us; timestamp →
//   local_timestamp_us; timestamptz → timestamp_us; interval →
//   interval_value; arrays → array_value (elements converted by element
//   type); composites → composite_value (fields converted by attribute
//   type); domains → as their base type.
//
// Every other type (enums, ranges, geometric, network, json, xml, uuid,
// money, timetz, extension types, types the registry does not know) keeps
// its text verbatim, so no type is ever unrepresentable. So do the values a
// numeric case cannot hold: 'infinity' and '-infinity' of date, timestamp
// and timestamptz, and timestamps past int64 microseconds since 1970 (after
// 294247-01-10).
//
// Text that is not valid UTF-8 (only a SQL_ASCII database stores it: the
// server converts nothing there) becomes text_bytes, the bytes unchanged,
// wherever text would be used — text types, enum labels, array elements,
// composite attributes, the text form of any other type — since a proto3
// string must hold UTF-8 and a consumer could not parse the event
// otherwise. Names have no such fallback: an array's element type name or a
// composite's attribute or type name that is not UTF-8 is kDataLoss.
//
// Parsing is strict: the server prints one canonical form, so anything else
// means the bytes are not what the column's type says they are, reported as
// kDataLoss naming the type and (a prefix of) the text.
//
// Array, composite and domain facts come from a TypeRegistry the caller
// fills from the catalog; without one (nullptr) only the built-in scalar
// cases apply and the rest is text. Pure functions; thread-safe.
#ifndef CDC_ENVELOPE_VALUE_CODEC_H_
#define CDC_ENVELOPE_VALUE_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/type_registry.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::envelope {

// Built-in type OIDs with a Value case of their own (pg_type.dat).
inline constexpr pg::Oid kBoolOid = 16;
inline constexpr pg::Oid kByteaOid = 17;
inline constexpr pg::Oid kInt8Oid = 20;
inline constexpr pg::Oid kInt2Oid = 21;
inline constexpr pg::Oid kInt4Oid = 23;
inline constexpr pg::Oid kOidOid = 26;
inline constexpr pg::Oid kFloat4Oid = 700;
inline constexpr pg::Oid kFloat8Oid = 701;
inline constexpr pg::Oid kDateOid = 1082;
inline constexpr pg::Oid kTimeOid = 1083;
inline constexpr pg::Oid kTimestampOid = 1114;
inline constexpr pg::Oid kTimestamptzOid = 1184;
inline constexpr pg::Oid kIntervalOid = 1186;
inline constexpr pg::Oid kNumericOid = 1700;

// kNull → null; kUnchangedToast → unchanged_toast; kText → by type (see
// above); kBinary → bytes_value holding the type's send form unparsed (pgcdc
// does not request binary output).
absl::Status TextToValue(const pg::TypeRegistry* types, pg::Oid type_oid,
                         const pg::TupleValue& value, v1::Value* out);

// The text form of one value (an element, a field, a column) → `out`, which
// is overwritten whatever case it held. On error `out` holds an unspecified
// case.
absl::Status ConvertText(const pg::TypeRegistry* types, pg::Oid type_oid,
                         std::string_view text, v1::Value* out);

// Without a registry: the built-in scalar cases only.
absl::StatusOr<v1::Value> TextToValue(pg::Oid type_oid,
                                      const pg::TupleValue& value);
absl::Status TextToValue(pg::Oid type_oid, const pg::TupleValue& value,
                         v1::Value* out);

// Column.type for a type: the registry's name, else "oid:N".
std::string TypeNameFor(const pg::TypeRegistry* types, pg::Oid type_oid);
// Column.base_type: the name of the type a domain resolves to; "" for a type
// that is not a domain.
std::string BaseTypeNameFor(const pg::TypeRegistry* types, pg::Oid type_oid);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_VALUE_CODEC_H_
