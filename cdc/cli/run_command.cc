#include "cdc/cli/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cdc/cli/args.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/log.h"
#include "cdc/config/config.h"
#include "cdc/config/config_summary.h"
#include "cdc/kafka/dev_broker.h"
#include "cdc/kafka/producer.h"
#include "cdc/metrics/metrics.h"
#include "cdc/pg/connection.h"
#include "cdc/pipeline/pipeline.h"
#include "cdc/pipeline/slot_monitor.h"

namespace cdc::cli {
namespace {

constexpr char kUsage[] =
    "NAME\n"
    "    pgcdc run - stream the configured tables from PostgreSQL to Kafka\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc run --config FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Streams the tables listed in FILE from their PostgreSQL logical\n"
    "    replication slot (pgoutput) to Kafka, one change event per row\n"
    "    change, until SIGTERM or SIGINT. Then it waits for in-flight\n"
    "    acknowledgements, confirms them to the slot and exits 0. A second\n"
    "    signal exits at once (status 130); nothing unacknowledged is\n"
    "    confirmed, so the next start replays it. A signal during startup\n"
    "    exits 0 at once.\n"
    "\n"
    "    Before streaming, run makes every check `pgcdc check` makes, creates\n"
    "    the publication and the slot when missing, and with snapshot.mode\n"
    "    initial (the default) a new slot starts with a snapshot: the rows\n"
    "    already in the tables, as READ events. While it runs it serves\n"
    "    metrics.listen (/metrics) and reads the slot's state every 10 s for\n"
    "    the pgcdc_slot_* metrics.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE\n"
    "        The configuration (YAML; docs/configuration.md). Required.\n"
    "        kafka.bootstrap_servers \"embedded\" starts an in-memory dev\n"
    "        broker inside the process.\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   stopped by a signal, or snapshot.mode initial_only done\n"
    "    1   a fault while streaming or snapshotting\n"
    "    2   bad configuration or usage\n"
    "    3   environment: database settings, rights, tables, publication,\n"
    "        slot or broker not as pgcdc needs them\n"
    "    130 a second signal: exited at once\n"
    "\n" CDC_CLI_CONFIG_ENVIRONMENT_HELP
    "\n"
    "EXAMPLES\n"
    "    pgcdc run --config /etc/pgcdc/pgcdc.yaml\n"
    "    PGPASSWORD=secret pgcdc run --config pgcdc.yaml\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc check --help, pgcdc status --help, README.md,\n"
    "    docs/configuration.md, docs/operations.md, docs/metrics.md,\n"
    "    docs/guarantees.md\n";

// The flags beyond --config and --help.
std::vector<FlagSpec> ExtraFlags() { return {}; }

std::atomic<bool> g_stop{false};
// Until startup is over nothing is published, so nothing waits to be
// acknowledged: a signal then ends pgcdc at once, whatever it waits for (a
// connection, a broker that does not answer, a lock).
std::atomic<bool> g_starting{true};

void OnSignal(int) {
  if (g_starting.load()) {
    static const char kMsg[] = "stopped by a signal during startup\n";
    (void)!::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    ::_exit(0);
  }
  if (g_stop.exchange(true)) {
    // Second signal: leave now. Safe for delivery: nothing unacknowledged
    // was confirmed, so the next start replays it.
    static const char kMsg[] = "second signal: exiting at once\n";
    (void)!::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    ::_exit(130);
  }
}

void InstallSignalHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

bool IsEnvironmentError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

// log.format, log.level, and the slot as every JSON line's context.
void ApplyLogConfig(const config::Config& config) {
  SetLogFormat(config.log.format == "json" ? LogFormat::kJson
                                           : LogFormat::kText);
  LogLevel level = LogLevel::kInfo;
  if (ParseLogLevel(config.log.level, &level)) SetMinLogLevel(level);
  SetLogContext({{"slot", config.source.slot}});
}

}  // namespace

CommandDoc RunCommandDoc() {
  return {kUsage, ConfigCommandFlags(ExtraFlags())};
}

int RunRunCommand(int argc, char** argv) {
  std::string config_path;
  int exit_code = kExitOk;
  if (!ParseConfigCommand(argc, argv, "run", kUsage, ExtraFlags(), &config_path,
                          &exit_code)) {
    return exit_code;
  }
  absl::StatusOr<config::Config> config = config::LoadConfigFile(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "pgcdc: configuration error: %s\n",
                 EscapeForLog(config.status().message()).c_str());
    return kExitConfig;
  }
  InstallSignalHandlers();
  ApplyLogConfig(*config);
  LogInfo("pgcdc ", PGCDC_VERSION, " (librdkafka ", kafka::ClientVersion(),
          ") starting");
  LogInfo(config::ConfigSummary(*config, pg::DescribeDsn(config->source.dsn)));

  std::unique_ptr<kafka::DevBroker> embedded;
  if (config->kafka.bootstrap_servers == "embedded") {
    absl::StatusOr<std::unique_ptr<kafka::DevBroker>> broker =
        kafka::DevBroker::Start();
    if (!broker.ok()) {
      LogError("cannot start the embedded dev broker: ",
               broker.status().message());
      return kExitEnvironment;
    }
    embedded = *std::move(broker);
    config->kafka.bootstrap_servers = embedded->bootstrap_servers();
    LogInfo(
        "embedded dev broker (librdkafka mock cluster, in memory, keeps "
        "about 5 MB per partition) at ",
        config->kafka.bootstrap_servers);
  }

  absl::StatusOr<std::unique_ptr<metrics::Metrics>> metrics =
      metrics::Metrics::Create(config->metrics.listen);
  if (!metrics.ok()) {
    LogError(metrics.status().message());
    return kExitConfig;
  }
  if (!config->metrics.listen.empty()) {
    LogInfo("metrics at http://", config->metrics.listen, "/metrics");
  }

  // Optional so that a failed start can end the Kafka client (joining its
  // threads) before the last line, which then is pgcdc's, naming the cause.
  std::optional<pipeline::Pipeline> pipeline;
  pipeline.emplace(*config, metrics->get(), &g_stop);
  if (absl::Status s = pipeline->Prepare(); !s.ok()) {
    pipeline.reset();
    LogError("cannot start: ", s.message());
    return s.code() == absl::StatusCode::kInvalidArgument ? kExitConfig
           : IsEnvironmentError(s)                        ? kExitEnvironment
                                                          : kExitFailure;
  }
  g_starting.store(false);
  // pgcdc_slot_* from the server every 10 s, on a thread and session of its
  // own; stopped (and joined) when this function returns.
  pipeline::SlotMonitor slot_monitor(config->source.dsn, config->source.slot,
                                     metrics->get());
  if (absl::Status s = pipeline->Snapshot(); !s.ok()) {
    LogError("snapshot failed: ", s.message());
    return IsEnvironmentError(s) ? kExitEnvironment : kExitFailure;
  }
  if (g_stop.load()) return kExitOk;
  if (pipeline->SnapshotOnly()) {
    LogInfo("snapshot published (snapshot.mode initial_only); exiting");
    return kExitOk;
  }
  absl::Status streamed = pipeline->Stream();
  if (!streamed.ok()) {
    LogError("stopped: ", streamed.message());
    return kExitFailure;
  }
  LogInfo("stopped cleanly");
  return kExitOk;
}

}  // namespace cdc::cli
