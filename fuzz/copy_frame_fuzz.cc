// libFuzzer target: one CopyData payload of a replication stream through
// ParseServerFrame (server → client) and ParseStandbyStatusUpdate (client →
// server). A frame that parses must re-encode to exactly the same bytes; the
// payload of an XLogData is also handed to the pgoutput decoder.
//
// Seeds: fuzz/corpus/copy_frame (frames captured from PostgreSQL 15, and the
// status updates sent back, see fuzz/capture_corpus.sh).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/replication_protocol.h"

namespace {

void CheckServerFrame(std::string_view bytes) {
  absl::StatusOr<cdc::pg::ServerFrame> frame = cdc::pg::ParseServerFrame(bytes);
  if (!frame.ok()) return;
  if (const auto* data = std::get_if<cdc::pg::XLogData>(&*frame)) {
    // The payload is a view into the input, which it must lie within.
    if (data->payload.data() < bytes.data() ||
        data->payload.data() + data->payload.size() !=
            bytes.data() + bytes.size()) {
      __builtin_trap();
    }
    if (cdc::pg::EncodeXLogData(data->wal_start, data->wal_end, data->send_time,
                                data->payload) != bytes) {
      __builtin_trap();
    }
    (void)cdc::pg::DecodePgOutput(data->payload);
    return;
  }
  const auto& keepalive = std::get<cdc::pg::PrimaryKeepalive>(*frame);
  if (cdc::pg::EncodePrimaryKeepalive(keepalive) != bytes) __builtin_trap();
}

void CheckStandbyStatusUpdate(std::string_view bytes) {
  absl::StatusOr<cdc::pg::StandbyStatusUpdate> update =
      cdc::pg::ParseStandbyStatusUpdate(bytes);
  if (!update.ok()) return;
  if (cdc::pg::EncodeStandbyStatusUpdate(*update) != bytes) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckServerFrame(bytes);
  CheckStandbyStatusUpdate(bytes);
  return 0;
}
