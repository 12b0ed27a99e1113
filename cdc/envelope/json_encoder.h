// JsonEncoder: the `json` output format, the cdc.v1 envelope of the
// `protobuf` format (ProtobufEncoder) written in protobuf's canonical JSON
// mapping, for consumers without protobuf tooling: the value a
// cdc.v1.ChangeEvent, the key a cdc.v1.Row (null when the table has no
// key). Field names are the mapping's lowerCamelCase (commitLsn), 64-bit
// integers are strings, enums their names, bytes base64, and fields at
// their default value are left out, as the mapping writes them. Any
// protobuf runtime parses them back into the same messages
// (JsonStringToMessage), with the descriptor set the build writes
// (share/pgcdc/cdc-v1.binpb).
//
// It encodes each event with a ProtobufEncoder and prints the messages it
// wrote: the two formats cannot disagree on what an event holds.
//
// Thread-compatible: one owner (its EnvelopeBuilder).
#ifndef CDC_ENVELOPE_JSON_ENCODER_H_
#define CDC_ENVELOPE_JSON_ENCODER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cdc/envelope/encoder.h"
#include "cdc/envelope/protobuf_encoder.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::envelope {

class JsonEncoder : public Encoder {
 public:
  explicit JsonEncoder(SourceInfo source);

  absl::Status EncodeRow(const RowEvent& event, RecordWriter* out) override;
  absl::Status EncodeTruncate(const TruncateEvent& event,
                              RecordWriter* out) override;
  absl::Status EncodeMessage(const MessageEvent& event,
                             RecordWriter* out) override;

 private:
  // Rewrites the records `protobuf_` wrote to `scratch_` as JSON into `out`.
  absl::Status Reprint(const Event& event, RecordWriter* out);

  ProtobufEncoder protobuf_;
  // Scratch, kept to reuse their memory.
  std::vector<Record> scratch_;
  v1::ChangeEvent event_;
  v1::Row key_;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_JSON_ENCODER_H_
