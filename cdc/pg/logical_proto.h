// The one-byte codes of PostgreSQL's logical replication protocol, named
// once, as PostgreSQL names them in src/include/replication/logicalproto.h
// (LogicalRepMsgType) and src/include/catalog/pg_class.h (REPLICA_IDENTITY_*),
// so that the decoder, the encoder and their tests speak of kInsert rather
// than 'I'.
//
// The tuple value kinds ('n', 'u', 't', 'b') are TupleValue::Kind in
// pgoutput.h.
//
// Constants only; thread-safe.
#ifndef CDC_PG_LOGICAL_PROTO_H_
#define CDC_PG_LOGICAL_PROTO_H_

#include <cstdint>

namespace cdc::pg {

// The first byte of every pgoutput message (LogicalRepMsgType).
enum class MessageType : char {
  kBegin = 'B',
  kMessage = 'M',
  kCommit = 'C',
  kOrigin = 'O',
  kRelation = 'R',
  kType = 'Y',
  kInsert = 'I',
  kUpdate = 'U',
  kDelete = 'D',
  kTruncate = 'T',
  // Protocol 3: two-phase commit.
  kBeginPrepare = 'b',
  kPrepare = 'P',
  kCommitPrepared = 'K',
  kRollbackPrepared = 'r',
  // Protocol 2: streamed in-progress transactions (and 3's stream prepare).
  kStreamStart = 'S',
  kStreamStop = 'E',
  kStreamCommit = 'c',
  kStreamAbort = 'A',
  kStreamPrepare = 'p',
};

// The byte that precedes a TupleData in Insert, Update and Delete: which
// image of the row follows.
enum class TupleMarker : char {
  kNew = 'N',  // the new row
  kKey = 'K',  // the old row's replica identity key columns (others null)
  kOld = 'O',  // the whole old row (REPLICA IDENTITY FULL)
};

// A Relation message's replica identity (pg_class.relreplident).
inline constexpr char kReplicaIdentityDefault = 'd';  // the primary key
inline constexpr char kReplicaIdentityNothing = 'n';
inline constexpr char kReplicaIdentityFull = 'f';
inline constexpr char kReplicaIdentityIndex = 'i';

// The byte as it is written on the wire.
constexpr uint8_t ByteOf(MessageType type) {
  return static_cast<uint8_t>(type);
}
constexpr uint8_t ByteOf(TupleMarker marker) {
  return static_cast<uint8_t>(marker);
}

}  // namespace cdc::pg

#endif  // CDC_PG_LOGICAL_PROTO_H_
