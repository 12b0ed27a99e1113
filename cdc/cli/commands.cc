#include "cdc/cli/commands.h"

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"
#include "cdc/cli/check_command.h"
#include "cdc/cli/dev_broker_command.h"
#include "cdc/cli/run_command.h"
#include "cdc/cli/snapshot_command.h"
#include "cdc/cli/status_command.h"
#include "cdc/cli/tail_command.h"
#include "cdc/kafka/producer.h"
#include "cdc/pg/pgoutput_options.h"
#include "civetweb.h"
#include "google/protobuf/stubs/common.h"

namespace cdc::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command>* const kCommands = new std::vector<Command>{
      {"run", "stream the configured tables to Kafka", &RunCommandDoc,
       &RunRunCommand},
      {"check", "run every startup check; create and stream nothing",
       &CheckCommandDoc, &RunCheckCommand},
      {"status",
       "the replication slot's health as the server reports it; warns "
       "when it is at risk of invalidation",
       &StatusCommandDoc, &RunStatusCommand},
      {"snapshot",
       "ask the running pgcdc for an incremental snapshot of tables",
       &SnapshotCommandDoc, &RunSnapshotCommand},
      {"dev-broker",
       "an in-memory Kafka-protocol broker for demos and tests (keeps "
       "about 5 MB per partition, nothing on disk)",
       &DevBrokerCommandDoc, &RunDevBrokerCommand},
      {"tail", "print a topic's change events as JSON lines", &TailCommandDoc,
       &RunTailCommand},
  };
  return *kCommands;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string TopLevelHelp() {
  std::string out = absl::StrCat(
      "NAME\n"
      "    pgcdc - change data capture from PostgreSQL to Kafka\n"
      "\n"
      "SYNOPSIS\n"
      "    pgcdc COMMAND [OPTIONS]\n"
      "    pgcdc COMMAND --help\n"
      "    pgcdc --version\n"
      "    pgcdc --help\n"
      "\n"
      "DESCRIPTION\n"
      "    pgcdc ",
      PGCDC_VERSION,
      " reads the changes of PostgreSQL tables from a logical\n"
      "    replication slot (pgoutput) and publishes them to Kafka as\n"
      "    protobuf change events, one topic per table, acknowledged before\n"
      "    the slot moves on. Most commands read the YAML configuration\n"
      "    given by --config FILE.\n"
      "\n"
      "COMMANDS\n");
  for (const Command& c : Commands()) {
    absl::StrAppend(&out, "    ", c.name, "\n        ", c.summary, "\n");
  }
  absl::StrAppend(
      &out,
      "\n"
      "OPTIONS\n"
      "    --help, -h, help\n"
      "        Print this help and exit 0.\n"
      "    --version, version\n"
      "        Print the versions of pgcdc, of the pgoutput protocol it\n"
      "        speaks and of its libraries, and exit 0.\n"
      "\n"
      "EXIT STATUS\n"
      "    0 success; 1 a fault while running (status: the slot is at\n"
      "    risk); 2 bad configuration or usage (also an unknown or missing\n"
      "    command); 3 the database or broker is not set up as pgcdc needs\n"
      "    (status: cannot reach or read the server). Each command's --help\n"
      "    says what its codes mean.\n"
      "\n"
      "ENVIRONMENT\n"
      "    ${VAR} and ${credential:NAME} in the configuration file are\n"
      "    replaced from the environment and from $CREDENTIALS_DIRECTORY\n"
      "    (docs/configuration.md); libpq's variables (PGPASSWORD, ...)\n"
      "    apply to source.dsn.\n"
      "\n"
      "EXAMPLES\n"
      "    pgcdc check --config pgcdc.yaml\n"
      "    pgcdc run --config pgcdc.yaml\n"
      "    pgcdc status --config pgcdc.yaml --json\n"
      "\n"
      "SEE ALSO\n"
      "    README.md, docs/configuration.md, docs/operations.md,\n"
      "    docs/metrics.md, docs/envelope.md, docs/guarantees.md\n");
  return out;
}

std::string VersionText() {
  // PQlibVersion(): major * 10000 + minor since PostgreSQL 10.
  const int libpq = PQlibVersion();
  std::string protocols;
  for (int v = pg::kMinProtocolVersion; v <= pg::kMaxProtocolVersion; ++v) {
    absl::StrAppend(&protocols, protocols.empty() ? "" : ", ", v);
  }
  std::string out = absl::StrCat(
      "pgcdc ", PGCDC_VERSION, "\n", "pgoutput protocol versions ", protocols,
      "\n", "librdkafka ", kafka::ClientVersion(), "\n", "libpq ",
      libpq / 10000, ".", libpq % 10000, "\n", "protobuf ",
      google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION), "\n",
      "OpenSSL ", OpenSSL_version(OPENSSL_VERSION_STRING), "\n");
#ifdef ABSL_LTS_RELEASE_VERSION
  absl::StrAppend(&out, "abseil ", ABSL_LTS_RELEASE_VERSION, ".",
                  ABSL_LTS_RELEASE_PATCH_LEVEL, "\n");
#endif
  // The versions built against, when the build found them (CMakeLists.txt).
#ifdef PGCDC_YAML_CPP_VERSION
  if (sizeof(PGCDC_YAML_CPP_VERSION) > 1) {
    absl::StrAppend(&out, "yaml-cpp ", PGCDC_YAML_CPP_VERSION, "\n");
  }
#endif
#ifdef PGCDC_PROMETHEUS_CPP_VERSION
  absl::StrAppend(&out, "prometheus-cpp ", PGCDC_PROMETHEUS_CPP_VERSION, "\n");
#endif
  // The HTTP listener's, at run time.
  absl::StrAppend(&out, "civetweb ", mg_version(), "\n");
  return out;
}

}  // namespace cdc::cli
