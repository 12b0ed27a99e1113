// Encoder: the interface of one output format, which writes pgcdc's events as
// Kafka records, and the format-neutral view of an event it writes from.
//
// EnvelopeBuilder (envelope_builder.h) decides which events a pgoutput
// message makes and what each holds: its op, table and topic, its old and new
// images with every value converted by value_codec.h, its key, its place in
// the stream and its transaction. An Encoder decides only how an event is
// written: the key and value bytes of the records it makes. One class per
// format, each in a file of its own; ProtobufEncoder (protobuf_encoder.h)
// writes the cdc.v1 envelope.
//
// An event usually makes one record, but an encoder may add more through
// RecordWriter (a format that follows a DELETE with a tombstone, say). Every
// record gets its topic, schema, table and op from its event.
//
// Views are borrowed: an event and all it points to (the builder's table
// shape, its converted values, the relation cache's Relation message) are
// valid only during the Encode call that receives it.
//
// Thread-compatible: an Encoder belongs to one EnvelopeBuilder, which calls
// it from its owner's thread.
#ifndef CDC_ENVELOPE_ENCODER_H_
#define CDC_ENVELOPE_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::envelope {

// Constant for a run: who made the events, from which database and slot.
struct SourceInfo {
  std::string connector = "pgcdc";
  std::string version;
  std::string db;
  std::string slot;
};

// The transaction an event belongs to, from its Begin message (for a
// snapshot row: the snapshot's consistent point, xid 0).
struct TxnContext {
  Lsn commit_lsn = 0;
  pg::TransactionId xid = 0;
  int64_t commit_ts_us = 0;  // Unix epoch microseconds
  // Debezium's lastCommitLsn, the first element of its source.sequence
  // (PostgresStreamingChangeEventSource.commitMessage): the position of the
  // last transaction end the stream passed before this event, that is the
  // end LSN of the previous transaction's Commit message (its end_lsn, the
  // XLogData position pgoutput sent it at) or, when one came after it, the
  // `lsn` of a non-transactional logical message. 0: none since the stream
  // started (Debezium's null). Read only by DebeziumJsonEncoder; the
  // pipeline fills it.
  Lsn last_commit_lsn = 0;
};

// One Kafka record header: a name and its bytes.
struct Header {
  std::string name;
  std::string value;
};

// One Kafka record, ready to produce. Its key and value are in the format of
// the encoder that wrote them (for protobuf: a serialized cdc.v1.Row key and
// cdc.v1.ChangeEvent value).
struct Record {
  std::string topic;
  std::optional<std::string> key;  // nullopt: a null key
  std::string value;
  // A tombstone: the record's value is null (`value` is ignored), as a
  // format that follows a DELETE with one writes it.
  bool null_value = false;
  // Produced in this order; empty for most formats.
  std::vector<Header> headers;
  std::string schema;  // for metrics and messages
  std::string table;
  v1::Op op = v1::OP_UNSPECIFIED;
};

// One column's type names as events carry them. The relation cache can
// resolve a type's name after a table's shape was made, so the builder
// checks them for every row it converts and `version` moves on whenever they
// change: an encoder that keeps something made from them remakes it then.
struct ColumnType {
  std::string name;       // the type's name, else "oid:N"
  std::string base_type;  // for a domain: the type it resolves to; else ""
  uint32_t version = 0;   // 0: not resolved yet
};

// What an encoder keeps per table shape (the parts of its output that are
// the same for every event of the shape, say). Made by the encoder on first
// use and dropped with the shape.
class EncoderTableState {
 public:
  virtual ~EncoderTableState() = default;
};

// A table as its events see it, for one shape of the relation (one Relation
// message). For MESSAGE events, which belong to no table: the message
// topic's, with no names, columns or key.
struct TableShape {
  std::string schema;  // "pg_catalog" for the Relation message's ""
  std::string table;
  std::string topic;
  uint64_t shape_id = 0;          // pg::RelationInfo::shape_id
  std::vector<int> key_columns;   // the message key's columns, in key order
  std::vector<bool> in_key;       // parallel to the relation's columns
  std::vector<ColumnType> types;  // parallel to the relation's columns
  // Catalog facts the stream does not carry (pg::ColumnFacts), parallel to
  // the relation's columns, or empty when not read (formats other than
  // debezium-json): whether a column is NOT NULL, and its default
  // expression as the server deparses it (nullopt: none). Debezium's
  // schemas carry both (TableSchemaBuilder.addField); only
  // DebeziumJsonEncoder reads them.
  std::vector<bool> not_null;
  std::vector<std::optional<std::string>> default_expr;
  // The encoder's, for it to make and use as it likes.
  mutable std::unique_ptr<EncoderTableState> encoder_state;
};

// One column of an image or key.
struct ColumnValue {
  int index;                  // into the relation's columns
  const pg::TupleValue* raw;  // as pgoutput sent it
  const v1::Value* value;     // converted (value_codec.h)
};

// Where a snapshot row stands in the snapshot that read it, as a format that
// marks the first and last rows (Debezium's source.snapshot) needs it.
enum class SnapshotMark : uint8_t {
  kNone,          // a streamed event
  kMiddle,        // neither first nor last of its table
  kFirst,         // the first row of the whole initial snapshot
  kFirstInTable,  // the first row of its table (not the snapshot's first)
  kLastInTable,   // the last row of its table (not the snapshot's last)
  kLast,          // the last row of the whole initial snapshot
  kIncremental,   // a row of an incremental snapshot's chunk
};

// What every event has.
struct Event {
  v1::Op op = v1::OP_UNSPECIFIED;
  const TableShape* table = nullptr;
  const TxnContext* txn = nullptr;
  // The change record's LSN; for a snapshot row, the snapshot's consistent
  // point.
  Lsn lsn = 0;
  // The event's index within its transaction; for a snapshot row, the row's
  // index in its table's snapshot.
  uint32_t seq = 0;
  bool snapshot = false;  // a row a snapshot read (op READ)
  // For a snapshot row: where it stands in its snapshot.
  SnapshotMark snapshot_mark = SnapshotMark::kNone;
  int64_t now_us = 0;  // when the event is made, Unix epoch microseconds

  // now_us in whole milliseconds, rounded down (before 1970 too).
  int64_t now_ms() const { return now_us / 1000 - (now_us % 1000 < 0 ? 1 : 0); }
};

// CREATE, UPDATE, DELETE or READ.
struct RowEvent : Event {
  // The shape's Relation message: column names, type OIDs and modifiers,
  // key flags, replica identity.
  const pg::RelationMessage* relation = nullptr;
  // The old image: every column for an 'O' image (REPLICA IDENTITY FULL),
  // only the replica identity columns for a 'K' image; nullptr when no old
  // image was sent.
  const std::vector<ColumnValue>* before = nullptr;
  // The new image, every column; nullptr for DELETE.
  const std::vector<ColumnValue>* after = nullptr;
  // The key columns in key order; nullptr when the table has no key (a
  // null key). Values come from the new image, else the old one.
  const std::vector<ColumnValue>* key = nullptr;
  // On each of the two events an UPDATE that moves a row to another key is
  // published as (a DELETE of the old key, then a CREATE of the new one):
  // the other event. Both are made before either is encoded.
  const RowEvent* key_change_pair = nullptr;
};

struct TruncateEvent : Event {
  // The table's Relation message (a format whose truncate event carries the
  // table's schema needs its columns).
  const pg::RelationMessage* relation = nullptr;
  bool cascade = false;
  bool restart_identity = false;
};

// A logical decoding message (op MESSAGE), keyed by its prefix.
struct MessageEvent : Event {
  const pg::LogicalMessage* message = nullptr;
};

// Where the records of one build go: the caller's vector, reused from build
// to build so that the records' strings keep their memory.
class RecordWriter {
 public:
  explicit RecordWriter(std::vector<Record>* records) : records_(records) {}
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // The next record, with the topic, schema, table and op of `event`, a
  // value that is not null and no headers. Its key and value hold whatever
  // they held before, for the encoder to overwrite.
  Record* Add(const Event& event) {
    if (used_ == records_->size()) records_->emplace_back();
    Record* record = &(*records_)[used_++];
    record->topic = event.table->topic;
    record->schema = event.table->schema;
    record->table = event.table->table;
    record->op = event.op;
    record->null_value = false;
    record->headers.clear();
    return record;
  }
  // The next record, to `topic`, of no table and no op: one a format adds
  // of its own (a transaction boundary, say). Otherwise as Add.
  Record* AddTo(const std::string& topic) {
    if (used_ == records_->size()) records_->emplace_back();
    Record* record = &(*records_)[used_++];
    record->topic = topic;
    record->schema.clear();
    record->table.clear();
    record->op = v1::OP_UNSPECIFIED;
    record->null_value = false;
    record->headers.clear();
    return record;
  }
  // Drops the records past those added.
  void Finish() { records_->resize(used_); }

 private:
  std::vector<Record>* records_;
  size_t used_ = 0;
};

class Encoder {
 public:
  virtual ~Encoder() = default;

  // Each writes the records of one event to `out`. kResourceExhausted when
  // an event is too large for the format.
  virtual absl::Status EncodeRow(const RowEvent& event, RecordWriter* out) = 0;
  virtual absl::Status EncodeTruncate(const TruncateEvent& event,
                                      RecordWriter* out) = 0;
  virtual absl::Status EncodeMessage(const MessageEvent& event,
                                     RecordWriter* out) = 0;

  // A transaction the server committed begins (before its first event) or
  // ends (after its last), for a format that publishes its boundaries
  // (Debezium's transaction metadata) or numbers its events within it.
  // `lsn`: where the stream says so, the XLogData position of the Begin
  // (for a streamed transaction, of its first change) or of the Commit
  // message. Snapshot rows and non-transactional messages come outside of
  // any. By default nothing is written.
  virtual absl::Status BeginTransaction(const TxnContext& /*txn*/, Lsn /*lsn*/,
                                        RecordWriter* /*out*/) {
    return absl::OkStatus();
  }
  virtual absl::Status EndTransaction(const TxnContext& /*txn*/, Lsn /*lsn*/,
                                      RecordWriter* /*out*/) {
    return absl::OkStatus();
  }
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_ENCODER_H_
