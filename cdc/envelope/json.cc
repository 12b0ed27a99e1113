#include "cdc/envelope/json.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace cdc::envelope {
namespace {

// Minimal JSON string quoting, for the error fallback only.
void AppendJsonString(const std::string& text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(out, absl::StrFormat("\\u%04x", static_cast<int>(c)));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Appends `message` as compact JSON to `out`. Printing a message we hold
// can only fail for Any fields whose type is unknown, which the envelope
// has none of; should it ever fail, the error text stands in so that a tail
// keeps going.
void AppendJson(const google::protobuf::Message& message, std::string* out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = true;
  const size_t start = out->size();
  auto status =
      google::protobuf::util::MessageToJsonString(message, out, options);
  if (!status.ok()) {
    out->resize(start);
    out->append("{\"json_error\":");
    AppendJsonString(status.ToString(), out);
    out->push_back('}');
  }
}

}  // namespace

std::string ChangeEventToJson(const v1::ChangeEvent& event) {
  std::string out;
  AppendJson(event, &out);
  return out;
}

std::string RowToJson(const v1::Row& row) {
  std::string out;
  AppendJson(row, &out);
  return out;
}

absl::StatusOr<std::string> RecordToJsonLine(
    const std::optional<std::string>& key, const std::string& value) {
  std::string out = "{\"key\":";
  if (key.has_value()) {
    v1::Row row;
    if (!row.ParseFromString(*key)) {
      return absl::DataLossError(absl::StrCat("record key (", key->size(),
                                              " bytes) is not a cdc.v1.Row"));
    }
    AppendJson(row, &out);
  } else {
    out += "null";
  }
  v1::ChangeEvent event;
  if (!event.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat(
        "record value (", value.size(), " bytes) is not a cdc.v1.ChangeEvent"));
  }
  out += ",\"event\":";
  AppendJson(event, &out);
  out += "}";
  return out;
}

}  // namespace cdc::envelope
