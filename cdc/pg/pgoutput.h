// pgoutput: the logical replication message format of PostgreSQL's pgoutput
// plugin (src/backend/replication/logical/proto.c), decoded into plain values.
//
// DecodePgOutput is a pure function from the bytes of one XLogData payload to
// one PgOutputMessage; it never queries the database. EncodePgOutput is its
// inverse, kept beside it so that the one wire format lives in one place (the
// tests and benchmarks build server-shaped input with it).
//
// Protocol versions: 1 (base), 2 (streaming: data messages inside a stream
// carry the transaction id first), 3 (two-phase). The caller says, through
// DecodeContext, whether a stream is open, because the bytes alone do not.
//
// Thread-safety: stateless functions; values are thread-compatible.
#ifndef CDC_PG_PGOUTPUT_H_
#define CDC_PG_PGOUTPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"

namespace cdc::pg {

using Oid = uint32_t;
using TransactionId = uint32_t;

// One column value of a TupleData.
struct TupleValue {
  enum class Kind : char {
    kNull = 'n',
    kUnchangedToast = 'u',
    kText = 't',
    kBinary = 'b',
  };
  Kind kind = Kind::kNull;
  std::string data;  // kText: the type's text output; kBinary: its send form

  friend bool operator==(const TupleValue& a, const TupleValue& b) {
    return a.kind == b.kind && a.data == b.data;
  }
};

struct TupleData {
  std::vector<TupleValue> values;
  friend bool operator==(const TupleData& a, const TupleData& b) {
    return a.values == b.values;
  }
};

struct BeginMessage {     // 'B'
  Lsn final_lsn = 0;      // LSN of the commit record
  int64_t commit_ts = 0;  // PostgreSQL epoch microseconds
  TransactionId xid = 0;
};

struct CommitMessage {  // 'C'
  uint8_t flags = 0;
  Lsn commit_lsn = 0;  // LSN of the commit record
  Lsn end_lsn = 0;     // end of the commit record: the position to confirm
  int64_t commit_ts = 0;
};

struct OriginMessage {  // 'O'
  Lsn commit_lsn = 0;
  std::string name;
};

struct RelationColumn {
  uint8_t flags = 0;  // 1: part of the replica identity key
  std::string name;
  Oid type_oid = 0;
  int32_t type_modifier = -1;
  bool is_key() const { return (flags & 1) != 0; }
};

struct RelationMessage {             // 'R'
  std::optional<TransactionId> xid;  // inside a stream (protocol 2+)
  Oid relation_oid = 0;
  std::string namespace_name;  // "" means pg_catalog
  std::string relation_name;
  char replica_identity = 'd';  // 'd' default, 'n' nothing, 'f' full, 'i' index
  std::vector<RelationColumn> columns;
};

struct TypeMessage {  // 'Y'
  std::optional<TransactionId> xid;
  Oid type_oid = 0;
  std::string namespace_name;
  std::string type_name;
};

struct InsertMessage {  // 'I'
  std::optional<TransactionId> xid;
  Oid relation_oid = 0;
  TupleData new_tuple;
};

struct UpdateMessage {  // 'U'
  std::optional<TransactionId> xid;
  Oid relation_oid = 0;
  // 'K': the old key columns (others null); 'O': the whole old row
  // (REPLICA IDENTITY FULL); 0: no old image was sent.
  char old_kind = 0;
  std::optional<TupleData> old_tuple;
  TupleData new_tuple;
};

struct DeleteMessage {  // 'D'
  std::optional<TransactionId> xid;
  Oid relation_oid = 0;
  char old_kind = 'K';  // 'K' or 'O', as for UpdateMessage
  TupleData old_tuple;
};

struct TruncateMessage {  // 'T'
  static constexpr uint8_t kCascade = 1;
  static constexpr uint8_t kRestartIdentity = 2;
  std::optional<TransactionId> xid;
  uint8_t options = 0;
  std::vector<Oid> relation_oids;
};

struct LogicalMessage {  // 'M'
  std::optional<TransactionId> xid;
  bool transactional = false;
  // The END of the message's WAL record, which is where the next record
  // begins: logicalmsg_decode (replication/logical/decode.c) queues the
  // message with buf->endptr, not buf->origptr.
  Lsn lsn = 0;
  std::string prefix;
  std::string content;
};

// The position to confirm once a non-transactional message is published: its
// `lsn` itself, not one past it. After a restart the server skips a
// non-transactional message whose record starts before the confirmed
// position (logicalmsg_decode: SnapBuildXactNeedsSkip(builder, buf->origptr))
// and a transaction whose commit record does (DecodeTXNNeedSkip →
// SnapBuildXactNeedsSkip(origptr)). The record right after the message starts
// exactly at `lsn`: confirming `lsn` skips the message and keeps that record;
// `lsn + 1` would lose it (pinned by an integration test that stops on the
// transaction committed right after a message).
inline Lsn ConfirmPositionOf(const LogicalMessage& message) {
  return message.lsn;
}

struct StreamStartMessage {  // 'S'
  TransactionId xid = 0;
  bool first_segment = false;
};

struct StreamStopMessage {};  // 'E'

struct StreamCommitMessage {  // 'c'
  TransactionId xid = 0;
  uint8_t flags = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;
  int64_t commit_ts = 0;
};

struct StreamAbortMessage {  // 'A'
  TransactionId xid = 0;
  TransactionId subxid = 0;
};

struct BeginPrepareMessage {  // 'b'
  Lsn prepare_lsn = 0;
  Lsn end_lsn = 0;
  int64_t prepare_ts = 0;
  TransactionId xid = 0;
  std::string gid;
};

struct PrepareMessage {  // 'P'
  uint8_t flags = 0;
  Lsn prepare_lsn = 0;
  Lsn end_lsn = 0;
  int64_t prepare_ts = 0;
  TransactionId xid = 0;
  std::string gid;
};

struct CommitPreparedMessage {  // 'K'
  uint8_t flags = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;
  int64_t commit_ts = 0;
  TransactionId xid = 0;
  std::string gid;
};

struct RollbackPreparedMessage {  // 'r'
  uint8_t flags = 0;
  Lsn prepare_end_lsn = 0;
  Lsn rollback_end_lsn = 0;
  int64_t prepare_ts = 0;
  int64_t rollback_ts = 0;
  TransactionId xid = 0;
  std::string gid;
};

struct StreamPrepareMessage {  // 'p'
  uint8_t flags = 0;
  Lsn prepare_lsn = 0;
  Lsn end_lsn = 0;
  int64_t prepare_ts = 0;
  TransactionId xid = 0;
  std::string gid;
};

using PgOutputMessage =
    std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage,
                 TypeMessage, InsertMessage, UpdateMessage, DeleteMessage,
                 TruncateMessage, LogicalMessage, StreamStartMessage,
                 StreamStopMessage, StreamCommitMessage, StreamAbortMessage,
                 BeginPrepareMessage, PrepareMessage, CommitPreparedMessage,
                 RollbackPreparedMessage, StreamPrepareMessage>;

struct DecodeContext {
  // True between Stream Start and Stream Stop: data messages ('R', 'Y', 'I',
  // 'U', 'D', 'T', transactional 'M') then begin with the transaction id.
  bool in_stream = false;
};

// Decodes one pgoutput message. Short, truncated or unknown input is
// kDataLoss with a message naming the message type and the field expected.
absl::StatusOr<PgOutputMessage> DecodePgOutput(
    std::string_view bytes, const DecodeContext& context = {});

// Writes `message` in the wire form DecodePgOutput reads. Fields that only
// exist inside a stream are written when their optional xid is set.
std::string EncodePgOutput(const PgOutputMessage& message);

// The (sub)transaction id a data message carries inside a stream: set for
// Relation, Type, Insert, Update, Delete, Truncate and Message decoded with
// DecodeContext::in_stream; nullopt for every other message.
std::optional<TransactionId> StreamXidOf(const PgOutputMessage& message);

// The message type byte's human name ("Insert", "Stream Commit", ...), for
// error messages; "unknown" for anything else.
std::string_view PgOutputMessageName(char type);

}  // namespace cdc::pg

#endif  // CDC_PG_PGOUTPUT_H_
