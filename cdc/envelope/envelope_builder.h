// EnvelopeBuilder: decoded pgoutput changes → Kafka records holding
// cdc.v1.ChangeEvent values and cdc.v1.Row keys.
//
// Pure: it reads table shapes from a RelationCache it does not own (which
// must outlive it) and primary keys the caller loaded from the catalog at
// startup; it never touches the database or the broker.
//
// Key columns: the table's primary key when it has one (also under REPLICA
// IDENTITY FULL, where pgoutput flags every column); else the columns the
// Relation message flags as the replica identity index; else none, and the
// record's key is null. A primary key column missing from the Relation
// message (a shape the catalog read at startup no longer matches) falls back
// to the flagged columns.
//
// Key values come from the new row for Insert and Update and from the old row
// for Delete. An Update that changes the key is keyed by its NEW key only, so
// on a compacted topic the row's old key keeps its last value; emitting a
// tombstone for the old key is left to a later stage. A Delete under a
// replica identity index that is not the primary key gets null key values,
// since pgoutput sends only the index columns of the old row.
//
// before: the whole old row for an 'O' image (REPLICA IDENTITY FULL); only
// the flagged replica identity columns for a 'K' image, because pgoutput
// sends the others as nulls that would read as real values; unset when no
// old image was sent.
//
// Text values that are not UTF-8 become text_bytes (value_codec.h). Names
// have no such fallback: a schema, table, column, type or attribute name, the
// database name or a logical message prefix that is not valid UTF-8 (only a
// SQL_ASCII database holds one) would make the event unreadable, so building
// it fails with kDataLoss naming the relation (OID, and its names escaped).
//
// Thread-compatible: one owner.
#ifndef CDC_ENVELOPE_ENVELOPE_BUILDER_H_
#define CDC_ENVELOPE_ENVELOPE_BUILDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/v1/change_event.pb.h"
#include "google/protobuf/arena.h"

namespace cdc::envelope {

// Constant for a run: fills Source's connector/version/db/slot.
struct SourceInfo {
  std::string connector = "pgcdc";
  std::string version;
  std::string db;
  std::string slot;
};

// The transaction an event belongs to, from its Begin message.
struct TxnContext {
  Lsn commit_lsn = 0;
  pg::TransactionId xid = 0;
  int64_t commit_ts_us = 0;  // Unix epoch microseconds
};

// One Kafka record, ready to produce.
struct Record {
  std::string topic;
  std::optional<std::string> key;  // serialized cdc.v1.Row; nullopt: null key
  std::string value;               // serialized cdc.v1.ChangeEvent
  std::string schema;              // for metrics and messages
  std::string table;
  v1::Op op = v1::OP_UNSPECIFIED;
};

// How errors name a relation: `relation 16384 "public"."orders"`, its names
// escaped (EscapeBytes) so that any bytes print safely.
std::string RelationLabel(const pg::RelationMessage& relation);

// kDataLoss naming the relation when its schema, table or column names are
// not valid UTF-8 (see above). For a snapshot, which checks before it reads.
absl::Status CheckRelationNames(const pg::RelationMessage& relation);

class EnvelopeBuilder {
 public:
  EnvelopeBuilder(SourceInfo source, std::string topic_prefix,
                  const pg::RelationCache* relations);

  // Primary-key column names of a table, in key order, from the catalog.
  void SetPrimaryKey(const std::string& schema, const std::string& table,
                     std::vector<std::string> columns);

  // How an UPDATE that changes the row's key is published: as a DELETE of
  // the old key followed by a CREATE of the new key (the default, so that a
  // compacted topic drops the old key), or as one UPDATE keyed by the new
  // key with both images.
  enum class KeyChange { kDeleteCreate, kUpdate };
  void SetKeyChange(KeyChange mode) { key_change_ = mode; }

  // The topic of MESSAGE events (logical decoding messages).
  void SetMessageTopic(const std::string& topic);

  // Builds the records for one change message: one for Insert, Update,
  // Delete and a logical Message (keyed by its prefix, to the message
  // topic), one per table for Truncate. `lsn` is the change record's LSN;
  // `seq` is the index within the transaction of the first record built and
  // is advanced by the number built. `now_ms` fills ts_ms.
  // kDataLoss when the message names a relation the cache does not know, a
  // value cannot be read as its column's type, or a name is not UTF-8;
  // kInvalidArgument for a message that is not a change.
  absl::StatusOr<std::vector<Record>> Build(const pg::PgOutputMessage& change,
                                            const TxnContext& txn, Lsn lsn,
                                            uint32_t* seq, int64_t now_ms);
  // The same into `records`, resized to what was built: the hot path passes
  // the same vector every time, so that its strings keep their memory and a
  // typical event allocates nothing. On error its contents are unspecified.
  absl::Status BuildInto(const pg::PgOutputMessage& change,
                         const TxnContext& txn, Lsn lsn, uint32_t* seq,
                         int64_t now_ms, std::vector<Record>* records);

  // Builds the READ record of one row a snapshot read from table
  // `relation_oid` (described in the cache like a streamed table), into
  // `record`: `after` only, keyed like a streamed row, source.snapshot set.
  // Its identity is source.commit_lsn = source.lsn = `snapshot.commit_lsn`
  // (the snapshot's consistent point) and source.seq = `ordinal`, the row's
  // index in its table's snapshot. Errors as for Build; kDataLoss messages
  // name the row and that LSN.
  absl::Status BuildRead(pg::Oid relation_oid, const pg::TupleData& row,
                         const TxnContext& snapshot, uint32_t ordinal,
                         int64_t now_ms, Record* record);

 private:
  // What Build derives from one shape of a table, kept per relation OID so
  // that the hot path looks nothing up by name. Rebuilt when the relation's
  // shape_version moves on; all of it dropped when a primary key is set.
  struct Shape {
    bool built = false;
    uint32_t shape_version = 0;
    uint64_t shape_id = 0;
    std::string schema;  // "pg_catalog" for the Relation message's ""
    std::string table;
    std::string topic;
    std::vector<int> key_columns;       // message key columns, in key order
    std::vector<bool> in_key;           // parallel to the relation's columns
    std::vector<int> identity_columns;  // flagged replica identity columns
    // Row changes are encoded by hand (EncodeRowChange), from these parts
    // that stay the same from row to row, already in wire format.
    struct ColumnParts {
      bool built = false;
      std::string type;       // the Column.type and base_type they were
      std::string base_type;  // made with (type names can be resolved late)
      std::string head;       // Column fields 1-2: name, type
      std::string tail;      // fields 4-6: type_oid, key (as in_key), base_type
      std::string key_tail;  // the same with key = true, for message keys
    };
    std::vector<ColumnParts> columns;  // parallel to the relation's columns
    std::string source_head;           // Source fields 1-5
    std::string source_tail;           // Source fields 12-13
    // Whether its names (and the database's) are UTF-8: the error every
    // event of the shape fails with otherwise.
    absl::Status names;
  };
  // One column of a row being encoded: its index and converted value.
  struct EncodedColumn {
    int index;
    v1::Value* value;
  };

  Shape& ShapeFor(const pg::RelationInfo& info);
  // Makes Shape::columns[i] current: remade when the type names it holds
  // changed. False when a type name is not UTF-8 (the parts stay unbuilt);
  // TypeNameError then says which.
  bool PartsFor(Shape& shape, const pg::RelationInfo& info, int i);
  absl::Status TypeNameError(const Shape& shape, const pg::RelationInfo& info,
                             int i) const;
  // Column `i`'s `value` converted into a Value on the arena, its size
  // cached; errors name the column.
  absl::StatusOr<v1::Value*> ConvertColumn(const Shape& shape,
                                           const pg::RelationInfo& info, int i,
                                           const pg::TupleValue& value);
  // Whether `update` moves the row to another key, as far as its old image
  // tells (false when it cannot tell).
  bool ChangesKey(const pg::UpdateMessage& update);
  absl::Status BuildRowChange(v1::Op op, pg::Oid relation_oid, char old_kind,
                              const pg::TupleData* old_tuple,
                              const pg::TupleData* new_tuple,
                              const TxnContext& txn, Lsn lsn, uint32_t* seq,
                              int64_t now_ms, Record* record);
  void FillSource(const Shape& shape, const TxnContext& txn, Lsn lsn,
                  uint32_t* seq);
  absl::Status FinishRecord(const Shape& shape, v1::Op op, Record* record);

  SourceInfo source_;
  std::string topic_prefix_;
  const pg::RelationCache* relations_;
  // Keyed by schema + '\0' + table: names may hold '.', never NUL.
  absl::flat_hash_map<std::string, std::vector<std::string>> primary_keys_;
  absl::flat_hash_map<pg::Oid, Shape> shapes_;
  Shape message_shape_;  // topic only: messages belong to no table
  KeyChange key_change_ = KeyChange::kDeleteCreate;
  // The event and key being built live on an arena that is reset for each
  // record: without one, Clear() deletes the sub-messages (source, before,
  // after) and every column was allocated anew per event. The arena's first
  // block is ours and survives Reset(), so a typical event allocates nothing.
  void ResetMessages();
  // Scratch for BuildRowChange, kept to reuse their memory.
  std::vector<EncodedColumn> before_columns_;
  std::vector<EncodedColumn> after_columns_;
  std::vector<EncodedColumn> key_columns_;
  std::string source_fields_;
  static constexpr size_t kArenaBlockBytes = 64 * 1024;
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
  v1::ChangeEvent* event_ = nullptr;
  v1::Row* key_ = nullptr;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_ENVELOPE_BUILDER_H_
