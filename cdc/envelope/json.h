// One-line JSON renderings of pgcdc's Kafka records, for humans (`pgcdc
// tail`), not for machines: the envelope's contract is the protobuf, and this
// form follows protobuf's JSON mapping (proto field names, default-valued
// fields omitted, int64/uint64 as strings, bytes as base64).
//
// Pure functions; thread-safe.
#ifndef CDC_ENVELOPE_JSON_H_
#define CDC_ENVELOPE_JSON_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::envelope {

std::string ChangeEventToJson(const v1::ChangeEvent& event);
std::string RowToJson(const v1::Row& row);

// {"key":<Row JSON, or null for a null key>,"event":<ChangeEvent JSON>} from
// a record's raw key and value bytes. kDataLoss when either does not parse.
absl::StatusOr<std::string> RecordToJsonLine(
    const std::optional<std::string>& key, const std::string& value);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_JSON_H_
