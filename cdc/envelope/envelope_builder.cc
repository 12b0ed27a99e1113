#include "cdc/envelope/envelope_builder.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/utf8.h"
#include "cdc/envelope/value_codec.h"
#include "cdc/envelope/wire.h"
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
      arena_block_(new char[kArenaBlockBytes]),
      arena_(FirstBlock(arena_block_.get(), kArenaBlockBytes)) {
  ResetMessages();
}

void EnvelopeBuilder::ResetMessages() {
  arena_.Reset();
  event_ = google::protobuf::Arena::CreateMessage<v1::ChangeEvent>(&arena_);
  key_ = google::protobuf::Arena::CreateMessage<v1::Row>(&arena_);
}

void EnvelopeBuilder::SetPrimaryKey(const std::string& schema,
                                    const std::string& table,
                                    std::vector<std::string> columns) {
  primary_keys_[PrimaryKeyMapKey(schema, table)] = std::move(columns);
  // Rare (startup, catalog refresh), so forgetting every shape is simpler
  // than finding the OID the table had.
  shapes_.clear();
}

EnvelopeBuilder::Shape& EnvelopeBuilder::ShapeFor(
    const pg::RelationInfo& info) {
  Shape& shape = shapes_[info.relation.relation_oid];
  if (shape.built && shape.shape_version == info.shape_version) return shape;

  const pg::RelationMessage& relation = info.relation;
  shape = Shape();
  shape.built = true;
  shape.shape_version = info.shape_version;
  shape.shape_id = info.shape_id;
  shape.schema =
      relation.namespace_name.empty() ? "pg_catalog" : relation.namespace_name;
  shape.table = relation.relation_name;
  shape.topic = kafka::TopicFor(topic_prefix_, shape.schema, shape.table);
  const int column_count = static_cast<int>(relation.columns.size());
  for (int i = 0; i < column_count; ++i) {
    if (relation.columns[i].is_key()) shape.identity_columns.push_back(i);
  }

  if (auto pk = primary_keys_.find(PrimaryKeyMapKey(shape.schema, shape.table));
      pk != primary_keys_.end() && !pk->second.empty()) {
    for (const std::string& name : pk->second) {
      int found = -1;
      for (int i = 0; i < column_count; ++i) {
        if (relation.columns[i].name == name) {
          found = i;
          break;
        }
      }
      if (found < 0) {
        shape.key_columns.clear();
        break;
      }
      shape.key_columns.push_back(found);
    }
  }
  // Under FULL every column is flagged and under NOTHING none is: only the
  // default (primary key) and index identities name a key.
  if (shape.key_columns.empty() &&
      (relation.replica_identity == 'd' || relation.replica_identity == 'i')) {
    shape.key_columns = shape.identity_columns;
  }
  shape.in_key.assign(column_count, false);
  for (int i : shape.key_columns) shape.in_key[i] = true;
  // Checked once per shape; every event of the shape reports it.
  shape.names = CheckRelationNames(relation);
  if (shape.names.ok() && !IsValidUtf8(source_.db)) {
    shape.names = BadName(relation, "the database name", source_.db);
  }

  shape.columns.resize(column_count);
  wire::PutString(1, source_.connector, &shape.source_head);
  wire::PutString(2, source_.version, &shape.source_head);
  wire::PutString(3, source_.db, &shape.source_head);
  wire::PutString(4, shape.schema, &shape.source_head);
  wire::PutString(5, shape.table, &shape.source_head);
  wire::PutString(12, source_.slot, &shape.source_tail);
  wire::PutUint(13, shape.shape_id, &shape.source_tail);
  return shape;
}

bool EnvelopeBuilder::PartsFor(Shape& shape, const pg::RelationInfo& info,
                               int i) {
  Shape::ColumnParts& parts = shape.columns[i];
  const pg::RelationColumn& column = info.relation.columns[i];
  // Column.type and base_type: checked per row, since the relation cache
  // may resolve a type's name after the shape was made.
  const bool named = static_cast<size_t>(i) < info.column_type_names.size();
  std::string base_type =
      BaseTypeNameFor(&relations_->types(), column.type_oid);
  if (parts.built && base_type == parts.base_type &&
      (named ? info.column_type_names[i] == parts.type
             : parts.type == absl::StrCat("oid:", column.type_oid))) {
    return true;
  }
  parts = Shape::ColumnParts();
  parts.type =
      named ? info.column_type_names[i] : absl::StrCat("oid:", column.type_oid);
  parts.base_type = std::move(base_type);
  // Left unbuilt when a name is not UTF-8, so that every row says so.
  if (!IsValidUtf8(parts.type) || !IsValidUtf8(parts.base_type)) return false;
  parts.built = true;
  wire::PutString(1, column.name, &parts.head);
  wire::PutString(2, parts.type, &parts.head);
  auto put_tail = [&](bool key, std::string* tail) {
    wire::PutUint(4, column.type_oid, tail);
    wire::PutUint(5, key ? 1 : 0, tail);
    wire::PutString(6, parts.base_type, tail);
  };
  put_tail(shape.in_key[i], &parts.tail);
  put_tail(true, &parts.key_tail);
  return true;
}

absl::Status EnvelopeBuilder::TypeNameError(const Shape& shape,
                                            const pg::RelationInfo& info,
                                            int i) const {
  const Shape::ColumnParts& parts = shape.columns[i];
  return BadName(info.relation, absl::StrCat("the type name of column ", i + 1),
                 IsValidUtf8(parts.type) ? parts.base_type : parts.type);
}

absl::StatusOr<v1::Value*> EnvelopeBuilder::ConvertColumn(
    const Shape& shape, const pg::RelationInfo& info, int i,
    const pg::TupleValue& value) {
  const pg::RelationColumn& column = info.relation.columns[i];
  v1::Value* out = google::protobuf::Arena::CreateMessage<v1::Value>(&arena_);
  absl::Status status =
      TextToValue(&relations_->types(), column.type_oid, value, out);
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat(shape.schema, ".", shape.table, ".", column.name,
                     " (relation ", info.relation.relation_oid,
                     "): ", status.message()));
  }
  out->ByteSizeLong();  // caches the sizes serializing it needs
  return out;
}

void EnvelopeBuilder::FillSource(const Shape& shape, const TxnContext& txn,
                                 Lsn lsn, uint32_t* seq) {
  v1::Source* source = event_->mutable_source();
  source->set_connector(source_.connector);
  source->set_version(source_.version);
  source->set_db(source_.db);
  source->set_slot(source_.slot);
  source->set_schema(shape.schema);
  source->set_table(shape.table);
  source->set_shape_id(shape.shape_id);
  source->set_lsn(lsn);
  source->set_commit_lsn(txn.commit_lsn);
  source->set_txid(txn.xid);
  source->set_commit_ts_us(txn.commit_ts_us);
  source->set_seq((*seq)++);
  // READ events are exactly the rows snapshots read.
  source->set_snapshot(event_->op() == v1::READ);
}

absl::Status EnvelopeBuilder::FinishRecord(const Shape& shape, v1::Op op,
                                           Record* record) {
  if (!event_->SerializeToString(&record->value)) {
    // Only a message over protobuf's 2 GiB limit fails to serialize.
    return absl::ResourceExhaustedError(absl::StrCat(
        "change event for ", shape.schema, ".", shape.table,
        " is too large to serialize (", event_->ByteSizeLong(), " bytes)"));
  }
  if (op != v1::MESSAGE) record->key.reset();  // a message's is set first
  record->topic = shape.topic;
  record->schema = shape.schema;
  record->table = shape.table;
  record->op = op;
  return absl::OkStatus();
}

absl::Status EnvelopeBuilder::BuildRowChange(v1::Op op, pg::Oid relation_oid,
                                             char old_kind,
                                             const pg::TupleData* old_tuple,
                                             const pg::TupleData* new_tuple,
                                             const TxnContext& txn, Lsn lsn,
                                             uint32_t* seq, int64_t now_ms,
                                             Record* record) {
  const pg::RelationInfo* info = relations_->Find(relation_oid);
  if (info == nullptr) return UnknownRelation(relation_oid);
  Shape& shape = ShapeFor(*info);
  if (!shape.names.ok()) return shape.names;

  if (new_tuple != nullptr) {
    if (absl::Status s = CheckColumnCount(*new_tuple, *info, shape.schema,
                                          shape.table, "new");
        !s.ok()) {
      return s;
    }
  }
  if (old_tuple != nullptr) {
    if (absl::Status s = CheckColumnCount(*old_tuple, *info, shape.schema,
                                          shape.table, "old");
        !s.ok()) {
      return s;
    }
    if (old_kind != 'K' && old_kind != 'O') {
      return absl::DataLossError(absl::StrCat(
          "old tuple for ", shape.schema, ".", shape.table,
          " has unknown kind 0x", absl::Hex(static_cast<uint8_t>(old_kind))));
    }
  }

  // Encoded by hand: the parts of each column and of the source that stay
  // the same from row to row are copied as they are, already in wire
  // format; only the values are converted and serialized by protobuf. The
  // bytes are those protobuf would write for the same ChangeEvent (fields
  // in number order, defaults left out), which the tests check. Building the
  // message instead copied each column's name and type names and checked
  // their UTF-8 on every row: about half the cost of a snapshot row.
  ResetMessages();
  before_columns_.clear();
  after_columns_.clear();
  key_columns_.clear();
  // Inlined (GCC stopped doing so by itself once the name check came in):
  // it runs for every column of every row.
  auto convert =
      [&](const pg::TupleData& tuple, int i, std::vector<EncodedColumn>* out)
          ABSL_ATTRIBUTE_ALWAYS_INLINE -> absl::Status {
    if (!PartsFor(shape, *info, i)) return TypeNameError(shape, *info, i);
    absl::StatusOr<v1::Value*> value =
        ConvertColumn(shape, *info, i, tuple.values[i]);
    if (!value.ok()) return value.status();
    out->push_back({i, *value});
    return absl::OkStatus();
  };
  if (old_tuple != nullptr) {
    // A 'K' image holds only the replica identity columns (the others are
    // nulls that would read as real values).
    const int n = static_cast<int>(old_tuple->values.size());
    const std::vector<int>* only =
        old_kind == 'O' ? nullptr : &shape.identity_columns;
    const int count = only != nullptr ? static_cast<int>(only->size()) : n;
    for (int j = 0; j < count; ++j) {
      if (absl::Status s =
              convert(*old_tuple, only ? (*only)[j] : j, &before_columns_);
          !s.ok()) {
        return s;
      }
    }
  }
  if (new_tuple != nullptr) {
    const int n = static_cast<int>(new_tuple->values.size());
    for (int i = 0; i < n; ++i) {
      if (absl::Status s = convert(*new_tuple, i, &after_columns_); !s.ok()) {
        return s;
      }
    }
  }
  if (!shape.key_columns.empty()) {
    const pg::TupleData* key_tuple =
        new_tuple != nullptr ? new_tuple : old_tuple;
    for (int i : shape.key_columns) {
      const pg::TupleData* from = key_tuple;
      // A TOASTed key column the update left alone arrives as "unchanged";
      // the old image, when sent, has the real value.
      if (key_tuple->values[i].kind == pg::TupleValue::Kind::kUnchangedToast &&
          key_tuple == new_tuple && old_tuple != nullptr &&
          HasValue(old_tuple->values[i])) {
        from = old_tuple;
      }
      // The image's value of the same column of the same tuple, if built.
      const std::vector<EncodedColumn>& image =
          from == new_tuple ? after_columns_ : before_columns_;
      v1::Value* value = nullptr;
      for (const EncodedColumn& c : image) {
        if (c.index == i) value = c.value;
      }
      if (value == nullptr) {
        if (!PartsFor(shape, *info, i)) return TypeNameError(shape, *info, i);
        absl::StatusOr<v1::Value*> converted =
            ConvertColumn(shape, *info, i, from->values[i]);
        if (!converted.ok()) return converted.status();
        value = *converted;
      }
      key_columns_.push_back({i, value});
    }
  }

  auto column_size = [&](const EncodedColumn& c, bool key) {
    const Shape::ColumnParts& parts = shape.columns[c.index];
    return parts.head.size() +
           wire::LengthDelimitedSize(
               static_cast<size_t>(c.value->GetCachedSize())) +
           (key ? parts.key_tail : parts.tail).size();
  };
  auto row_size = [&](const std::vector<EncodedColumn>& columns, bool key) {
    size_t size = 0;
    for (const EncodedColumn& c : columns) {
      size += wire::LengthDelimitedSize(column_size(c, key));
    }
    return size;
  };
  // Row.columns (field 1), each Column's fields in number order, into a
  // buffer already sized for them.
  auto write_row = [&](const std::vector<EncodedColumn>& columns, bool key,
                       char* out) {
    for (const EncodedColumn& c : columns) {
      const Shape::ColumnParts& parts = shape.columns[c.index];
      out = wire::WriteLengthHeader(1, column_size(c, key), out);
      out = wire::WriteBytes(parts.head, out);
      const size_t value_size = static_cast<size_t>(c.value->GetCachedSize());
      out = wire::WriteLengthHeader(3, value_size, out);
      out = reinterpret_cast<char*>(c.value->SerializeWithCachedSizesToArray(
          reinterpret_cast<uint8_t*>(out)));
      out = wire::WriteBytes(key ? parts.key_tail : parts.tail, out);
    }
    return out;
  };

  // Source fields 6-11, between the shape's constant head and tail. READ
  // events are exactly the rows snapshots read.
  source_fields_.clear();
  wire::PutUint(6, lsn, &source_fields_);
  wire::PutUint(7, txn.commit_lsn, &source_fields_);
  wire::PutUint(8, txn.xid, &source_fields_);
  wire::PutUint(9, static_cast<uint64_t>(txn.commit_ts_us), &source_fields_);
  wire::PutUint(10, (*seq)++, &source_fields_);
  wire::PutUint(11, op == v1::READ ? 1 : 0, &source_fields_);
  const size_t source_size = shape.source_head.size() + source_fields_.size() +
                             shape.source_tail.size();
  const size_t before_size = row_size(before_columns_, false);
  const size_t after_size = row_size(after_columns_, false);
  const uint64_t op_value = static_cast<uint64_t>(op);
  const uint64_t ts_value = static_cast<uint64_t>(now_ms);
  const size_t total =
      wire::UintFieldSize(op_value) +
      (old_tuple != nullptr ? wire::LengthDelimitedSize(before_size) : 0) +
      (new_tuple != nullptr ? wire::LengthDelimitedSize(after_size) : 0) +
      wire::LengthDelimitedSize(source_size) + wire::UintFieldSize(ts_value);
  if (total > static_cast<size_t>(INT32_MAX)) {
    // Protobuf's own limit for one message.
    return absl::ResourceExhaustedError(
        absl::StrCat("change event for ", shape.schema, ".", shape.table,
                     " is too large to serialize (", total, " bytes)"));
  }

  // ChangeEvent fields in number order: op, before, after, source, ts_ms.
  std::string& value = record->value;
  value.resize(total);
  char* out = value.data();
  if (op_value != 0) {
    out = wire::WriteVarint(1 << 3 | wire::kVarint, out);
    out = wire::WriteVarint(op_value, out);
  }
  if (old_tuple != nullptr) {
    out = wire::WriteLengthHeader(2, before_size, out);
    out = write_row(before_columns_, false, out);
  }
  if (new_tuple != nullptr) {
    out = wire::WriteLengthHeader(3, after_size, out);
    out = write_row(after_columns_, false, out);
  }
  out = wire::WriteLengthHeader(4, source_size, out);
  out = wire::WriteBytes(shape.source_head, out);
  out = wire::WriteBytes(source_fields_, out);
  out = wire::WriteBytes(shape.source_tail, out);
  if (ts_value != 0) {
    out = wire::WriteVarint(5 << 3 | wire::kVarint, out);
    out = wire::WriteVarint(ts_value, out);
  }
  if (out != value.data() + total) {
    return absl::InternalError(
        absl::StrCat("change event for ", shape.schema, ".", shape.table,
                     ": encoded ", out - value.data(), " bytes of ", total));
  }

  if (shape.key_columns.empty()) {
    record->key.reset();
  } else {
    if (!record->key.has_value()) record->key.emplace();
    record->key->resize(row_size(key_columns_, true));
    write_row(key_columns_, true, record->key->data());
  }
  record->topic = shape.topic;
  record->schema = shape.schema;
  record->table = shape.table;
  record->op = op;
  return absl::OkStatus();
}

bool EnvelopeBuilder::ChangesKey(const pg::UpdateMessage& update) {
  if (!update.old_tuple.has_value()) return false;
  const pg::RelationInfo* info = relations_->Find(update.relation_oid);
  if (info == nullptr) return false;  // BuildRowChange reports it
  const Shape& shape = ShapeFor(*info);
  if (!shape.names.ok()) return false;  // likewise
  const pg::TupleData& old_tuple = *update.old_tuple;
  const size_t n = info->relation.columns.size();
  if (shape.key_columns.empty() || old_tuple.values.size() != n ||
      update.new_tuple.values.size() != n) {
    return false;
  }
  for (int i : shape.key_columns) {
    // A 'K' image holds only the replica identity columns; a key column
    // outside them (a primary key that is not the identity) is unknown.
    if (update.old_kind == 'K' && !info->relation.columns[i].is_key()) {
      return false;
    }
  }
  for (int i : shape.key_columns) {
    const pg::TupleValue& now = update.new_tuple.values[i];
    const pg::TupleValue& before = old_tuple.values[i];
    if (now.kind == pg::TupleValue::Kind::kUnchangedToast) continue;
    if (!(now == before)) return true;
  }
  return false;
}

absl::Status EnvelopeBuilder::BuildRead(pg::Oid relation_oid,
                                        const pg::TupleData& row,
                                        const TxnContext& snapshot,
                                        uint32_t ordinal, int64_t now_ms,
                                        Record* record) {
  uint32_t seq = ordinal;
  absl::Status s =
      BuildRowChange(v1::READ, relation_oid, 0, nullptr, &row, snapshot,
                     snapshot.commit_lsn, &seq, now_ms, record);
  // The stream's errors get their LSN from the pipeline; a snapshot row has
  // the snapshot's.
  if (s.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        absl::StrCat("row ", ordinal, " of the snapshot at LSN ",
                     FormatLsn(snapshot.commit_lsn), ": ", s.message()));
  }
  return s;
}

void EnvelopeBuilder::SetMessageTopic(const std::string& topic) {
  message_shape_.built = true;
  message_shape_.topic = topic;
}

absl::StatusOr<std::vector<Record>> EnvelopeBuilder::Build(
    const pg::PgOutputMessage& change, const TxnContext& txn, Lsn lsn,
    uint32_t* seq, int64_t now_ms) {
  std::vector<Record> records;
  if (absl::Status s = BuildInto(change, txn, lsn, seq, now_ms, &records);
      !s.ok()) {
    return s;
  }
  return records;
}

absl::Status EnvelopeBuilder::BuildInto(const pg::PgOutputMessage& change,
                                        const TxnContext& txn, Lsn lsn,
                                        uint32_t* seq, int64_t now_ms,
                                        std::vector<Record>* out) {
  // Advance the caller's seq only on success, so that a failed message does
  // not leave a gap.
  uint32_t next_seq = seq != nullptr ? *seq : 0;
  std::vector<Record>& records = *out;

  if (const auto* insert = std::get_if<pg::InsertMessage>(&change)) {
    records.resize(1);
    if (absl::Status s = BuildRowChange(v1::CREATE, insert->relation_oid, 0,
                                        nullptr, &insert->new_tuple, txn, lsn,
                                        &next_seq, now_ms, &records[0]);
        !s.ok()) {
      return s;
    }
  } else if (const auto* update = std::get_if<pg::UpdateMessage>(&change);
             update != nullptr && key_change_ == KeyChange::kDeleteCreate &&
             ChangesKey(*update)) {
    records.resize(2);
    if (absl::Status s =
            BuildRowChange(v1::DELETE, update->relation_oid, update->old_kind,
                           &*update->old_tuple, nullptr, txn, lsn, &next_seq,
                           now_ms, &records[0]);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = BuildRowChange(v1::CREATE, update->relation_oid, 0,
                                        nullptr, &update->new_tuple, txn, lsn,
                                        &next_seq, now_ms, &records[1]);
        !s.ok()) {
      return s;
    }
  } else if (update != nullptr) {
    records.resize(1);
    const pg::TupleData* old_tuple =
        update->old_tuple.has_value() ? &*update->old_tuple : nullptr;
    if (absl::Status s = BuildRowChange(
            v1::UPDATE, update->relation_oid, update->old_kind, old_tuple,
            &update->new_tuple, txn, lsn, &next_seq, now_ms, &records[0]);
        !s.ok()) {
      return s;
    }
  } else if (const auto* del = std::get_if<pg::DeleteMessage>(&change)) {
    records.resize(1);
    if (absl::Status s = BuildRowChange(
            v1::DELETE, del->relation_oid, del->old_kind, &del->old_tuple,
            nullptr, txn, lsn, &next_seq, now_ms, &records[0]);
        !s.ok()) {
      return s;
    }
  } else if (const auto* truncate = std::get_if<pg::TruncateMessage>(&change)) {
    records.resize(truncate->relation_oids.size());
    for (size_t r = 0; r < truncate->relation_oids.size(); ++r) {
      const pg::Oid oid = truncate->relation_oids[r];
      const pg::RelationInfo* info = relations_->Find(oid);
      if (info == nullptr) return UnknownRelation(oid);
      const Shape& shape = ShapeFor(*info);
      if (!shape.names.ok()) return shape.names;
      ResetMessages();
      event_->set_op(v1::TRUNCATE);
      event_->set_ts_ms(now_ms);
      FillSource(shape, txn, lsn, &next_seq);
      v1::Truncate* options = event_->mutable_truncate();
      options->set_cascade(
          (truncate->options & pg::TruncateMessage::kCascade) != 0);
      options->set_restart_identity(
          (truncate->options & pg::TruncateMessage::kRestartIdentity) != 0);
      if (absl::Status s = FinishRecord(shape, v1::TRUNCATE, &records[r]);
          !s.ok()) {
        return s;
      }
    }
  } else if (const auto* message = std::get_if<pg::LogicalMessage>(&change)) {
    if (!message_shape_.built) {
      return absl::FailedPreconditionError(
          "a logical message arrived but no message topic is set");
    }
    if (!IsValidUtf8(message->prefix)) {
      return absl::DataLossError(
          absl::StrCat("logical decoding message prefix \"",
                       EscapeBytes(message->prefix), "\"", kNameHint));
    }
    records.resize(1);
    ResetMessages();
    event_->set_op(v1::MESSAGE);
    event_->set_ts_ms(now_ms);
    FillSource(message_shape_, txn, lsn, &next_seq);
    v1::LogicalMessage* out = event_->mutable_message();
    out->set_prefix(message->prefix);
    out->set_content(message->content);
    out->set_transactional(message->transactional);
    v1::Column* prefix = key_->add_columns();
    prefix->set_name("prefix");
    prefix->set_type("text");
    prefix->set_type_oid(25);
    prefix->set_key(true);
    prefix->mutable_value()->set_text(message->prefix);
    records[0].key.emplace();
    key_->SerializeToString(&*records[0].key);
    if (absl::Status s = FinishRecord(message_shape_, v1::MESSAGE, &records[0]);
        !s.ok()) {
      return s;
    }
  } else {
    return absl::InvalidArgumentError(
        "EnvelopeBuilder::Build takes Insert, Update, Delete, Truncate or "
        "logical Message messages only");
  }

  if (seq != nullptr) *seq = next_seq;
  return absl::OkStatus();
}

}  // namespace cdc::envelope
