#include "cdc/envelope/protobuf_encoder.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cdc/envelope/wire.h"

namespace cdc::envelope {
namespace {

using ChangeEventField = v1::ChangeEvent;
using ColumnField = v1::Column;
using SourceField = v1::Source;

// Whether fields written in this order are in number order, as protobuf
// writes them, each with a one-byte key (number below 16), as the sizes
// here assume.
constexpr bool InWireOrder(std::initializer_list<int> numbers) {
  int last = 0;
  for (int number : numbers) {
    if (number <= last || number >= 16) return false;
    last = number;
  }
  return true;
}
static_assert(InWireOrder({ChangeEventField::kOpFieldNumber,
                           ChangeEventField::kBeforeFieldNumber,
                           ChangeEventField::kAfterFieldNumber,
                           ChangeEventField::kSourceFieldNumber,
                           ChangeEventField::kTsMsFieldNumber}));
static_assert(InWireOrder({v1::Row::kColumnsFieldNumber}));
static_assert(InWireOrder(
    {ColumnField::kNameFieldNumber, ColumnField::kTypeFieldNumber,
     ColumnField::kValueFieldNumber, ColumnField::kTypeOidFieldNumber,
     ColumnField::kKeyFieldNumber, ColumnField::kBaseTypeFieldNumber}));
static_assert(InWireOrder(
    {SourceField::kConnectorFieldNumber, SourceField::kVersionFieldNumber,
     SourceField::kDbFieldNumber, SourceField::kSchemaFieldNumber,
     SourceField::kTableFieldNumber, SourceField::kLsnFieldNumber,
     SourceField::kCommitLsnFieldNumber, SourceField::kTxidFieldNumber,
     SourceField::kCommitTsUsFieldNumber, SourceField::kSeqFieldNumber,
     SourceField::kSnapshotFieldNumber, SourceField::kSlotFieldNumber,
     SourceField::kShapeIdFieldNumber}));

// One column's fields but its value, as they are in every row of a shape.
struct ColumnParts {
  uint32_t type_version = 0;  // the ColumnType::version they were made for
  std::string head;           // name, type
  std::string tail;           // type_oid, key (as in_key), base_type
  std::string key_tail;       // the same with key = true, for message keys
};

// A table shape's constant parts, in wire format.
struct TableParts : EncoderTableState {
  std::string source_head;           // Source fields connector to table
  std::string source_tail;           // slot, shape_id
  std::vector<ColumnParts> columns;  // parallel to the relation's columns
};

// The sizes of the parts of one row event's ChangeEvent and key.
struct RowSizes {
  size_t before = 0;
  size_t after = 0;
  size_t source = 0;
  size_t key = 0;
  size_t value = 0;  // the whole ChangeEvent
};

TableParts& PartsFor(const SourceInfo& source, const RowEvent& event) {
  const TableShape& table = *event.table;
  if (table.encoder_state == nullptr) {
    auto parts = std::make_unique<TableParts>();
    std::string& head = parts->source_head;
    wire::PutString(SourceField::kConnectorFieldNumber, source.connector,
                    &head);
    wire::PutString(SourceField::kVersionFieldNumber, source.version, &head);
    wire::PutString(SourceField::kDbFieldNumber, source.db, &head);
    wire::PutString(SourceField::kSchemaFieldNumber, table.schema, &head);
    wire::PutString(SourceField::kTableFieldNumber, table.table, &head);
    wire::PutString(SourceField::kSlotFieldNumber, source.slot,
                    &parts->source_tail);
    wire::PutUint(SourceField::kShapeIdFieldNumber, table.shape_id,
                  &parts->source_tail);
    parts->columns.resize(event.relation->columns.size());
    table.encoder_state = std::move(parts);
  }
  return static_cast<TableParts&>(*table.encoder_state);
}

// Column `i`'s parts, remade when its type names changed.
const ColumnParts& ColumnPartsFor(const RowEvent& event, int i,
                                  TableParts* table) {
  ColumnParts& parts = table->columns[i];
  const ColumnType& type = event.table->types[i];
  if (parts.type_version == type.version) return parts;
  const pg::RelationColumn& column = event.relation->columns[i];
  parts = ColumnParts();
  parts.type_version = type.version;
  wire::PutString(ColumnField::kNameFieldNumber, column.name, &parts.head);
  wire::PutString(ColumnField::kTypeFieldNumber, type.name, &parts.head);
  auto put_tail = [&](bool key, std::string* tail) {
    wire::PutUint(ColumnField::kTypeOidFieldNumber, column.type_oid, tail);
    wire::PutUint(ColumnField::kKeyFieldNumber, key ? 1 : 0, tail);
    wire::PutString(ColumnField::kBaseTypeFieldNumber, type.base_type, tail);
  };
  put_tail(event.table->in_key[i], &parts.tail);
  put_tail(true, &parts.key_tail);
  return parts;
}

size_t ColumnSize(const ColumnParts& parts, size_t value_size, bool key) {
  return parts.head.size() + wire::LengthDelimitedSize(value_size) +
         (key ? parts.key_tail : parts.tail).size();
}

// The size of a Row of `columns`; caches the size of each value, which
// WriteRow reads.
size_t RowSize(const RowEvent& event, const std::vector<ColumnValue>& columns,
               bool key, TableParts* table) {
  size_t size = 0;
  for (const ColumnValue& c : columns) {
    const ColumnParts& parts = ColumnPartsFor(event, c.index, table);
    size += wire::LengthDelimitedSize(
        ColumnSize(parts, c.value->ByteSizeLong(), key));
  }
  return size;
}

// Row.columns, each Column's fields in number order, into a buffer sized by
// RowSize; returns the byte after them.
char* WriteRow(const TableParts& table, const std::vector<ColumnValue>& columns,
               bool key, char* out) {
  for (const ColumnValue& c : columns) {
    const ColumnParts& parts = table.columns[c.index];
    const size_t value_size = static_cast<size_t>(c.value->GetCachedSize());
    out = wire::WriteLengthHeader(v1::Row::kColumnsFieldNumber,
                                  ColumnSize(parts, value_size, key), out);
    out = wire::WriteBytes(parts.head, out);
    out = wire::WriteLengthHeader(ColumnField::kValueFieldNumber, value_size,
                                  out);
    out = reinterpret_cast<char*>(c.value->SerializeWithCachedSizesToArray(
        reinterpret_cast<uint8_t*>(out)));
    out = wire::WriteBytes(key ? parts.key_tail : parts.tail, out);
  }
  return out;
}

// Source's fields from lsn to snapshot, which change from event to event.
void PutSourceFields(const Event& event, std::string* out) {
  out->clear();
  wire::PutUint(SourceField::kLsnFieldNumber, event.lsn, out);
  wire::PutUint(SourceField::kCommitLsnFieldNumber, event.txn->commit_lsn, out);
  wire::PutUint(SourceField::kTxidFieldNumber, event.txn->xid, out);
  wire::PutUint(SourceField::kCommitTsUsFieldNumber,
                static_cast<uint64_t>(event.txn->commit_ts_us), out);
  wire::PutUint(SourceField::kSeqFieldNumber, event.seq, out);
  wire::PutUint(SourceField::kSnapshotFieldNumber, event.snapshot ? 1 : 0, out);
}

RowSizes Measure(const RowEvent& event, const std::string& source_fields,
                 TableParts* table) {
  RowSizes sizes;
  if (event.before != nullptr) {
    sizes.before = RowSize(event, *event.before, false, table);
  }
  if (event.after != nullptr) {
    sizes.after = RowSize(event, *event.after, false, table);
  }
  if (event.key != nullptr) sizes.key = RowSize(event, *event.key, true, table);
  sizes.source = table->source_head.size() + source_fields.size() +
                 table->source_tail.size();
  sizes.value =
      wire::UintFieldSize(static_cast<uint64_t>(event.op)) +
      (event.before != nullptr ? wire::LengthDelimitedSize(sizes.before) : 0) +
      (event.after != nullptr ? wire::LengthDelimitedSize(sizes.after) : 0) +
      wire::LengthDelimitedSize(sizes.source) +
      wire::UintFieldSize(static_cast<uint64_t>(event.now_ms()));
  return sizes;
}

// The ChangeEvent's fields in number order: op, before, after, source,
// ts_ms.
absl::Status WriteValue(const RowEvent& event, const TableParts& table,
                        const std::string& source_fields, const RowSizes& sizes,
                        std::string* value) {
  value->resize(sizes.value);
  char* out = value->data();
  out = wire::WriteUint(ChangeEventField::kOpFieldNumber,
                        static_cast<uint64_t>(event.op), out);
  if (event.before != nullptr) {
    out = wire::WriteLengthHeader(ChangeEventField::kBeforeFieldNumber,
                                  sizes.before, out);
    out = WriteRow(table, *event.before, false, out);
  }
  if (event.after != nullptr) {
    out = wire::WriteLengthHeader(ChangeEventField::kAfterFieldNumber,
                                  sizes.after, out);
    out = WriteRow(table, *event.after, false, out);
  }
  out = wire::WriteLengthHeader(ChangeEventField::kSourceFieldNumber,
                                sizes.source, out);
  out = wire::WriteBytes(table.source_head, out);
  out = wire::WriteBytes(source_fields, out);
  out = wire::WriteBytes(table.source_tail, out);
  out = wire::WriteUint(ChangeEventField::kTsMsFieldNumber,
                        static_cast<uint64_t>(event.now_ms()), out);
  if (out != value->data() + sizes.value) {
    return absl::InternalError(absl::StrCat(
        "change event for ", event.table->schema, ".", event.table->table,
        ": encoded ", out - value->data(), " bytes of ", sizes.value));
  }
  return absl::OkStatus();
}

absl::Status TooLarge(const Event& event, size_t size) {
  // Protobuf's own limit for one message.
  return absl::ResourceExhaustedError(absl::StrCat(
      "change event for ", event.table->schema, ".", event.table->table,
      " is too large to serialize (", size, " bytes)"));
}

absl::Status SerializeValue(const Event& event, const v1::ChangeEvent& message,
                            Record* record) {
  if (!message.SerializeToString(&record->value)) {
    // Only a message over protobuf's 2 GiB limit fails to serialize.
    return TooLarge(event, message.ByteSizeLong());
  }
  return absl::OkStatus();
}

}  // namespace

ProtobufEncoder::ProtobufEncoder(SourceInfo source)
    : source_(std::move(source)) {}

absl::Status ProtobufEncoder::EncodeRow(const RowEvent& event,
                                        RecordWriter* out) {
  TableParts& table = PartsFor(source_, event);
  PutSourceFields(event, &source_fields_);
  const RowSizes sizes = Measure(event, source_fields_, &table);
  if (sizes.value > static_cast<size_t>(INT32_MAX)) {
    return TooLarge(event, sizes.value);
  }
  Record* record = out->Add(event);
  if (absl::Status s =
          WriteValue(event, table, source_fields_, sizes, &record->value);
      !s.ok()) {
    return s;
  }
  if (event.key == nullptr) {
    record->key.reset();
  } else {
    if (!record->key.has_value()) record->key.emplace();
    record->key->resize(sizes.key);
    WriteRow(table, *event.key, true, record->key->data());
  }
  return absl::OkStatus();
}

void ProtobufEncoder::FillEvent(const Event& event) {
  event_.Clear();
  event_.set_op(event.op);
  event_.set_ts_ms(event.now_ms());
  v1::Source* source = event_.mutable_source();
  source->set_connector(source_.connector);
  source->set_version(source_.version);
  source->set_db(source_.db);
  source->set_slot(source_.slot);
  source->set_schema(event.table->schema);
  source->set_table(event.table->table);
  source->set_shape_id(event.table->shape_id);
  source->set_lsn(event.lsn);
  source->set_commit_lsn(event.txn->commit_lsn);
  source->set_txid(event.txn->xid);
  source->set_commit_ts_us(event.txn->commit_ts_us);
  source->set_seq(event.seq);
  source->set_snapshot(event.snapshot);
}

absl::Status ProtobufEncoder::EncodeTruncate(const TruncateEvent& event,
                                             RecordWriter* out) {
  FillEvent(event);
  v1::Truncate* truncate = event_.mutable_truncate();
  truncate->set_cascade(event.cascade);
  truncate->set_restart_identity(event.restart_identity);
  Record* record = out->Add(event);
  record->key.reset();
  return SerializeValue(event, event_, record);
}

absl::Status ProtobufEncoder::EncodeMessage(const MessageEvent& event,
                                            RecordWriter* out) {
  FillEvent(event);
  v1::LogicalMessage* message = event_.mutable_message();
  message->set_prefix(event.message->prefix);
  message->set_content(event.message->content);
  message->set_transactional(event.message->transactional);
  key_.Clear();
  v1::Column* prefix = key_.add_columns();
  prefix->set_name("prefix");
  prefix->set_type("text");
  prefix->set_type_oid(25);
  prefix->set_key(true);
  prefix->mutable_value()->set_text(event.message->prefix);
  Record* record = out->Add(event);
  record->key.emplace();
  key_.SerializeToString(&*record->key);
  return SerializeValue(event, event_, record);
}

}  // namespace cdc::envelope
