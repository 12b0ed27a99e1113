#include "cdc/envelope/envelope_builder.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/utf8.h"
#include "cdc/envelope/protobuf_encoder.h"
#include "cdc/envelope/value_codec.h"
#include "cdc/kafka/topic_names.h"

namespace cdc::envelope {
namespace {

std::string PrimaryKeyMapKey(const std::string& schema,
                             const std::string& table) {
  std::string key;
  key.reserve(schema.size() + 1 + table.size());
  key.append(schema);
  key.push_back('\0');
  key.append(table);
  return key;
}

absl::Status CheckColumnCount(const pg::TupleData& tuple,
                              const pg::RelationInfo& info,
                              const std::string& schema,
                              const std::string& table, const char* which) {
  if (tuple.values.size() == info.relation.columns.size()) {
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat(
      which, " tuple for ", schema, ".", table, " has ", tuple.values.size(),
      " columns but its Relation message (shape ", info.shape_version, ") has ",
      info.relation.columns.size()));
}

absl::Status UnknownRelation(pg::Oid relation_oid) {
  return absl::DataLossError(
      absl::StrCat("change for relation OID ", relation_oid,
                   " which no Relation message has described"));
}

// Why a name that is not UTF-8 stops pgcdc, for the end of its message.
constexpr char kNameHint[] =
    " is not valid UTF-8 (a SQL_ASCII database stores any bytes): no event "
    "can carry it in a protobuf string, so pgcdc stops rather than publish a "
    "broken one";

absl::Status BadName(const pg::RelationMessage& relation, std::string_view what,
                     std::string_view name) {
  return absl::DataLossError(
      absl::StrCat(RelationLabel(relation), ": ", AsAbsl(what), " \"",
                   EscapeBytes(name), "\"", kNameHint, ": rename it"));
}

bool HasValue(const pg::TupleValue& value) {
  return value.kind == pg::TupleValue::Kind::kText ||
         value.kind == pg::TupleValue::Kind::kBinary;
}

// The key columns of `relation` (see the header), in key order.
std::vector<int> KeyColumns(const pg::RelationMessage& relation,
                            const std::vector<std::string>* primary_key,
                            const std::vector<int>& identity_columns) {
  std::vector<int> key_columns;
  if (primary_key != nullptr) {
    for (const std::string& name : *primary_key) {
      int found = -1;
      for (size_t i = 0; i < relation.columns.size(); ++i) {
        if (relation.columns[i].name == name) {
          found = static_cast<int>(i);
          break;
        }
      }
      if (found < 0) {
        key_columns.clear();
        break;
      }
      key_columns.push_back(found);
    }
  }
  // Under FULL every column is flagged and under NOTHING none is: only the
  // default (primary key) and index identities name a key.
  if (key_columns.empty() &&
      (relation.replica_identity == 'd' || relation.replica_identity == 'i')) {
    key_columns = identity_columns;
  }
  return key_columns;
}

ABSL_ATTRIBUTE_NOINLINE absl::Status ColumnError(const TableShape& table,
                                                 const pg::RelationInfo& info,
                                                 int i,
                                                 const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat(table.schema, ".", table.table, ".",
                   info.relation.columns[i].name, " (relation ",
                   info.relation.relation_oid, "): ", status.message()));
}

absl::Status CheckTuples(const pg::RelationInfo& info, const TableShape& table,
                         const pg::TupleData* new_tuple,
                         const pg::TupleData* old_tuple, char old_kind) {
  if (new_tuple != nullptr) {
    CDC_RETURN_IF_ERROR(
        CheckColumnCount(*new_tuple, info, table.schema, table.table, "new"));
  }
  if (old_tuple != nullptr) {
    CDC_RETURN_IF_ERROR(
        CheckColumnCount(*old_tuple, info, table.schema, table.table, "old"));
    if (old_kind != 'K' && old_kind != 'O') {
      return absl::DataLossError(absl::StrCat(
          "old tuple for ", table.schema, ".", table.table,
          " has unknown kind 0x", absl::Hex(static_cast<uint8_t>(old_kind))));
    }
  }
  return absl::OkStatus();
}

// `event` as the next event of the change `stamp` describes: its
// transaction, LSN and time, the given op and table, and the next seq.
void Stamp(v1::Op op, const TableShape* table, Event* stamp, Event* event) {
  *event = *stamp;
  event->op = op;
  event->table = table;
  event->seq = stamp->seq++;
  // READ events are exactly the rows snapshots read.
  event->snapshot = op == v1::READ;
}

}  // namespace

std::string RelationLabel(const pg::RelationMessage& relation) {
  return absl::StrCat("relation ", relation.relation_oid, " \"",
                      EscapeBytes(relation.namespace_name), "\".\"",
                      EscapeBytes(relation.relation_name), "\"");
}

absl::Status CheckRelationNames(const pg::RelationMessage& relation) {
  if (!IsValidUtf8(relation.namespace_name)) {
    return BadName(relation, "its schema name", relation.namespace_name);
  }
  if (!IsValidUtf8(relation.relation_name)) {
    return BadName(relation, "its name", relation.relation_name);
  }
  for (size_t i = 0; i < relation.columns.size(); ++i) {
    if (!IsValidUtf8(relation.columns[i].name)) {
      return BadName(relation, absl::StrCat("the name of column ", i + 1),
                     relation.columns[i].name);
    }
  }
  return absl::OkStatus();
}

namespace {

google::protobuf::ArenaOptions FirstBlock(char* block, size_t size) {
  google::protobuf::ArenaOptions options;
  options.initial_block = block;
  options.initial_block_size = size;
  return options;
}

}  // namespace

EnvelopeBuilder::EnvelopeBuilder(SourceInfo source, std::string topic_prefix,
                                 const pg::RelationCache* relations)
    : source_(std::move(source)),
      topic_prefix_(std::move(topic_prefix)),
      relations_(relations),
      encoder_(std::make_unique<ProtobufEncoder>(source_)),
      arena_block_(new char[kArenaBlockBytes]),
      arena_(FirstBlock(arena_block_.get(), kArenaBlockBytes)) {}

void EnvelopeBuilder::SetEncoder(std::unique_ptr<Encoder> encoder) {
  encoder_ = std::move(encoder);
  // The shapes' encoder state is the old encoder's.
  shapes_.clear();
  message_shape_.table.encoder_state.reset();
}

void EnvelopeBuilder::SetPrimaryKey(const std::string& schema,
                                    const std::string& table,
                                    std::vector<std::string> columns) {
  primary_keys_[PrimaryKeyMapKey(schema, table)] = std::move(columns);
  // Rare (startup, catalog refresh), so forgetting every shape is simpler
  // than finding the OID the table had.
  shapes_.clear();
}

void EnvelopeBuilder::SetMessageTopic(const std::string& topic) {
  message_shape_.built = true;
  message_shape_.table.topic = topic;
}

EnvelopeBuilder::Shape& EnvelopeBuilder::ShapeFor(
    const pg::RelationInfo& info) {
  Shape& shape = shapes_[info.relation.relation_oid];
  if (shape.built && shape.shape_version == info.shape_version) return shape;

  const pg::RelationMessage& relation = info.relation;
  shape = Shape();
  shape.built = true;
  shape.shape_version = info.shape_version;
  TableShape& table = shape.table;
  table.shape_id = info.shape_id;
  table.schema =
      relation.namespace_name.empty() ? "pg_catalog" : relation.namespace_name;
  table.table = relation.relation_name;
  table.topic = kafka::TopicFor(topic_prefix_, table.schema, table.table);
  const int column_count = static_cast<int>(relation.columns.size());
  for (int i = 0; i < column_count; ++i) {
    if (relation.columns[i].is_key()) shape.identity_columns.push_back(i);
  }
  auto pk = primary_keys_.find(PrimaryKeyMapKey(table.schema, table.table));
  table.key_columns = KeyColumns(
      relation,
      pk != primary_keys_.end() && !pk->second.empty() ? &pk->second : nullptr,
      shape.identity_columns);
  table.in_key.assign(column_count, false);
  for (int i : table.key_columns) table.in_key[i] = true;
  table.types.resize(column_count);
  if (info.column_facts.size() == relation.columns.size()) {
    table.not_null.reserve(column_count);
    table.default_expr.reserve(column_count);
    for (const pg::ColumnFacts& f : info.column_facts) {
      table.not_null.push_back(f.not_null);
      table.default_expr.push_back(f.default_expr);
    }
  }
  // Checked once per shape; every event of the shape reports it.
  shape.names = CheckRelationNames(relation);
  if (shape.names.ok() && !IsValidUtf8(source_.db)) {
    shape.names = BadName(relation, "the database name", source_.db);
  }
  return shape;
}

bool EnvelopeBuilder::ResolveColumnType(Shape& shape,
                                        const pg::RelationInfo& info, int i) {
  ColumnType& type = shape.table.types[i];
  const pg::RelationColumn& column = info.relation.columns[i];
  const bool named = static_cast<size_t>(i) < info.column_type_names.size();
  std::string base_type =
      BaseTypeNameFor(&relations_->types(), column.type_oid);
  if (type.version != 0 && base_type == type.base_type &&
      (named ? info.column_type_names[i] == type.name
             : type.name == absl::StrCat("oid:", column.type_oid))) {
    return true;
  }
  type.name =
      named ? info.column_type_names[i] : absl::StrCat("oid:", column.type_oid);
  type.base_type = std::move(base_type);
  // Left unresolved when a name is not UTF-8, so that every row says so.
  if (!IsValidUtf8(type.name) || !IsValidUtf8(type.base_type)) {
    type.version = 0;
    return false;
  }
  type.version = ++type_versions_;
  return true;
}

absl::Status EnvelopeBuilder::TypeNameError(const Shape& shape,
                                            const pg::RelationInfo& info,
                                            int i) const {
  const ColumnType& type = shape.table.types[i];
  return BadName(info.relation, absl::StrCat("the type name of column ", i + 1),
                 IsValidUtf8(type.name) ? type.base_type : type.name);
}

// Inlined: it runs for every column of every row.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::Status EnvelopeBuilder::AddColumn(
    Shape& shape, const pg::RelationInfo& info, const pg::TupleData& tuple,
    int i, std::vector<ColumnValue>* out) {
  if (!ResolveColumnType(shape, info, i)) return TypeNameError(shape, info, i);
  const pg::TupleValue& raw = tuple.values[i];
  v1::Value* value = google::protobuf::Arena::CreateMessage<v1::Value>(&arena_);
  absl::Status status = TextToValue(
      &relations_->types(), info.relation.columns[i].type_oid, raw, value);
  if (!status.ok()) return ColumnError(shape.table, info, i, status);
  out->push_back({i, &raw, value});
  return absl::OkStatus();
}

absl::Status EnvelopeBuilder::ConvertImages(const RowChange& change,
                                            Shape& shape,
                                            const pg::RelationInfo& info,
                                            RowImages* images) {
  images->before.clear();
  images->after.clear();
  if (change.old_tuple != nullptr) {
    const pg::TupleData& tuple = *change.old_tuple;
    if (change.old_kind == 'O') {
      const int n = static_cast<int>(tuple.values.size());
      for (int i = 0; i < n; ++i) {
        CDC_RETURN_IF_ERROR(AddColumn(shape, info, tuple, i, &images->before));
      }
    } else {
      // A 'K' image holds only the replica identity columns (the others are
      // nulls that would read as real values).
      for (int i : shape.identity_columns) {
        CDC_RETURN_IF_ERROR(AddColumn(shape, info, tuple, i, &images->before));
      }
    }
  }
  if (change.new_tuple != nullptr) {
    const pg::TupleData& tuple = *change.new_tuple;
    const int n = static_cast<int>(tuple.values.size());
    for (int i = 0; i < n; ++i) {
      CDC_RETURN_IF_ERROR(AddColumn(shape, info, tuple, i, &images->after));
    }
  }
  return absl::OkStatus();
}

absl::Status EnvelopeBuilder::CollectKey(const RowChange& change, Shape& shape,
                                         const pg::RelationInfo& info,
                                         RowImages* images) {
  images->key.clear();
  const pg::TupleData* new_tuple = change.new_tuple;
  const pg::TupleData* old_tuple = change.old_tuple;
  const pg::TupleData* key_tuple = new_tuple != nullptr ? new_tuple : old_tuple;
  for (int i : shape.table.key_columns) {
    const pg::TupleData* from = key_tuple;
    // A TOASTed key column the update left alone arrives as "unchanged";
    // the old image, when sent, has the real value.
    if (key_tuple->values[i].kind == pg::TupleValue::Kind::kUnchangedToast &&
        key_tuple == new_tuple && old_tuple != nullptr &&
        HasValue(old_tuple->values[i])) {
      from = old_tuple;
    }
    // The image's value of the same column of the same tuple, if converted.
    const std::vector<ColumnValue>& image =
        from == new_tuple ? images->after : images->before;
    const ColumnValue* converted = nullptr;
    for (const ColumnValue& c : image) {
      if (c.index == i) converted = &c;
    }
    if (converted != nullptr) {
      images->key.push_back(*converted);
    } else {
      CDC_RETURN_IF_ERROR(AddColumn(shape, info, *from, i, &images->key));
    }
  }
  return absl::OkStatus();
}

absl::Status EnvelopeBuilder::MakeRowEvent(const RowChange& change,
                                           Event* stamp, RowImages* images,
                                           RowEvent* event) {
  const pg::RelationInfo* info = relations_->Find(change.relation_oid);
  if (info == nullptr) return UnknownRelation(change.relation_oid);
  Shape& shape = ShapeFor(*info);
  if (!shape.names.ok()) return shape.names;
  CDC_RETURN_IF_ERROR(CheckTuples(*info, shape.table, change.new_tuple,
                                  change.old_tuple, change.old_kind));
  CDC_RETURN_IF_ERROR(ConvertImages(change, shape, *info, images));
  CDC_RETURN_IF_ERROR(CollectKey(change, shape, *info, images));
  Stamp(change.op, &shape.table, stamp, event);
  event->relation = &info->relation;
  event->before = change.old_tuple != nullptr ? &images->before : nullptr;
  event->after = change.new_tuple != nullptr ? &images->after : nullptr;
  event->key = shape.table.key_columns.empty() ? nullptr : &images->key;
  event->key_change_pair = nullptr;
  return absl::OkStatus();
}

absl::Status EnvelopeBuilder::BuildRow(const RowChange& change, Event* stamp,
                                       RecordWriter* out) {
  arena_.Reset();
  RowEvent event;
  CDC_RETURN_IF_ERROR(MakeRowEvent(change, stamp, &images_[0], &event));
  return encoder_->EncodeRow(event, out);
}

absl::Status EnvelopeBuilder::BuildKeyChange(const pg::UpdateMessage& update,
                                             Event* stamp, RecordWriter* out) {
  arena_.Reset();
  RowChange old_key;
  old_key.op = v1::DELETE;
  old_key.relation_oid = update.relation_oid;
  old_key.old_kind = update.old_kind;
  old_key.old_tuple = &*update.old_tuple;
  RowChange new_key;
  new_key.op = v1::CREATE;
  new_key.relation_oid = update.relation_oid;
  new_key.new_tuple = &update.new_tuple;
  RowEvent del;
  RowEvent create;
  CDC_RETURN_IF_ERROR(MakeRowEvent(old_key, stamp, &images_[0], &del));
  CDC_RETURN_IF_ERROR(MakeRowEvent(new_key, stamp, &images_[1], &create));
  del.key_change_pair = &create;
  create.key_change_pair = &del;
  CDC_RETURN_IF_ERROR(encoder_->EncodeRow(del, out));
  return encoder_->EncodeRow(create, out);
}

bool EnvelopeBuilder::ChangesKey(const pg::UpdateMessage& update) {
  if (!update.old_tuple.has_value()) return false;
  const pg::RelationInfo* info = relations_->Find(update.relation_oid);
  if (info == nullptr) return false;  // BuildRow reports it
  const Shape& shape = ShapeFor(*info);
  if (!shape.names.ok()) return false;  // likewise
  const pg::TupleData& old_tuple = *update.old_tuple;
  const size_t n = info->relation.columns.size();
  const std::vector<int>& key_columns = shape.table.key_columns;
  if (key_columns.empty() || old_tuple.values.size() != n ||
      update.new_tuple.values.size() != n) {
    return false;
  }
  for (int i : key_columns) {
    // A 'K' image holds only the replica identity columns; a key column
    // outside them (a primary key that is not the identity) is unknown.
    if (update.old_kind == 'K' && !info->relation.columns[i].is_key()) {
      return false;
    }
  }
  for (int i : key_columns) {
    const pg::TupleValue& now = update.new_tuple.values[i];
    const pg::TupleValue& before = old_tuple.values[i];
    if (now.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    if (!(now == before)) return true;
  }
  return false;
}

absl::Status EnvelopeBuilder::BuildTruncate(const pg::TruncateMessage& truncate,
                                            Event* stamp, RecordWriter* out) {
  for (const pg::Oid oid : truncate.relation_oids) {
    const pg::RelationInfo* info = relations_->Find(oid);
    if (info == nullptr) return UnknownRelation(oid);
    const Shape& shape = ShapeFor(*info);
    if (!shape.names.ok()) return shape.names;
    TruncateEvent event;
    Stamp(v1::TRUNCATE, &shape.table, stamp, &event);
    event.relation = &info->relation;
    event.cascade = (truncate.options & pg::TruncateMessage::kCascade) != 0;
    event.restart_identity =
        (truncate.options & pg::TruncateMessage::kRestartIdentity) != 0;
    CDC_RETURN_IF_ERROR(encoder_->EncodeTruncate(event, out));
  }
  return absl::OkStatus();
}

absl::Status EnvelopeBuilder::BuildMessage(const pg::LogicalMessage& message,
                                           Event* stamp, RecordWriter* out) {
  if (!message_shape_.built) {
    return absl::FailedPreconditionError(
        "a logical message arrived but no message topic is set");
  }
  if (!IsValidUtf8(message.prefix)) {
    return absl::DataLossError(
        absl::StrCat("logical decoding message prefix \"",
                     EscapeBytes(message.prefix), "\"", kNameHint));
  }
  MessageEvent event;
  Stamp(v1::MESSAGE, &message_shape_.table, stamp, &event);
  event.message = &message;
  return encoder_->EncodeMessage(event, out);
}

absl::Status EnvelopeBuilder::BuildChange(const pg::PgOutputMessage& change,
                                          Event* stamp, RecordWriter* out) {
  if (const auto* insert = std::get_if<pg::InsertMessage>(&change)) {
    RowChange row;
    row.op = v1::CREATE;
    row.relation_oid = insert->relation_oid;
    row.new_tuple = &insert->new_tuple;
    return BuildRow(row, stamp, out);
  }
  if (const auto* update = std::get_if<pg::UpdateMessage>(&change)) {
    if (key_change_ == KeyChange::kDeleteCreate && ChangesKey(*update)) {
      return BuildKeyChange(*update, stamp, out);
    }
    RowChange row;
    row.op = v1::UPDATE;
    row.relation_oid = update->relation_oid;
    row.old_kind = update->old_kind;
    row.old_tuple =
        update->old_tuple.has_value() ? &*update->old_tuple : nullptr;
    row.new_tuple = &update->new_tuple;
    return BuildRow(row, stamp, out);
  }
  if (const auto* del = std::get_if<pg::DeleteMessage>(&change)) {
    RowChange row;
    row.op = v1::DELETE;
    row.relation_oid = del->relation_oid;
    row.old_kind = del->old_kind;
    row.old_tuple = &del->old_tuple;
    return BuildRow(row, stamp, out);
  }
  if (const auto* truncate = std::get_if<pg::TruncateMessage>(&change)) {
    return BuildTruncate(*truncate, stamp, out);
  }
  if (const auto* message = std::get_if<pg::LogicalMessage>(&change)) {
    return BuildMessage(*message, stamp, out);
  }
  return absl::InvalidArgumentError(
      "EnvelopeBuilder::Build takes Insert, Update, Delete, Truncate or "
      "logical Message messages only");
}

absl::StatusOr<std::vector<Record>> EnvelopeBuilder::Build(
    const pg::PgOutputMessage& change, const TxnContext& txn, Lsn lsn,
    uint32_t* seq, int64_t now_us) {
  std::vector<Record> records;
  CDC_RETURN_IF_ERROR(BuildInto(change, txn, lsn, seq, now_us, &records));
  return records;
}

absl::Status EnvelopeBuilder::BuildInto(const pg::PgOutputMessage& change,
                                        const TxnContext& txn, Lsn lsn,
                                        uint32_t* seq, int64_t now_us,
                                        std::vector<Record>* records) {
  Event stamp;
  stamp.txn = &txn;
  stamp.lsn = lsn;
  stamp.seq = seq != nullptr ? *seq : 0;
  stamp.now_us = now_us;
  RecordWriter writer(records);
  absl::Status status = BuildChange(change, &stamp, &writer);
  writer.Finish();
  // The caller's seq advances only on success, so that a failed message
  // does not leave a gap.
  if (status.ok() && seq != nullptr) *seq = stamp.seq;
  return status;
}

absl::Status EnvelopeBuilder::BuildTransactionBoundary(
    bool begin, const TxnContext& txn, Lsn lsn, std::vector<Record>* records) {
  RecordWriter writer(records);
  absl::Status status = begin ? encoder_->BeginTransaction(txn, lsn, &writer)
                              : encoder_->EndTransaction(txn, lsn, &writer);
  writer.Finish();
  return status;
}

absl::Status EnvelopeBuilder::BuildRead(pg::Oid relation_oid,
                                        const pg::TupleData& row,
                                        const TxnContext& snapshot,
                                        uint32_t ordinal, SnapshotMark mark,
                                        int64_t now_us, Record* record) {
  Event stamp;
  stamp.snapshot_mark = mark;
  stamp.txn = &snapshot;
  stamp.lsn = snapshot.commit_lsn;
  stamp.seq = ordinal;
  stamp.now_us = now_us;
  RowChange read;
  read.op = v1::READ;
  read.relation_oid = relation_oid;
  read.new_tuple = &row;
  RecordWriter writer(&read_records_);
  absl::Status status = BuildRow(read, &stamp, &writer);
  writer.Finish();
  if (status.ok()) {
    if (read_records_.size() != 1) {
      return absl::InternalError(absl::StrCat(
          "a snapshot row made ", read_records_.size(), " records"));
    }
    // Swapped, not copied: both keep their memory for the next row.
    std::swap(*record, read_records_[0]);
    return status;
  }
  // The stream's errors get their LSN from the pipeline; a snapshot row has
  // the snapshot's.
  if (status.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        absl::StrCat("row ", ordinal, " of the snapshot at LSN ",
                     FormatLsn(snapshot.commit_lsn), ": ", status.message()));
  }
  return status;
}

}  // namespace cdc::envelope
