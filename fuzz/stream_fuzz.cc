// libFuzzer target: a whole replication session (see stream_input.h) through
// what the pipeline does with it — ParseServerFrame, DecodePgOutput with the
// stream context that Stream Start/Stop set, RelationCache for Relation and
// Type messages, EnvelopeBuilder for changes, and the JSON rendering `pgcdc
// tail` gives each record. Adversarial but decodable messages (a change for a
// relation of another shape, a Truncate of unknown OIDs, values that are not
// their column's type) must give errors, never crashes or undefined
// behaviour. What is built must parse back with protobuf — whatever bytes
// the values and names held (strings that are not UTF-8 would not).
//
// Seeds: fuzz/corpus/stream (sessions captured from PostgreSQL 15, see
// fuzz/capture_corpus.sh).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/envelope/json.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pg/replication_protocol.h"
#include "cdc/v1/change_event.pb.h"
#include "fuzz/stream_input.h"
#include "google/protobuf/stubs/logging.h"

namespace {

absl::flat_hash_map<cdc::pg::Oid, std::string> BuiltinTypes() {
  return {{16, "bool"},    {17, "bytea"},     {20, "int8"},     {21, "int2"},
          {23, "int4"},    {25, "text"},      {26, "oid"},      {700, "float4"},
          {701, "float8"}, {1043, "varchar"}, {1700, "numeric"}};
}

class Session {
 public:
  explicit Session(uint8_t options)
      : options_(options),
        builder_(cdc::envelope::SourceInfo{"pgcdc", "fuzz", "db", "slot"},
                 "fuzz", &relations_) {
    if (options_ & cdc::fuzz::kBuiltinTypes) {
      relations_.SetBuiltinTypeNames(BuiltinTypes());
    }
  }

  void Frame(std::string_view bytes) {
    absl::StatusOr<cdc::pg::ServerFrame> frame =
        cdc::pg::ParseServerFrame(bytes);
    if (!frame.ok()) return;
    const auto* data = std::get_if<cdc::pg::XLogData>(&*frame);
    if (data == nullptr) return;
    absl::StatusOr<cdc::pg::PgOutputMessage> message =
        cdc::pg::DecodePgOutput(data->payload, context_);
    if (!message.ok()) return;
    Message(*message, data->wal_start);
  }

 private:
  void Message(const cdc::pg::PgOutputMessage& message, cdc::Lsn lsn) {
    using namespace cdc::pg;  // NOLINT: the message types, many times over
    if (const auto* begin = std::get_if<BeginMessage>(&message)) {
      txn_.commit_lsn = begin->final_lsn;
      txn_.xid = begin->xid;
      txn_.commit_ts_us = cdc::PostgresToUnixMicros(begin->commit_ts);
      seq_ = 0;
    } else if (const auto* start = std::get_if<StreamStartMessage>(&message)) {
      context_.in_stream = true;
      txn_.xid = start->xid;
    } else if (std::holds_alternative<StreamStopMessage>(message)) {
      context_.in_stream = false;
    } else if (const auto* relation = std::get_if<RelationMessage>(&message)) {
      relations_.Apply(*relation);
      SetPrimaryKey(*relation);
    } else if (const auto* type = std::get_if<TypeMessage>(&message)) {
      relations_.Apply(*type);
    } else if (std::holds_alternative<InsertMessage>(message) ||
               std::holds_alternative<UpdateMessage>(message) ||
               std::holds_alternative<DeleteMessage>(message) ||
               std::holds_alternative<TruncateMessage>(message)) {
      absl::StatusOr<std::vector<cdc::envelope::Record>> records =
          builder_.Build(message, txn_, lsn, &seq_, /*now_us=*/0);
      if (!records.ok()) return;
      for (const cdc::envelope::Record& record : *records) {
        cdc::v1::ChangeEvent event;
        cdc::v1::Row key;
        if (!event.ParseFromString(record.value) ||
            (record.key.has_value() && !key.ParseFromString(*record.key))) {
          __builtin_trap();  // an event no consumer could read
        }
      }
      for (const cdc::envelope::Record& record : *records) {
        // Rendering is slow (protobuf reflection) next to everything else
        // here, so only the first few records of a session are rendered.
        if (json_budget_ == 0) break;
        --json_budget_;
        (void)cdc::envelope::RecordToJsonLine(record.key, record.value);
      }
    }
  }

  void SetPrimaryKey(const cdc::pg::RelationMessage& relation) {
    std::vector<std::string> key;
    if (options_ & cdc::fuzz::kPrimaryKeyFromFlags) {
      for (const cdc::pg::RelationColumn& column : relation.columns) {
        if (column.is_key()) key.push_back(column.name);
      }
    }
    if (options_ & cdc::fuzz::kPrimaryKeyMissingColumn) {
      key.push_back("\x01no such column");
    }
    if (key.empty()) return;
    const std::string schema = relation.namespace_name.empty()
                                   ? "pg_catalog"
                                   : relation.namespace_name;
    builder_.SetPrimaryKey(schema, relation.relation_name, std::move(key));
  }

  const uint8_t options_;
  cdc::pg::RelationCache relations_;
  cdc::envelope::EnvelopeBuilder builder_;
  cdc::pg::DecodeContext context_;
  cdc::envelope::TxnContext txn_;
  uint32_t seq_ = 0;
  int json_budget_ = 8;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Protobuf logs what it refuses to parse; the trap above reports it, and
  // the log would only slow the fuzzer down.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Session session(static_cast<uint8_t>(input[0]));
  for (std::string_view frame : cdc::fuzz::SplitStreamInput(input)) {
    session.Frame(frame);
  }
  return 0;
}
