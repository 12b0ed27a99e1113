#include "cdc/pg/pgoutput.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "cdc/pg/byte_cursor.h"
#include "cdc/pg/logical_proto.h"

namespace cdc::pg {
namespace {

// Field names for the one tuple-shaped part of a message, so that an error
// says which tuple of which message was being read.
struct TupleFields {
  std::string_view ncolumns;
  std::string_view kind;
  std::string_view length;
  std::string_view value;
};

constexpr TupleFields kInsertNew = {
    "Insert.new_tuple.ncolumns", "Insert.new_tuple.kind",
    "Insert.new_tuple.length", "Insert.new_tuple.value"};
constexpr TupleFields kUpdateOld = {
    "Update.old_tuple.ncolumns", "Update.old_tuple.kind",
    "Update.old_tuple.length", "Update.old_tuple.value"};
constexpr TupleFields kUpdateNew = {
    "Update.new_tuple.ncolumns", "Update.new_tuple.kind",
    "Update.new_tuple.length", "Update.new_tuple.value"};
constexpr TupleFields kDeleteOld = {
    "Delete.old_tuple.ncolumns", "Delete.old_tuple.kind",
    "Delete.old_tuple.length", "Delete.old_tuple.value"};

// "'K' (0x4b)" for printable bytes, "0x05" otherwise: a corrupt stream is
// usually diagnosed from exactly this byte.
std::string DescribeByte(uint8_t b) {
  if (b >= 0x20 && b < 0x7f) return absl::StrFormat("'%c' (0x%02x)", b, b);
  return absl::StrFormat("0x%02x", b);
}

// Decoders report bare details; DecodePgOutput prefixes the message type once.
absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(AsAbsl(what));
}

// Inside a stream (protocol 2+) the data messages are prefixed with the
// streamed transaction's xid; outside one they are not, and nothing in the
// bytes says which, so the caller's context decides.
absl::Status ReadStreamXid(ByteCursor& c, const DecodeContext& context,
                           std::string_view field,
                           std::optional<TransactionId>* xid) {
  if (!context.in_stream) return absl::OkStatus();
  CDC_ASSIGN_OR_RETURN(*xid, c.ReadU32(field));
  return absl::OkStatus();
}

absl::Status DecodeValue(ByteCursor& c, const TupleFields& f,
                         TupleValue* value) {
  CDC_ASSIGN_OR_RETURN(const uint8_t kind, c.ReadU8(f.kind));
  switch (static_cast<TupleValue::Kind>(kind)) {
    case TupleValue::Kind::kNull:
      value->kind = TupleValue::Kind::kNull;
      return absl::OkStatus();
    case TupleValue::Kind::kUnchangedToast:
      value->kind = TupleValue::Kind::kUnchangedToast;
      return absl::OkStatus();
    case TupleValue::Kind::kText:
    case TupleValue::Kind::kBinary: {
      CDC_ASSIGN_OR_RETURN(const int32_t length, c.ReadI32(f.length));
      if (length < 0) {
        return absl::DataLossError(
            absl::StrCat(AsAbsl(f.length), " is negative (", length, ")"));
      }
      CDC_ASSIGN_OR_RETURN(const std::string_view data,
                           c.ReadBytes(static_cast<size_t>(length), f.value));
      value->kind = static_cast<TupleValue::Kind>(kind);
      value->data.assign(data.data(), data.size());
      return absl::OkStatus();
    }
    default:
      return absl::DataLossError(
          absl::StrCat(AsAbsl(f.kind), " is ", DescribeByte(kind),
                       ", expected 'n', 'u', 't' or 'b'"));
  }
}

absl::Status DecodeTuple(ByteCursor& c, const TupleFields& f,
                         TupleData* tuple) {
  CDC_ASSIGN_OR_RETURN(const uint16_t ncolumns, c.ReadU16(f.ncolumns));
  // Every column takes at least its kind byte; checking up front keeps a
  // corrupt count from allocating 64Ki values before failing.
  if (ncolumns > c.remaining()) {
    return Malformed(absl::StrCat(AsAbsl(f.ncolumns), " is ", ncolumns,
                                  " but only ", c.remaining(),
                                  " bytes are left"));
  }
  tuple->values.resize(ncolumns);
  for (size_t i = 0; i < ncolumns; ++i) {
    absl::Status status = DecodeValue(c, f, &tuple->values[i]);
    if (!status.ok()) {
      return Malformed(absl::StrCat(status.message(), " (column index ", i,
                                    " of ", ncolumns, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeBegin(ByteCursor& c, BeginMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->final_lsn, c.ReadU64("Begin.final_lsn"));
  CDC_ASSIGN_OR_RETURN(m->commit_ts, c.ReadI64("Begin.commit_ts"));
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Begin.xid"));
  return absl::OkStatus();
}

absl::Status DecodeCommit(ByteCursor& c, CommitMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->flags, c.ReadU8("Commit.flags"));
  CDC_ASSIGN_OR_RETURN(m->commit_lsn, c.ReadU64("Commit.commit_lsn"));
  CDC_ASSIGN_OR_RETURN(m->end_lsn, c.ReadU64("Commit.end_lsn"));
  CDC_ASSIGN_OR_RETURN(m->commit_ts, c.ReadI64("Commit.commit_ts"));
  return absl::OkStatus();
}

absl::Status DecodeOrigin(ByteCursor& c, OriginMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->commit_lsn, c.ReadU64("Origin.commit_lsn"));
  CDC_ASSIGN_OR_RETURN(const std::string_view name,
                       c.ReadCString("Origin.name"));
  m->name.assign(name.data(), name.size());
  return absl::OkStatus();
}

absl::Status DecodeRelation(ByteCursor& c, const DecodeContext& context,
                            RelationMessage* m) {
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Relation.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(m->relation_oid, c.ReadU32("Relation.relation_oid"));
  CDC_ASSIGN_OR_RETURN(const std::string_view nspname,
                       c.ReadCString("Relation.namespace"));
  CDC_ASSIGN_OR_RETURN(const std::string_view relname,
                       c.ReadCString("Relation.relation_name"));
  CDC_ASSIGN_OR_RETURN(const uint8_t replident,
                       c.ReadU8("Relation.replica_identity"));
  switch (replident) {
    case kReplicaIdentityDefault:
    case kReplicaIdentityNothing:
    case kReplicaIdentityFull:
    case kReplicaIdentityIndex:
      break;
    default:
      return Malformed(absl::StrCat("Relation.replica_identity is ",
                                    DescribeByte(replident),
                                    ", expected 'd', 'n', 'f' or 'i'"));
  }
  CDC_ASSIGN_OR_RETURN(const uint16_t ncolumns, c.ReadU16("Relation.ncolumns"));
  // flags + name's NUL + type OID + typmod: the least a column can take.
  constexpr size_t kMinColumnBytes = 1 + 1 + 4 + 4;
  if (size_t{ncolumns} * kMinColumnBytes > c.remaining()) {
    return Malformed(absl::StrCat("Relation.ncolumns is ", ncolumns,
                                  " but only ", c.remaining(),
                                  " bytes are left"));
  }
  m->namespace_name.assign(nspname.data(), nspname.size());
  m->relation_name.assign(relname.data(), relname.size());
  m->replica_identity = static_cast<char>(replident);
  m->columns.resize(ncolumns);
  for (RelationColumn& column : m->columns) {
    CDC_ASSIGN_OR_RETURN(column.flags, c.ReadU8("Relation.column.flags"));
    CDC_ASSIGN_OR_RETURN(const std::string_view name,
                         c.ReadCString("Relation.column.name"));
    column.name.assign(name.data(), name.size());
    CDC_ASSIGN_OR_RETURN(column.type_oid,
                         c.ReadU32("Relation.column.type_oid"));
    CDC_ASSIGN_OR_RETURN(column.type_modifier,
                         c.ReadI32("Relation.column.type_modifier"));
  }
  return absl::OkStatus();
}

absl::Status DecodeType(ByteCursor& c, const DecodeContext& context,
                        TypeMessage* m) {
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Type.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(m->type_oid, c.ReadU32("Type.type_oid"));
  CDC_ASSIGN_OR_RETURN(const std::string_view nspname,
                       c.ReadCString("Type.namespace"));
  CDC_ASSIGN_OR_RETURN(const std::string_view typname,
                       c.ReadCString("Type.type_name"));
  m->namespace_name.assign(nspname.data(), nspname.size());
  m->type_name.assign(typname.data(), typname.size());
  return absl::OkStatus();
}

absl::Status DecodeInsert(ByteCursor& c, const DecodeContext& context,
                          InsertMessage* m) {
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Insert.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(m->relation_oid, c.ReadU32("Insert.relation_oid"));
  CDC_ASSIGN_OR_RETURN(const uint8_t marker,
                       c.ReadU8("Insert.new_tuple_marker"));
  if (marker != ByteOf(TupleMarker::kNew)) {
    return Malformed(absl::StrCat("tuple marker is ", DescribeByte(marker),
                                  ", expected 'N'"));
  }
  return DecodeTuple(c, kInsertNew, &m->new_tuple);
}

absl::Status DecodeUpdate(ByteCursor& c, const DecodeContext& context,
                          UpdateMessage* m) {
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Update.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(m->relation_oid, c.ReadU32("Update.relation_oid"));
  CDC_ASSIGN_OR_RETURN(uint8_t marker, c.ReadU8("Update.tuple_marker"));
  if (marker == ByteOf(TupleMarker::kKey) ||
      marker == ByteOf(TupleMarker::kOld)) {
    m->old_kind = static_cast<char>(marker);
    CDC_RETURN_IF_ERROR(DecodeTuple(c, kUpdateOld, &m->old_tuple.emplace()));
    CDC_ASSIGN_OR_RETURN(marker, c.ReadU8("Update.new_tuple_marker"));
    if (marker != ByteOf(TupleMarker::kNew)) {
      return Malformed(absl::StrCat("marker after the old tuple is ",
                                    DescribeByte(marker), ", expected 'N'"));
    }
  } else if (marker != ByteOf(TupleMarker::kNew)) {
    return Malformed(absl::StrCat("tuple marker is ", DescribeByte(marker),
                                  ", expected 'K', 'O' or 'N'"));
  }
  return DecodeTuple(c, kUpdateNew, &m->new_tuple);
}

absl::Status DecodeDelete(ByteCursor& c, const DecodeContext& context,
                          DeleteMessage* m) {
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Delete.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(m->relation_oid, c.ReadU32("Delete.relation_oid"));
  CDC_ASSIGN_OR_RETURN(const uint8_t marker, c.ReadU8("Delete.tuple_marker"));
  if (marker != ByteOf(TupleMarker::kKey) &&
      marker != ByteOf(TupleMarker::kOld)) {
    return Malformed(absl::StrCat("tuple marker is ", DescribeByte(marker),
                                  ", expected 'K' or 'O'"));
  }
  m->old_kind = static_cast<char>(marker);
  return DecodeTuple(c, kDeleteOld, &m->old_tuple);
}

absl::Status DecodeTruncate(ByteCursor& c, const DecodeContext& context,
                            TruncateMessage* m) {
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Truncate.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(const int32_t nrelations,
                       c.ReadI32("Truncate.nrelations"));
  CDC_ASSIGN_OR_RETURN(m->options, c.ReadU8("Truncate.options"));
  if (nrelations < 0) {
    return Malformed(
        absl::StrCat("Truncate.nrelations is negative (", nrelations, ")"));
  }
  if (uint64_t{static_cast<uint32_t>(nrelations)} * 4 > c.remaining()) {
    return Malformed(absl::StrCat("Truncate.nrelations is ", nrelations,
                                  " but only ", c.remaining(),
                                  " bytes are left for their OIDs"));
  }
  m->relation_oids.resize(static_cast<size_t>(nrelations));
  for (Oid& oid : m->relation_oids) {
    CDC_ASSIGN_OR_RETURN(oid, c.ReadU32("Truncate.relation_oid"));
  }
  return absl::OkStatus();
}

absl::Status DecodeLogicalMessage(ByteCursor& c, const DecodeContext& context,
                                  LogicalMessage* m) {
  // pgoutput writes the xid whenever a stream is open; a non-transactional
  // message is delivered at decode time, never from inside a streamed chunk.
  CDC_RETURN_IF_ERROR(ReadStreamXid(c, context, "Message.xid", &m->xid));
  CDC_ASSIGN_OR_RETURN(const uint8_t flags, c.ReadU8("Message.flags"));
  if (flags > 1) {
    return Malformed(absl::StrCat("Message.flags is ", flags,
                                  ", expected 0 or 1 (transactional)"));
  }
  m->transactional = flags == 1;
  CDC_ASSIGN_OR_RETURN(m->lsn, c.ReadU64("Message.lsn"));
  CDC_ASSIGN_OR_RETURN(const std::string_view prefix,
                       c.ReadCString("Message.prefix"));
  CDC_ASSIGN_OR_RETURN(const int32_t length, c.ReadI32("Message.length"));
  if (length < 0) {
    return Malformed(absl::StrCat("Message.length is negative (", length, ")"));
  }
  CDC_ASSIGN_OR_RETURN(
      const std::string_view content,
      c.ReadBytes(static_cast<size_t>(length), "Message.content"));
  m->prefix.assign(prefix.data(), prefix.size());
  m->content.assign(content.data(), content.size());
  return absl::OkStatus();
}

absl::Status DecodeStreamStart(ByteCursor& c, StreamStartMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Stream Start.xid"));
  CDC_ASSIGN_OR_RETURN(const uint8_t first,
                       c.ReadU8("Stream Start.first_segment"));
  if (first > 1) {
    return Malformed(absl::StrCat("Stream Start.first_segment is ", first,
                                  ", expected 0 or 1"));
  }
  m->first_segment = first == 1;
  return absl::OkStatus();
}

absl::Status DecodeStreamCommit(ByteCursor& c, StreamCommitMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Stream Commit.xid"));
  CDC_ASSIGN_OR_RETURN(m->flags, c.ReadU8("Stream Commit.flags"));
  CDC_ASSIGN_OR_RETURN(m->commit_lsn, c.ReadU64("Stream Commit.commit_lsn"));
  CDC_ASSIGN_OR_RETURN(m->end_lsn, c.ReadU64("Stream Commit.end_lsn"));
  CDC_ASSIGN_OR_RETURN(m->commit_ts, c.ReadI64("Stream Commit.commit_ts"));
  return absl::OkStatus();
}

absl::Status DecodeStreamAbort(ByteCursor& c, StreamAbortMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Stream Abort.xid"));
  CDC_ASSIGN_OR_RETURN(m->subxid, c.ReadU32("Stream Abort.subxid"));
  return absl::OkStatus();
}

absl::Status DecodeBeginPrepare(ByteCursor& c, BeginPrepareMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->prepare_lsn, c.ReadU64("Begin Prepare.prepare_lsn"));
  CDC_ASSIGN_OR_RETURN(m->end_lsn, c.ReadU64("Begin Prepare.end_lsn"));
  CDC_ASSIGN_OR_RETURN(m->prepare_ts, c.ReadI64("Begin Prepare.prepare_ts"));
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Begin Prepare.xid"));
  CDC_ASSIGN_OR_RETURN(const std::string_view gid,
                       c.ReadCString("Begin Prepare.gid"));
  m->gid.assign(gid.data(), gid.size());
  return absl::OkStatus();
}

// Prepare and Stream Prepare share one layout (proto.c writes both with
// logicalrep_write_prepare_common); only the names differ.
struct PrepareFields {
  std::string_view flags;
  std::string_view prepare_lsn;
  std::string_view end_lsn;
  std::string_view prepare_ts;
  std::string_view xid;
  std::string_view gid;
};
constexpr PrepareFields kPrepare = {"Prepare.flags",   "Prepare.prepare_lsn",
                                    "Prepare.end_lsn", "Prepare.prepare_ts",
                                    "Prepare.xid",     "Prepare.gid"};
constexpr PrepareFields kStreamPrepare = {
    "Stream Prepare.flags",   "Stream Prepare.prepare_lsn",
    "Stream Prepare.end_lsn", "Stream Prepare.prepare_ts",
    "Stream Prepare.xid",     "Stream Prepare.gid"};

template <typename M>
absl::Status DecodePrepareCommon(ByteCursor& c, const PrepareFields& f, M* m) {
  CDC_ASSIGN_OR_RETURN(m->flags, c.ReadU8(f.flags));
  CDC_ASSIGN_OR_RETURN(m->prepare_lsn, c.ReadU64(f.prepare_lsn));
  CDC_ASSIGN_OR_RETURN(m->end_lsn, c.ReadU64(f.end_lsn));
  CDC_ASSIGN_OR_RETURN(m->prepare_ts, c.ReadI64(f.prepare_ts));
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32(f.xid));
  CDC_ASSIGN_OR_RETURN(const std::string_view gid, c.ReadCString(f.gid));
  m->gid.assign(gid.data(), gid.size());
  return absl::OkStatus();
}

absl::Status DecodeCommitPrepared(ByteCursor& c, CommitPreparedMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->flags, c.ReadU8("Commit Prepared.flags"));
  CDC_ASSIGN_OR_RETURN(m->commit_lsn, c.ReadU64("Commit Prepared.commit_lsn"));
  CDC_ASSIGN_OR_RETURN(m->end_lsn, c.ReadU64("Commit Prepared.end_lsn"));
  CDC_ASSIGN_OR_RETURN(m->commit_ts, c.ReadI64("Commit Prepared.commit_ts"));
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Commit Prepared.xid"));
  CDC_ASSIGN_OR_RETURN(const std::string_view gid,
                       c.ReadCString("Commit Prepared.gid"));
  m->gid.assign(gid.data(), gid.size());
  return absl::OkStatus();
}

absl::Status DecodeRollbackPrepared(ByteCursor& c, RollbackPreparedMessage* m) {
  CDC_ASSIGN_OR_RETURN(m->flags, c.ReadU8("Rollback Prepared.flags"));
  CDC_ASSIGN_OR_RETURN(m->prepare_end_lsn,
                       c.ReadU64("Rollback Prepared.prepare_end_lsn"));
  CDC_ASSIGN_OR_RETURN(m->rollback_end_lsn,
                       c.ReadU64("Rollback Prepared.rollback_end_lsn"));
  CDC_ASSIGN_OR_RETURN(m->prepare_ts,
                       c.ReadI64("Rollback Prepared.prepare_ts"));
  CDC_ASSIGN_OR_RETURN(m->rollback_ts,
                       c.ReadI64("Rollback Prepared.rollback_ts"));
  CDC_ASSIGN_OR_RETURN(m->xid, c.ReadU32("Rollback Prepared.xid"));
  CDC_ASSIGN_OR_RETURN(const std::string_view gid,
                       c.ReadCString("Rollback Prepared.gid"));
  m->gid.assign(gid.data(), gid.size());
  return absl::OkStatus();
}

absl::Status DecodeBody(char type, ByteCursor& c, const DecodeContext& context,
                        PgOutputMessage* out) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kBegin:
      return DecodeBegin(c, &out->emplace<BeginMessage>());
    case MessageType::kCommit:
      return DecodeCommit(c, &out->emplace<CommitMessage>());
    case MessageType::kOrigin:
      return DecodeOrigin(c, &out->emplace<OriginMessage>());
    case MessageType::kRelation:
      return DecodeRelation(c, context, &out->emplace<RelationMessage>());
    case MessageType::kType:
      return DecodeType(c, context, &out->emplace<TypeMessage>());
    case MessageType::kInsert:
      return DecodeInsert(c, context, &out->emplace<InsertMessage>());
    case MessageType::kUpdate:
      return DecodeUpdate(c, context, &out->emplace<UpdateMessage>());
    case MessageType::kDelete:
      return DecodeDelete(c, context, &out->emplace<DeleteMessage>());
    case MessageType::kTruncate:
      return DecodeTruncate(c, context, &out->emplace<TruncateMessage>());
    case MessageType::kMessage:
      return DecodeLogicalMessage(c, context, &out->emplace<LogicalMessage>());
    case MessageType::kStreamStart:
      return DecodeStreamStart(c, &out->emplace<StreamStartMessage>());
    case MessageType::kStreamStop:
      out->emplace<StreamStopMessage>();
      return absl::OkStatus();
    case MessageType::kStreamCommit:
      return DecodeStreamCommit(c, &out->emplace<StreamCommitMessage>());
    case MessageType::kStreamAbort:
      return DecodeStreamAbort(c, &out->emplace<StreamAbortMessage>());
    case MessageType::kBeginPrepare:
      return DecodeBeginPrepare(c, &out->emplace<BeginPrepareMessage>());
    case MessageType::kPrepare:
      return DecodePrepareCommon(c, kPrepare, &out->emplace<PrepareMessage>());
    case MessageType::kCommitPrepared:
      return DecodeCommitPrepared(c, &out->emplace<CommitPreparedMessage>());
    case MessageType::kRollbackPrepared:
      return DecodeRollbackPrepared(c,
                                    &out->emplace<RollbackPreparedMessage>());
    case MessageType::kStreamPrepare:
      return DecodePrepareCommon(c, kStreamPrepare,
                                 &out->emplace<StreamPrepareMessage>());
    default:
      return absl::DataLossError(
          absl::StrCat("unknown pgoutput message type ",
                       DescribeByte(static_cast<uint8_t>(type))));
  }
}

absl::Status MessageError(char type, absl::string_view detail) {
  return absl::DataLossError(
      absl::StrCat("malformed pgoutput ", AsAbsl(PgOutputMessageName(type)),
                   " message ('", absl::string_view(&type, 1), "'): ", detail));
}

// --- Encoding ----------------------------------------------------------------

void EncodeTuple(ByteWriter& w, const TupleData& tuple) {
  w.WriteU16(static_cast<uint16_t>(tuple.values.size()));
  for (const TupleValue& value : tuple.values) {
    w.WriteU8(static_cast<uint8_t>(value.kind));
    if (value.kind == TupleValue::Kind::kText ||
        value.kind == TupleValue::Kind::kBinary) {
      w.WriteI32(static_cast<int32_t>(value.data.size()));
      w.WriteBytes(value.data);
    }
  }
}

void EncodeXid(ByteWriter& w, const std::optional<TransactionId>& xid) {
  if (xid.has_value()) w.WriteU32(*xid);
}

struct Encoder {
  ByteWriter& w;

  // An old image is the whole row only when the message says so.
  void WriteOldMarker(char old_kind) {
    w.WriteU8(ByteOf(old_kind == static_cast<char>(TupleMarker::kOld)
                         ? TupleMarker::kOld
                         : TupleMarker::kKey));
  }

  void operator()(const BeginMessage& m) {
    w.WriteU8(ByteOf(MessageType::kBegin));
    w.WriteU64(m.final_lsn);
    w.WriteI64(m.commit_ts);
    w.WriteU32(m.xid);
  }
  void operator()(const CommitMessage& m) {
    w.WriteU8(ByteOf(MessageType::kCommit));
    w.WriteU8(m.flags);
    w.WriteU64(m.commit_lsn);
    w.WriteU64(m.end_lsn);
    w.WriteI64(m.commit_ts);
  }
  void operator()(const OriginMessage& m) {
    w.WriteU8(ByteOf(MessageType::kOrigin));
    w.WriteU64(m.commit_lsn);
    w.WriteCString(m.name);
  }
  void operator()(const RelationMessage& m) {
    w.WriteU8(ByteOf(MessageType::kRelation));
    EncodeXid(w, m.xid);
    w.WriteU32(m.relation_oid);
    w.WriteCString(m.namespace_name);
    w.WriteCString(m.relation_name);
    w.WriteU8(static_cast<uint8_t>(m.replica_identity));
    w.WriteU16(static_cast<uint16_t>(m.columns.size()));
    for (const RelationColumn& column : m.columns) {
      w.WriteU8(column.flags);
      w.WriteCString(column.name);
      w.WriteU32(column.type_oid);
      w.WriteI32(column.type_modifier);
    }
  }
  void operator()(const TypeMessage& m) {
    w.WriteU8(ByteOf(MessageType::kType));
    EncodeXid(w, m.xid);
    w.WriteU32(m.type_oid);
    w.WriteCString(m.namespace_name);
    w.WriteCString(m.type_name);
  }
  void operator()(const InsertMessage& m) {
    w.WriteU8(ByteOf(MessageType::kInsert));
    EncodeXid(w, m.xid);
    w.WriteU32(m.relation_oid);
    w.WriteU8(ByteOf(TupleMarker::kNew));
    EncodeTuple(w, m.new_tuple);
  }
  void operator()(const UpdateMessage& m) {
    w.WriteU8(ByteOf(MessageType::kUpdate));
    EncodeXid(w, m.xid);
    w.WriteU32(m.relation_oid);
    if (m.old_tuple.has_value()) {
      WriteOldMarker(m.old_kind);
      EncodeTuple(w, *m.old_tuple);
    }
    w.WriteU8(ByteOf(TupleMarker::kNew));
    EncodeTuple(w, m.new_tuple);
  }
  void operator()(const DeleteMessage& m) {
    w.WriteU8(ByteOf(MessageType::kDelete));
    EncodeXid(w, m.xid);
    w.WriteU32(m.relation_oid);
    WriteOldMarker(m.old_kind);
    EncodeTuple(w, m.old_tuple);
  }
  void operator()(const TruncateMessage& m) {
    w.WriteU8(ByteOf(MessageType::kTruncate));
    EncodeXid(w, m.xid);
    w.WriteI32(static_cast<int32_t>(m.relation_oids.size()));
    w.WriteU8(m.options);
    for (Oid oid : m.relation_oids) w.WriteU32(oid);
  }
  void operator()(const LogicalMessage& m) {
    w.WriteU8(ByteOf(MessageType::kMessage));
    EncodeXid(w, m.xid);
    w.WriteU8(m.transactional ? 1 : 0);
    w.WriteU64(m.lsn);
    w.WriteCString(m.prefix);
    w.WriteI32(static_cast<int32_t>(m.content.size()));
    w.WriteBytes(m.content);
  }
  void operator()(const StreamStartMessage& m) {
    w.WriteU8(ByteOf(MessageType::kStreamStart));
    w.WriteU32(m.xid);
    w.WriteU8(m.first_segment ? 1 : 0);
  }
  void operator()(const StreamStopMessage&) {
    w.WriteU8(ByteOf(MessageType::kStreamStop));
  }
  void operator()(const StreamCommitMessage& m) {
    w.WriteU8(ByteOf(MessageType::kStreamCommit));
    w.WriteU32(m.xid);
    w.WriteU8(m.flags);
    w.WriteU64(m.commit_lsn);
    w.WriteU64(m.end_lsn);
    w.WriteI64(m.commit_ts);
  }
  void operator()(const StreamAbortMessage& m) {
    w.WriteU8(ByteOf(MessageType::kStreamAbort));
    w.WriteU32(m.xid);
    w.WriteU32(m.subxid);
  }
  void operator()(const BeginPrepareMessage& m) {
    w.WriteU8(ByteOf(MessageType::kBeginPrepare));
    w.WriteU64(m.prepare_lsn);
    w.WriteU64(m.end_lsn);
    w.WriteI64(m.prepare_ts);
    w.WriteU32(m.xid);
    w.WriteCString(m.gid);
  }
  template <typename M>
  void PrepareCommon(MessageType type, const M& m) {
    w.WriteU8(ByteOf(type));
    w.WriteU8(m.flags);
    w.WriteU64(m.prepare_lsn);
    w.WriteU64(m.end_lsn);
    w.WriteI64(m.prepare_ts);
    w.WriteU32(m.xid);
    w.WriteCString(m.gid);
  }
  void operator()(const PrepareMessage& m) {
    PrepareCommon(MessageType::kPrepare, m);
  }
  void operator()(const StreamPrepareMessage& m) {
    PrepareCommon(MessageType::kStreamPrepare, m);
  }
  void operator()(const CommitPreparedMessage& m) {
    w.WriteU8(ByteOf(MessageType::kCommitPrepared));
    w.WriteU8(m.flags);
    w.WriteU64(m.commit_lsn);
    w.WriteU64(m.end_lsn);
    w.WriteI64(m.commit_ts);
    w.WriteU32(m.xid);
    w.WriteCString(m.gid);
  }
  void operator()(const RollbackPreparedMessage& m) {
    w.WriteU8(ByteOf(MessageType::kRollbackPrepared));
    w.WriteU8(m.flags);
    w.WriteU64(m.prepare_end_lsn);
    w.WriteU64(m.rollback_end_lsn);
    w.WriteI64(m.prepare_ts);
    w.WriteI64(m.rollback_ts);
    w.WriteU32(m.xid);
    w.WriteCString(m.gid);
  }
};

}  // namespace

absl::StatusOr<PgOutputMessage> DecodePgOutput(std::string_view bytes,
                                               const DecodeContext& context) {
  ByteCursor c(bytes);
  absl::StatusOr<uint8_t> type_byte = c.ReadU8("pgoutput message type");
  if (!type_byte.ok()) {
    return absl::DataLossError(
        "empty pgoutput message: expected a message type byte");
  }
  const char type = static_cast<char>(*type_byte);
  PgOutputMessage message;
  absl::Status status = DecodeBody(type, c, context, &message);
  if (ABSL_PREDICT_FALSE(!status.ok())) {
    if (PgOutputMessageName(type) == "unknown") return status;
    return MessageError(type, status.message());
  }
  if (ABSL_PREDICT_FALSE(!c.empty())) {
    return MessageError(
        type, absl::StrCat(c.remaining(),
                           " unexpected trailing bytes after a complete "
                           "message (it ends at offset ",
                           c.position(), " of ", c.size(), ")"));
  }
  return message;
}

std::string EncodePgOutput(const PgOutputMessage& message) {
  std::string out;
  ByteWriter writer(&out);
  std::visit(Encoder{writer}, message);
  return out;
}

std::string_view PgOutputMessageName(char type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kBegin:
      return "Begin";
    case MessageType::kCommit:
      return "Commit";
    case MessageType::kOrigin:
      return "Origin";
    case MessageType::kRelation:
      return "Relation";
    case MessageType::kType:
      return "Type";
    case MessageType::kInsert:
      return "Insert";
    case MessageType::kUpdate:
      return "Update";
    case MessageType::kDelete:
      return "Delete";
    case MessageType::kTruncate:
      return "Truncate";
    case MessageType::kMessage:
      return "Message";
    case MessageType::kStreamStart:
      return "Stream Start";
    case MessageType::kStreamStop:
      return "Stream Stop";
    case MessageType::kStreamCommit:
      return "Stream Commit";
    case MessageType::kStreamAbort:
      return "Stream Abort";
    case MessageType::kBeginPrepare:
      return "Begin Prepare";
    case MessageType::kPrepare:
      return "Prepare";
    case MessageType::kCommitPrepared:
      return "Commit Prepared";
    case MessageType::kRollbackPrepared:
      return "Rollback Prepared";
    case MessageType::kStreamPrepare:
      return "Stream Prepare";
    default:
      return "unknown";
  }
}

namespace {
// True for the message structs that gain an xid inside a stream.
template <typename T, typename = void>
struct HasStreamXid : std::false_type {};
template <typename T>
struct HasStreamXid<T, std::void_t<decltype(T::xid)>>
    : std::is_same<decltype(T::xid), std::optional<TransactionId>> {};
}  // namespace

std::optional<TransactionId> StreamXidOf(const PgOutputMessage& message) {
  return std::visit(
      [](const auto& m) -> std::optional<TransactionId> {
        if constexpr (HasStreamXid<std::decay_t<decltype(m)>>::value) {
          return m.xid;
        } else {
          return std::nullopt;
        }
      },
      message);
}

}  // namespace cdc::pg
