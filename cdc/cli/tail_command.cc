#include "cdc/cli/tail_command.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cdc/cli/args.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/log.h"  // EscapeForLog
#include "cdc/config/config.h"
#include "cdc/envelope/json.h"
#include "cdc/kafka/topic_reader.h"

namespace cdc::cli {
namespace {

constexpr char kUsage[] =
    "NAME\n"
    "    pgcdc tail - print a topic's change events as JSON lines\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc tail --bootstrap-servers HOST:PORT[,...] --topic TOPIC\n"
    "               [--property NAME=VALUE]... [--from-beginning]\n"
    "               [--max-messages N] [--idle-exit-ms MS]\n"
    "    pgcdc tail --config FILE --topic TOPIC [...]\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints the topic's records as one JSON object per line:\n"
    "      {\"key\":<row or null>,\"event\":<change event>}\n"
    "    reading all partitions (no consumer group, nothing committed). Waits\n"
    "    up to 10 s for the topic to exist. Records that are not pgcdc\n"
    "    envelopes are reported on stderr and skipped.\n"
    "\n"
    "OPTIONS\n"
    "    --bootstrap-servers HOST:PORT[,...]\n"
    "        The brokers (required unless --config gives them).\n"
    "    --topic TOPIC\n"
    "        The topic to read. Required.\n"
    "    --config FILE\n"
    "        Connect as pgcdc run with FILE does: its kafka.bootstrap_servers\n"
    "        and the connection properties (security.*, sasl.*, ssl.*,\n"
    "        socket.*, client.*) of its kafka.properties.\n"
    "    --property NAME=VALUE\n"
    "        A librdkafka consumer property (repeatable; applied after\n"
    "        --config's), e.g. --property security.protocol=SSL.\n"
    "    --from-beginning\n"
    "        Start at the oldest records (default: only new ones).\n"
    "    --max-messages N\n"
    "        Exit after N records.\n"
    "    --idle-exit-ms MS\n"
    "        Exit once every partition is read to its end and no record came\n"
    "        for MS milliseconds.\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   --max-messages records printed, or --idle-exit-ms passed idle\n"
    "    2   bad usage or configuration\n"
    "    3   the topic cannot be found, the cluster not reached, or the\n"
    "        brokers refuse the login or the TLS handshake\n"
    "\n"
    "ENVIRONMENT\n"
    "    With --config, ${VAR} and ${credential:NAME} in FILE are replaced as\n"
    "    for pgcdc run (docs/configuration.md).\n"
    "\n"
    "EXAMPLES\n"
    "    pgcdc tail --bootstrap-servers 127.0.0.1:9092 \\\n"
    "        --topic app.public.orders \\\n"
    "        --from-beginning --idle-exit-ms 2000\n"
    "    pgcdc tail --config pgcdc.yaml --topic app.public.orders |\n"
    "        jq .event.op\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc dev-broker --help, docs/envelope.md\n";

// The part of pgcdc's kafka.properties that says how to connect, which a
// consumer shares with the producer; the rest tunes the producer, and
// librdkafka would warn about each such property on a consumer.
std::map<std::string, std::string> ConnectionProperties(
    const std::map<std::string, std::string>& properties) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : properties) {
    for (const char* prefix :
         {"security.", "sasl.", "ssl.", "socket.", "client."}) {
      if (absl::StartsWith(name, prefix)) out[name] = value;
    }
  }
  return out;
}

std::vector<FlagSpec> Flags() {
  return {{"bootstrap-servers"},
          {"config"},
          {"property"},
          {"topic"},
          {"from-beginning", /*boolean=*/true},
          {"max-messages"},
          {"idle-exit-ms"},
          {"help", /*boolean=*/true}};
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "pgcdc tail: %s\n\n%s", EscapeForLog(message).c_str(),
               ShortUsage(kUsage).c_str());
  return kExitConfig;
}

}  // namespace

CommandDoc TailCommandDoc() { return {kUsage, Flags()}; }

int RunTailCommand(int argc, char** argv) {
  absl::StatusOr<Args> args = Args::Parse(argc, argv, Flags());
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (args->GetBool("help")) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  std::optional<std::string> bootstrap = args->Get("bootstrap-servers");
  const std::optional<std::string> topic = args->Get("topic");
  std::map<std::string, std::string> properties;
  if (const std::optional<std::string> path = args->Get("config")) {
    absl::StatusOr<config::Config> config = config::LoadConfigFile(*path);
    if (!config.ok()) {
      std::fprintf(stderr, "pgcdc tail: configuration error: %s\n",
                   EscapeForLog(config.status().message()).c_str());
      return kExitConfig;
    }
    if (!bootstrap) bootstrap = config->kafka.bootstrap_servers;
    if (*bootstrap == "embedded") {
      return UsageError(
          "kafka.bootstrap_servers is \"embedded\": that broker lives inside "
          "pgcdc run; give --bootstrap-servers from its log");
    }
    properties = ConnectionProperties(config->kafka.properties);
  }
  for (const std::string& property : args->GetAll("property")) {
    const size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      // Not echoed: the value may be a password.
      return UsageError("--property takes NAME=VALUE");
    }
    properties[property.substr(0, eq)] = property.substr(eq + 1);
  }
  if (!bootstrap || bootstrap->empty()) {
    return UsageError("--bootstrap-servers is required (or --config FILE)");
  }
  if (!topic || topic->empty()) return UsageError("--topic is required");
  constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();
  absl::StatusOr<int64_t> max_messages =
      args->GetInt("max-messages", kUnlimited, 1, kUnlimited);
  if (!max_messages.ok()) {
    return UsageError(std::string(max_messages.status().message()));
  }
  absl::StatusOr<int64_t> idle_exit_ms =
      args->GetInt("idle-exit-ms", -1, 1, std::numeric_limits<int32_t>::max());
  if (!idle_exit_ms.ok()) {
    return UsageError(std::string(idle_exit_ms.status().message()));
  }

  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(*bootstrap, *topic,
                               args->GetBool("from-beginning"),
                               /*metadata_timeout_ms=*/10000, properties);
  if (!reader.ok()) {
    std::fprintf(stderr, "pgcdc tail: %s\n",
                 EscapeForLog(reader.status().message()).c_str());
    return kExitEnvironment;
  }

  using Clock = std::chrono::steady_clock;
  Clock::time_point last_record = Clock::now();
  int64_t printed = 0;
  while (printed < *max_messages) {
    // Take what is already there without waiting; only before blocking is
    // stdout flushed, so a burst costs one write, not one per record.
    absl::StatusOr<std::optional<kafka::ConsumedMessage>> m =
        (*reader)->Next(0);
    if (m.ok() && !m->has_value()) {
      std::fflush(stdout);
      int wait_ms = 500;
      // Idle only counts once everything there is has been read: a broker
      // slow to assign the partitions or to answer the first fetch is not
      // an empty topic.
      if (!(*reader)->AtEnd()) last_record = Clock::now();
      if (*idle_exit_ms > 0) {
        const int64_t idle =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                  last_record)
                .count();
        if (idle >= *idle_exit_ms) break;
        wait_ms =
            static_cast<int>(std::min<int64_t>(wait_ms, *idle_exit_ms - idle));
      }
      m = (*reader)->Next(wait_ms);
    }
    if (!m.ok()) {
      if (m.status().code() == absl::StatusCode::kUnauthenticated) {
        // The consumer's threads end first: the last line is this one.
        reader->reset();
        std::fprintf(stderr, "pgcdc tail: %s\n",
                     EscapeForLog(m.status().message()).c_str());
        return kExitEnvironment;
      }
      std::fprintf(stderr, "pgcdc tail: %s\n",
                   EscapeForLog(m.status().message()).c_str());
      // Other trouble is mostly the connection's, which librdkafka mends by
      // itself.
      continue;
    }
    if (!m->has_value()) continue;
    last_record = Clock::now();
    const kafka::ConsumedMessage& record = **m;
    absl::StatusOr<std::string> line =
        envelope::RecordToJsonLine(record.key, record.value);
    if (!line.ok()) {
      std::fprintf(stderr, "pgcdc tail: %s [%d] offset %lld: %s\n",
                   EscapeForLog(record.topic).c_str(), record.partition,
                   static_cast<long long>(record.offset),
                   EscapeForLog(line.status().message()).c_str());
      continue;
    }
    std::fputs(line->c_str(), stdout);
    std::fputc('\n', stdout);
    ++printed;
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace cdc::cli
