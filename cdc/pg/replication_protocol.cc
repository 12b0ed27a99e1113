#include "cdc/pg/replication_protocol.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "cdc/pg/byte_cursor.h"

namespace cdc::pg {
namespace {

constexpr size_t kXLogDataHeaderSize = 1 + 8 + 8 + 8;
constexpr size_t kKeepaliveSize = 1 + 8 + 8 + 1;
constexpr size_t kStandbyStatusUpdateSize = 1 + 8 + 8 + 8 + 8 + 1;

std::string DescribeByte(uint8_t b) {
  if (b >= 0x20 && b < 0x7f) return absl::StrFormat("'%c' (0x%02x)", b, b);
  return absl::StrFormat("0x%02x", b);
}

// The server only ever sends 0 or 1; anything else means the frame is not
// what we think it is, so it is reported rather than read as "true".
absl::StatusOr<bool> ReadBool(ByteCursor& c, std::string_view field) {
  CDC_ASSIGN_OR_RETURN(const uint8_t b, c.ReadU8(field));
  if (b > 1) {
    return absl::DataLossError(
        absl::StrCat(AsAbsl(field), " is ", b, ", expected 0 or 1"));
  }
  return b == 1;
}

absl::Status ExpectEnd(const ByteCursor& c, std::string_view frame_name) {
  if (c.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      c.remaining(), " unexpected trailing bytes after a complete ",
      AsAbsl(frame_name), " frame (it ends at offset ", c.position(), " of ",
      c.size(), ")"));
}

absl::StatusOr<XLogData> ParseXLogData(ByteCursor& c) {
  XLogData data;
  CDC_ASSIGN_OR_RETURN(data.wal_start, c.ReadU64("XLogData.wal_start"));
  CDC_ASSIGN_OR_RETURN(data.wal_end, c.ReadU64("XLogData.wal_end"));
  CDC_ASSIGN_OR_RETURN(data.send_time, c.ReadI64("XLogData.send_time"));
  // The payload runs to the end of the CopyData message; it has no length of
  // its own.
  data.payload = c.rest();
  return data;
}

absl::StatusOr<PrimaryKeepalive> ParseKeepalive(ByteCursor& c) {
  PrimaryKeepalive keepalive;
  CDC_ASSIGN_OR_RETURN(keepalive.wal_end,
                       c.ReadU64("Primary keepalive.wal_end"));
  CDC_ASSIGN_OR_RETURN(keepalive.send_time,
                       c.ReadI64("Primary keepalive.send_time"));
  CDC_ASSIGN_OR_RETURN(keepalive.reply_requested,
                       ReadBool(c, "Primary keepalive.reply_requested"));
  CDC_RETURN_IF_ERROR(ExpectEnd(c, "Primary keepalive"));
  return keepalive;
}

}  // namespace

absl::StatusOr<ServerFrame> ParseServerFrame(std::string_view frame) {
  ByteCursor c(frame);
  if (c.empty()) {
    return absl::DataLossError(
        "empty replication frame: expected 'w' (XLogData) or 'k' (Primary "
        "keepalive)");
  }
  CDC_ASSIGN_OR_RETURN(const uint8_t type, c.ReadU8("frame type"));
  switch (type) {
    case 'w': {
      CDC_ASSIGN_OR_RETURN(XLogData data, ParseXLogData(c));
      return data;
    }
    case 'k': {
      CDC_ASSIGN_OR_RETURN(PrimaryKeepalive keepalive, ParseKeepalive(c));
      return keepalive;
    }
    default:
      return absl::DataLossError(
          absl::StrCat("unknown replication frame type ", DescribeByte(type),
                       ": expected 'w' (XLogData) or 'k' (Primary keepalive)"));
  }
}

absl::StatusOr<StandbyStatusUpdate> ParseStandbyStatusUpdate(
    std::string_view frame) {
  ByteCursor c(frame);
  if (c.empty()) {
    return absl::DataLossError(
        "empty replication frame: expected 'r' (Standby status update)");
  }
  CDC_ASSIGN_OR_RETURN(const uint8_t type, c.ReadU8("frame type"));
  if (type != 'r') {
    return absl::DataLossError(
        absl::StrCat("replication frame type is ", DescribeByte(type),
                     ", expected 'r' (Standby status update)"));
  }
  StandbyStatusUpdate update;
  CDC_ASSIGN_OR_RETURN(update.written,
                       c.ReadU64("Standby status update.written"));
  CDC_ASSIGN_OR_RETURN(update.flushed,
                       c.ReadU64("Standby status update.flushed"));
  CDC_ASSIGN_OR_RETURN(update.applied,
                       c.ReadU64("Standby status update.applied"));
  CDC_ASSIGN_OR_RETURN(update.client_time,
                       c.ReadI64("Standby status update.client_time"));
  CDC_ASSIGN_OR_RETURN(update.reply_requested,
                       ReadBool(c, "Standby status update.reply_requested"));
  CDC_RETURN_IF_ERROR(ExpectEnd(c, "Standby status update"));
  return update;
}

std::string EncodeStandbyStatusUpdate(const StandbyStatusUpdate& update) {
  std::string out;
  out.reserve(kStandbyStatusUpdateSize);
  ByteWriter w(&out);
  w.WriteU8('r');
  w.WriteU64(update.written);
  w.WriteU64(update.flushed);
  w.WriteU64(update.applied);
  w.WriteI64(update.client_time);
  w.WriteU8(update.reply_requested ? 1 : 0);
  return out;
}

std::string EncodeXLogData(Lsn wal_start, Lsn wal_end, int64_t send_time,
                           std::string_view payload) {
  std::string out;
  out.reserve(kXLogDataHeaderSize + payload.size());
  ByteWriter w(&out);
  w.WriteU8('w');
  w.WriteU64(wal_start);
  w.WriteU64(wal_end);
  w.WriteI64(send_time);
  w.WriteBytes(payload);
  return out;
}

std::string EncodePrimaryKeepalive(const PrimaryKeepalive& keepalive) {
  std::string out;
  out.reserve(kKeepaliveSize);
  ByteWriter w(&out);
  w.WriteU8('k');
  w.WriteU64(keepalive.wal_end);
  w.WriteI64(keepalive.send_time);
  w.WriteU8(keepalive.reply_requested ? 1 : 0);
  return out;
}

}  // namespace cdc::pg
