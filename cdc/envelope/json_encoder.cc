#include "cdc/envelope/json_encoder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "cdc/common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace cdc::envelope {
namespace {

// Prints `message` as canonical JSON into `out`.
absl::Status Print(const google::protobuf::Message& message, const char* what,
                   std::string* out) {
  out->clear();
  google::protobuf::util::JsonPrintOptions options;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, out, options);
  if (!status.ok()) {
    // Only a message that is not valid (a string that is not UTF-8) fails;
    // the builder never makes one.
    return absl::DataLossError(absl::StrCat(
        "cannot write the ", what, " as JSON: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

}  // namespace

JsonEncoder::JsonEncoder(SourceInfo source) : protobuf_(std::move(source)) {}

absl::Status JsonEncoder::EncodeRow(const RowEvent& event, RecordWriter* out) {
  RecordWriter scratch(&scratch_);
  CDC_RETURN_IF_ERROR(protobuf_.EncodeRow(event, &scratch));
  scratch.Finish();
  return Reprint(event, out);
}

absl::Status JsonEncoder::EncodeTruncate(const TruncateEvent& event,
                                         RecordWriter* out) {
  RecordWriter scratch(&scratch_);
  CDC_RETURN_IF_ERROR(protobuf_.EncodeTruncate(event, &scratch));
  scratch.Finish();
  return Reprint(event, out);
}

absl::Status JsonEncoder::EncodeMessage(const MessageEvent& event,
                                        RecordWriter* out) {
  RecordWriter scratch(&scratch_);
  CDC_RETURN_IF_ERROR(protobuf_.EncodeMessage(event, &scratch));
  scratch.Finish();
  return Reprint(event, out);
}

absl::Status JsonEncoder::Reprint(const Event& event, RecordWriter* out) {
  for (const Record& written : scratch_) {
    Record* record = out->Add(event);
    record->op = written.op;
    if (!event_.ParseFromString(written.value)) {
      return absl::InternalError(
          "the cdc.v1 event just written does not parse");
    }
    CDC_RETURN_IF_ERROR(Print(event_, "event", &record->value));
    if (written.key.has_value()) {
      if (!key_.ParseFromString(*written.key)) {
        return absl::InternalError(
            "the cdc.v1 key just written does not parse");
      }
      if (!record->key.has_value()) record->key.emplace();
      CDC_RETURN_IF_ERROR(Print(key_, "key", &*record->key));
    } else {
      record->key.reset();
    }
  }
  return absl::OkStatus();
}

}  // namespace cdc::envelope
