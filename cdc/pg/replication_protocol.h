// The streaming replication copy-frame format: what travels inside each
// CopyData message of a START_REPLICATION stream (PostgreSQL docs,
// "Streaming Replication Protocol").
//
// Server → client: 'w' XLogData (a WAL payload; for logical slots, one
// pgoutput message) and 'k' Primary keepalive. Client → server: 'r' Standby
// status update. Reader and writer of each frame live side by side here, and
// every field is read through a bounds-checked cursor.
//
// Pure functions; thread-compatible values.
#ifndef CDC_PG_REPLICATION_PROTOCOL_H_
#define CDC_PG_REPLICATION_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"

namespace cdc::pg {

struct XLogData {            // 'w'
  Lsn wal_start = 0;         // LSN of the payload's record
  Lsn wal_end = 0;           // current end of WAL on the server
  int64_t send_time = 0;     // PostgreSQL epoch microseconds
  std::string_view payload;  // points into the parsed buffer
};

struct PrimaryKeepalive {  // 'k'
  Lsn wal_end = 0;
  int64_t send_time = 0;
  bool reply_requested = false;
};

struct StandbyStatusUpdate {  // 'r'
  Lsn written = 0;
  Lsn flushed = 0;
  Lsn applied = 0;
  int64_t client_time = 0;  // PostgreSQL epoch microseconds
  bool reply_requested = false;
};

using ServerFrame = std::variant<XLogData, PrimaryKeepalive>;

// Parses one CopyData payload from the server. The result may point into
// `frame`, which must outlive it. Short or unknown input is kDataLoss naming
// what was expected.
absl::StatusOr<ServerFrame> ParseServerFrame(std::string_view frame);

// Writers, for the client's frame and (for tests and benchmarks) the server's.
std::string EncodeStandbyStatusUpdate(const StandbyStatusUpdate& update);
absl::StatusOr<StandbyStatusUpdate> ParseStandbyStatusUpdate(
    std::string_view frame);
std::string EncodeXLogData(Lsn wal_start, Lsn wal_end, int64_t send_time,
                           std::string_view payload);
std::string EncodePrimaryKeepalive(const PrimaryKeepalive& keepalive);

}  // namespace cdc::pg

#endif  // CDC_PG_REPLICATION_PROTOCOL_H_
