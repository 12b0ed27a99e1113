#include "cdc/pg/pgoutput_options.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cdc::pg {
namespace {

// The highest pgoutput protocol version a server of this version speaks.
int ServerProtocolVersion(int server_version_num) {
  if (server_version_num >= 150000) return 3;
  if (server_version_num >= 140000) return 2;
  return 1;
}

// Encloses `s` in `quote`, doubling any `quote` inside, as SQL quotes both
// literals ('...') and identifiers ("...").
std::string Enclose(const std::string& s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote) out += quote;
    out += c;
  }
  return out + quote;
}

}  // namespace

absl::StatusOr<PgOutputOptions> NegotiatePgOutput(int server_version_num,
                                                  int requested_version,
                                                  bool want_streaming,
                                                  bool want_messages,
                                                  std::string publication) {
  const int server = ServerProtocolVersion(server_version_num);
  PgOutputOptions options;
  if (requested_version == 0) {
    options.protocol_version = std::min(server, kMaxProtocolVersion);
  } else if (requested_version > server) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source.protocol_version ", requested_version,
        " is not supported by this server (version ", server_version_num,
        " speaks pgoutput protocol 1 to ", server, ")"));
  } else {
    options.protocol_version = requested_version;
  }
  options.streaming = want_streaming && options.protocol_version >= 2;
  options.messages = want_messages;
  options.publication = std::move(publication);
  return options;
}

std::string FormatPgOutputOptions(const PgOutputOptions& options) {
  std::string out = absl::StrCat(
      "proto_version '", options.protocol_version, "', publication_names ",
      Enclose(Enclose(options.publication, '"'), '\''));
  if (options.messages) absl::StrAppend(&out, ", messages 'true'");
  if (options.streaming) absl::StrAppend(&out, ", streaming 'on'");
  return out;
}

}  // namespace cdc::pg
