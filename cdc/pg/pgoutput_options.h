// PgOutputOptions: what pgcdc asks the pgoutput plugin for in
// START_REPLICATION, negotiated from the server's version and the
// configuration.
//
// Protocol versions by server (pgoutput's LOGICALREP_PROTO_*): 1 from
// PostgreSQL 10, 2 (streaming of in-progress transactions) from 14, 3
// (two-phase) from 15, 4 (parallel streaming) from 16. pgcdc speaks 1–3 and
// never asks for two-phase, so on 15+ version 3 sends exactly what version 2
// does. Streaming needs version 2.
//
// Pure; values are thread-compatible.
#ifndef CDC_PG_PGOUTPUT_OPTIONS_H_
#define CDC_PG_PGOUTPUT_OPTIONS_H_

#include <string>

#include "absl/status/statusor.h"

namespace cdc::pg {

// The protocol versions pgcdc speaks: kMinProtocolVersion..kMaxProtocolVersion.
inline constexpr int kMinProtocolVersion = 1;
inline constexpr int kMaxProtocolVersion = 3;

struct PgOutputOptions {
  int protocol_version = 1;
  bool streaming = false;
  bool messages = false;
  std::string publication;
};

// `requested_version` 0 picks the highest the server supports (at most
// kMaxProtocolVersion); a version the server does not support is
// kFailedPrecondition. Streaming is on when wanted and the version has it.
absl::StatusOr<PgOutputOptions> NegotiatePgOutput(int server_version_num,
                                                  int requested_version,
                                                  bool want_streaming,
                                                  bool want_messages,
                                                  std::string publication);

// The option list of START_REPLICATION ... LOGICAL x/y (<here>), with the
// publication name quoted as an identifier inside a string literal.
std::string FormatPgOutputOptions(const PgOutputOptions& options);

}  // namespace cdc::pg

#endif  // CDC_PG_PGOUTPUT_OPTIONS_H_
