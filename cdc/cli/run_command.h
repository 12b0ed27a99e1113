// `pgcdc run --config FILE`: stream the configured tables until SIGTERM.
#ifndef CDC_CLI_RUN_COMMAND_H_
#define CDC_CLI_RUN_COMMAND_H_

#include "cdc/cli/args.h"

namespace cdc::cli {

// The help text and every flag the command accepts.
CommandDoc RunCommandDoc();

// argv[0] is "run"; returns one of exit_codes.h.
int RunRunCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_RUN_COMMAND_H_
