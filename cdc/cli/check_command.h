// `pgcdc check --config FILE`: every startup check `run` makes — the
// configuration, the server's settings and the role's rights, the tables,
// the publication, the slot, the replication connection, the broker and the
// spill directory — run and printed one by one, without creating or
// streaming anything. `--offline`: the configuration file alone, connecting
// to nothing.
#ifndef CDC_CLI_CHECK_COMMAND_H_
#define CDC_CLI_CHECK_COMMAND_H_

#include "cdc/cli/args.h"

namespace cdc::cli {

// The help text and every flag the command accepts.
CommandDoc CheckCommandDoc();

// argv[0] is "check". Exit codes: 0 every check passed, 2 the configuration
// (or usage) is wrong, 3 some check of the environment failed (with
// --offline: its temporary directory could not be made).
int RunCheckCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_CHECK_COMMAND_H_
