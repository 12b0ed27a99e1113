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
// record's key is null.
//
// Thread-compatible: one owner.
#ifndef CDC_ENVELOPE_ENVELOPE_BUILDER_H_
#define CDC_ENVELOPE_ENVELOPE_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/v1/change_event.pb.h"

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

class EnvelopeBuilder {
 public:
  EnvelopeBuilder(SourceInfo source, std::string topic_prefix,
                  const pg::RelationCache* relations);

  // Primary-key column names of a table, in key order, from the catalog.
  void SetPrimaryKey(const std::string& schema, const std::string& table,
                     std::vector<std::string> columns);

  // Builds the records for one change message: one for Insert, Update and
  // Delete, one per table for Truncate. `lsn` is the change record's LSN;
  // `seq` is the index within the transaction of the first record built and
  // is advanced by the number built. `now_ms` fills ts_ms.
  // kDataLoss when the message names a relation the cache does not know or
  // a value cannot be read as its column's type; kInvalidArgument for a
  // message that is not a change.
  absl::StatusOr<std::vector<Record>> Build(const pg::PgOutputMessage& change,
                                            const TxnContext& txn, Lsn lsn,
                                            uint32_t* seq, int64_t now_ms);

 private:
  SourceInfo source_;
  std::string topic_prefix_;
  const pg::RelationCache* relations_;
  absl::flat_hash_map<std::string, std::vector<std::string>> primary_keys_;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_ENVELOPE_BUILDER_H_
