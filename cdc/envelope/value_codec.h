// Value codec: one pgoutput column value → one cdc.v1.Value.
//
// pgoutput sends values in their type's text output form. The few types with
// a more precise Value case are parsed (bool, the integers and oid, the
// floats, numeric, bytea); every other type keeps its text verbatim, so no
// type is ever unrepresentable. Parsing is strict: the server's output
// functions print one canonical form, so anything else means the bytes are
// not what the column's type says they are, reported as kDataLoss naming the
// type and (a prefix of) the text.
//
// Pure functions; thread-safe.
#ifndef CDC_ENVELOPE_VALUE_CODEC_H_
#define CDC_ENVELOPE_VALUE_CODEC_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/pg/pgoutput.h"
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
inline constexpr pg::Oid kNumericOid = 1700;

// kNull → null; kUnchangedToast → unchanged_toast; kText → by type OID (see
// above); kBinary → bytes_value holding the type's send form unparsed (pgcdc
// does not request binary output yet).
absl::StatusOr<v1::Value> TextToValue(pg::Oid type_oid,
                                      const pg::TupleValue& value);

// As above, writing into `out` (which is overwritten whatever case it held),
// so that the hot path can reuse the messages of a cleared ChangeEvent. On
// error `out` holds an unspecified case.
absl::Status TextToValue(pg::Oid type_oid, const pg::TupleValue& value,
                         v1::Value* out);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_VALUE_CODEC_H_
