// pgcdc: PostgreSQL logical replication → protobuf change events → Kafka.
// One binary; the subcommands live in cdc/cli/*_command.cc, listed in
// cdc/cli/commands.cc.
#include <cstdio>
#include <string>

#include "cdc/cli/commands.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/log.h"  // EscapeForLog

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(cdc::cli::TopLevelHelp().c_str(), stderr);
    return cdc::cli::kExitConfig;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(cdc::cli::TopLevelHelp().c_str(), stdout);
    return cdc::cli::kExitOk;
  }
  if (command == "--version" || command == "version") {
    std::fputs(cdc::cli::VersionText().c_str(), stdout);
    return cdc::cli::kExitOk;
  }
  if (const cdc::cli::Command* c = cdc::cli::FindCommand(command)) {
    return c->run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "pgcdc: unknown command '%s'\n\n%s",
               cdc::EscapeForLog(command).c_str(),
               cdc::cli::TopLevelHelp().c_str());
  return cdc::cli::kExitConfig;
}
