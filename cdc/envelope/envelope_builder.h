// EnvelopeBuilder: decoded pgoutput changes → pgcdc's events → Kafka
// records. It decides which events a change makes and what each holds (the
// event view of encoder.h); its Encoder writes them in the output format,
// ProtobufEncoder's cdc.v1 envelope unless SetEncoder gives another.
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
// for Delete; a key column an Update left TOASTed and unchanged takes the old
// image's value when one was sent. An Update that changes the key becomes a
// DELETE of the old key then a CREATE of the new one, unless
// SetKeyChange(kUpdate) asks for one UPDATE keyed by its new key. A Delete
// under a replica identity index that is not the primary key gets null key
// values, since pgoutput sends only the index columns of the old row.
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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/envelope/encoder.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/v1/change_event.pb.h"
#include "google/protobuf/arena.h"

namespace cdc::envelope {

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

  // The output format; ProtobufEncoder until this is called. Call it before
  // the first Build.
  void SetEncoder(std::unique_ptr<Encoder> encoder);

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

  // Builds the events of one change message and has the encoder write
  // their records: one event for Insert, Update, Delete and a logical
  // Message (keyed by its prefix, to the message topic), two for an Update
  // that changes the key (see above), one per table for Truncate. `lsn` is
  // the change record's LSN; `seq` is the index within the transaction of
  // the first event built and is advanced by the number built. `now_us` is
  // the events' time (ts_ms).
  // kDataLoss when the message names a relation the cache does not know, a
  // value cannot be read as its column's type, or a name is not UTF-8;
  // kResourceExhausted for an event too large to encode; kInvalidArgument
  // for a message that is not a change.
  absl::StatusOr<std::vector<Record>> Build(const pg::PgOutputMessage& change,
                                            const TxnContext& txn, Lsn lsn,
                                            uint32_t* seq, int64_t now_us);
  // The same into `records`, resized to what was built: the hot path passes
  // the same vector every time, so that its strings keep their memory and a
  // typical event allocates nothing. On error its contents are unspecified.
  absl::Status BuildInto(const pg::PgOutputMessage& change,
                         const TxnContext& txn, Lsn lsn, uint32_t* seq,
                         int64_t now_us, std::vector<Record>* records);

  // The records that the start (`begin`) or the end of a transaction the
  // server committed makes in the output format (Encoder::BeginTransaction
  // and EndTransaction, which say what `lsn` is), into `records`, resized
  // to them: usually none.
  absl::Status BuildTransactionBoundary(bool begin, const TxnContext& txn,
                                        Lsn lsn, std::vector<Record>* records);

  // Builds the READ record of one row a snapshot read from table
  // `relation_oid` (described in the cache like a streamed table), into
  // `record`: the new image only, keyed like a streamed row, flagged as a
  // snapshot's.
  // Its identity is source.commit_lsn = source.lsn = `snapshot.commit_lsn`
  // (the snapshot's consistent point) and source.seq = `ordinal`, the row's
  // index in its table's snapshot. Errors as for Build; kDataLoss messages
  // name the row and that LSN.
  // `mark` says where the row stands in its snapshot (Event::snapshot_mark).
  absl::Status BuildRead(pg::Oid relation_oid, const pg::TupleData& row,
                         const TxnContext& snapshot, uint32_t ordinal,
                         SnapshotMark mark, int64_t now_us, Record* record);

 private:
  // What Build derives from one shape of a table, kept per relation OID so
  // that the hot path looks nothing up by name. Rebuilt when the relation's
  // shape_version moves on; all of it dropped when a primary key is set.
  struct Shape {
    bool built = false;
    uint32_t shape_version = 0;
    TableShape table;
    std::vector<int> identity_columns;  // flagged replica identity columns
    // Whether its names (and the database's) are UTF-8: the error every
    // event of the shape fails with otherwise.
    absl::Status names;
  };
  // A row change as its message gives it.
  struct RowChange {
    v1::Op op = v1::OP_UNSPECIFIED;
    pg::Oid relation_oid = 0;
    char old_kind = 0;  // 'K' or 'O' when old_tuple is set
    const pg::TupleData* old_tuple = nullptr;
    const pg::TupleData* new_tuple = nullptr;
  };
  // The converted columns of one row event, kept to reuse their memory.
  struct RowImages {
    std::vector<ColumnValue> before;
    std::vector<ColumnValue> after;
    std::vector<ColumnValue> key;
  };

  Shape& ShapeFor(const pg::RelationInfo& info);
  // Makes the type names of column `i` current (the relation cache can
  // resolve them after the shape was made). False when one is not UTF-8;
  // TypeNameError then says which.
  bool ResolveColumnType(Shape& shape, const pg::RelationInfo& info, int i);
  absl::Status TypeNameError(const Shape& shape, const pg::RelationInfo& info,
                             int i) const;
  // Column `i` of `tuple`, its type names checked and its value converted
  // onto the arena, appended to `out`. Errors name the column.
  absl::Status AddColumn(Shape& shape, const pg::RelationInfo& info,
                         const pg::TupleData& tuple, int i,
                         std::vector<ColumnValue>* out);
  // Whether `update` moves the row to another key, as far as its old image
  // tells (false when it cannot tell).
  bool ChangesKey(const pg::UpdateMessage& update);

  // Each builds the events of one change and has the encoder write them to
  // `out`. `stamp` holds what the events share (transaction, LSN, time) and
  // the seq of the next one, advanced past those built.
  absl::Status BuildChange(const pg::PgOutputMessage& change, Event* stamp,
                           RecordWriter* out);
  absl::Status BuildRow(const RowChange& change, Event* stamp,
                        RecordWriter* out);
  absl::Status BuildKeyChange(const pg::UpdateMessage& update, Event* stamp,
                              RecordWriter* out);
  absl::Status BuildTruncate(const pg::TruncateMessage& truncate, Event* stamp,
                             RecordWriter* out);
  absl::Status BuildMessage(const pg::LogicalMessage& message, Event* stamp,
                            RecordWriter* out);
  // The event of `change` into `event`, its columns into `images`.
  absl::Status MakeRowEvent(const RowChange& change, Event* stamp,
                            RowImages* images, RowEvent* event);
  absl::Status ConvertImages(const RowChange& change, Shape& shape,
                             const pg::RelationInfo& info, RowImages* images);
  absl::Status CollectKey(const RowChange& change, Shape& shape,
                          const pg::RelationInfo& info, RowImages* images);

  SourceInfo source_;
  std::string topic_prefix_;
  const pg::RelationCache* relations_;
  std::unique_ptr<Encoder> encoder_;
  // Keyed by schema + '\0' + table: names may hold '.', never NUL.
  absl::flat_hash_map<std::string, std::vector<std::string>> primary_keys_;
  absl::flat_hash_map<pg::Oid, Shape> shapes_;
  Shape message_shape_;  // topic only: messages belong to no table
  KeyChange key_change_ = KeyChange::kDeleteCreate;
  // The last ColumnType::version given out. Versions never repeat, so an
  // encoder never takes new type names for those it made its parts from.
  uint32_t type_versions_ = 0;
  // Scratch, kept to reuse their memory: the columns of a row event (of
  // two for a key change), and BuildRead's record.
  RowImages images_[2];
  std::vector<Record> read_records_;
  // The values being converted live on an arena that is reset for each
  // change: its first block is ours and survives Reset(), so a typical
  // event allocates nothing.
  static constexpr size_t kArenaBlockBytes = 64 * 1024;
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_ENVELOPE_BUILDER_H_
