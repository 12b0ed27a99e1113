// ProtobufEncoder: the `protobuf` output format, pgcdc's cdc.v1 envelope
// (proto/cdc/v1/change_event.proto). Each event is one record: its value a
// serialized cdc.v1.ChangeEvent, its key a serialized cdc.v1.Row of the key
// columns (null when the table has no key; a MESSAGE is keyed by its
// prefix).
//
// Row events, the hot path, are encoded by hand (wire.h): the parts of each
// column and of the source block that stay the same from row to row are made
// once per table shape, already in wire format, and copied; only the values
// are serialized by protobuf. The bytes are those protobuf writes for the
// same messages (fields in number order, defaults left out), which the tests
// check. Truncates and messages, which are rare, are built as messages and
// serialized by protobuf.
//
// Thread-compatible: one owner (its EnvelopeBuilder).
#ifndef CDC_ENVELOPE_PROTOBUF_ENCODER_H_
#define CDC_ENVELOPE_PROTOBUF_ENCODER_H_

#include <string>

#include "absl/status/status.h"
#include "cdc/envelope/encoder.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::envelope {

class ProtobufEncoder : public Encoder {
 public:
  explicit ProtobufEncoder(SourceInfo source);

  absl::Status EncodeRow(const RowEvent& event, RecordWriter* out) override;
  absl::Status EncodeTruncate(const TruncateEvent& event,
                              RecordWriter* out) override;
  absl::Status EncodeMessage(const MessageEvent& event,
                             RecordWriter* out) override;

 private:
  // Clears event_ and fills its op, source and ts_ms, for the events that
  // are built as messages.
  void FillEvent(const Event& event);

  SourceInfo source_;
  // Scratch, kept to reuse their memory.
  std::string source_fields_;
  v1::ChangeEvent event_;
  v1::Row key_;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_PROTOBUF_ENCODER_H_
