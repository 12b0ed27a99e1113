// The table of pgcdc's subcommands — name, one-line summary, help and flags
// (CommandDoc), entry point — that main() dispatches through, and the
// top-level --help and --version texts built from it, so that a test can
// walk every subcommand's documentation.
//
// Constant data and pure text builders (VersionText asks the loaded
// libraries for their versions); thread-safe.
#ifndef CDC_CLI_COMMANDS_H_
#define CDC_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "cdc/cli/args.h"

namespace cdc::cli {

struct Command {
  const char* name;     // "run"
  const char* summary;  // one line for the top-level help
  CommandDoc (*doc)();
  int (*run)(int argc, char** argv);  // argv[0] is the name
};

// Every subcommand, in the order the top-level help lists them.
const std::vector<Command>& Commands();
// nullptr when `name` is none of them.
const Command* FindCommand(const std::string& name);

// `pgcdc --help`.
std::string TopLevelHelp();

// `pgcdc --version`: pgcdc's version, the pgoutput protocol versions it
// speaks, and the versions of the libraries it runs with — one
// "name version" line each, "librdkafka X.Y.Z" among them.
std::string VersionText();

}  // namespace cdc::cli

#endif  // CDC_CLI_COMMANDS_H_
