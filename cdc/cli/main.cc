// pgcdc: PostgreSQL logical replication → protobuf change events → Kafka.
// One binary; the subcommands live in cdc/cli/*_command.cc.
#include <libpq-fe.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cdc/cli/check_command.h"
#include "cdc/cli/dev_broker_command.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/cli/run_command.h"
#include "cdc/cli/snapshot_command.h"
#include "cdc/cli/tail_command.h"
#include "cdc/common/log.h"  // EscapeForLog
#include "cdc/kafka/producer.h"
#include "cdc/pg/pgoutput_options.h"

namespace {

constexpr char kHelp[] =
    "pgcdc " PGCDC_VERSION
    " - change data capture from PostgreSQL to Kafka\n"
    "\n"
    "usage:\n"
    "  pgcdc run --config FILE     stream the configured tables to Kafka\n"
    "  pgcdc check --config FILE   run every startup check, print each\n"
    "                              result, create and stream nothing\n"
    "  pgcdc snapshot --config FILE --table T[,T...] [--where SQL]\n"
    "                              ask the running pgcdc for an incremental\n"
    "                              snapshot of tables, while it streams\n"
    "  pgcdc dev-broker [--brokers N] [--bootstrap-file FILE]\n"
    "                              an in-memory Kafka-protocol broker for "
    "demos\n"
    "                              and tests (librdkafka's mock cluster: "
    "keeps\n"
    "                              about 5 MB per partition, nothing on disk)\n"
    "  pgcdc tail --bootstrap-servers B --topic T [--from-beginning]\n"
    "                              print change events as JSON lines\n"
    "  pgcdc --version\n"
    "  pgcdc --help\n"
    "\n"
    "Each subcommand takes --help.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return cdc::cli::kExitConfig;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kHelp, stdout);
    return cdc::cli::kExitOk;
  }
  if (command == "--version" || command == "version") {
    std::printf("pgcdc %s\nlibrdkafka %s\nlibpq %d\npgoutput protocol 1-%d\n",
                PGCDC_VERSION, cdc::kafka::ClientVersion().c_str(),
                PQlibVersion(), cdc::pg::kMaxProtocolVersion);
    return cdc::cli::kExitOk;
  }
  if (command == "run") return cdc::cli::RunRunCommand(argc - 1, argv + 1);
  if (command == "check") {
    return cdc::cli::RunCheckCommand(argc - 1, argv + 1);
  }
  if (command == "snapshot") {
    return cdc::cli::RunSnapshotCommand(argc - 1, argv + 1);
  }
  if (command == "dev-broker") {
    return cdc::cli::RunDevBrokerCommand(argc - 1, argv + 1);
  }
  if (command == "tail") return cdc::cli::RunTailCommand(argc - 1, argv + 1);
  std::fprintf(stderr, "pgcdc: unknown command '%s'\n\n%s",
               cdc::EscapeForLog(command).c_str(), kHelp);
  return cdc::cli::kExitConfig;
}
