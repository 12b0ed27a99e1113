// libFuzzer target: one XLogData payload through DecodePgOutput, outside and
// inside a stream. Whatever decodes must re-encode to exactly the same bytes:
// the decoder and EncodePgOutput describe one wire format, so any byte the
// decoder accepted but dropped or normalised is a fidelity bug.
//
// Seeds: fuzz/corpus/pgoutput (payloads captured from PostgreSQL 15, see
// fuzz/capture_corpus.sh).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cdc/pg/pgoutput.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!bytes.empty()) (void)cdc::pg::PgOutputMessageName(bytes[0]);
  for (const bool in_stream : {false, true}) {
    cdc::pg::DecodeContext context;
    context.in_stream = in_stream;
    absl::StatusOr<cdc::pg::PgOutputMessage> message =
        cdc::pg::DecodePgOutput(bytes, context);
    if (!message.ok()) continue;
    if (cdc::pg::EncodePgOutput(*message) != bytes) __builtin_trap();
  }
  return 0;
}
