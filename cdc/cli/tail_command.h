// `pgcdc tail`: prints the records of one Kafka topic as JSON lines on
// stdout (cdc::envelope::RecordToJsonLine), for humans and scripts looking at
// what pgcdc wrote. Reads every partition directly, commits nothing.
#ifndef CDC_CLI_TAIL_COMMAND_H_
#define CDC_CLI_TAIL_COMMAND_H_

#include "cdc/cli/args.h"

namespace cdc::cli {

// The help text and every flag the command accepts.
CommandDoc TailCommandDoc();

// argv[0] is "tail". Returns the process exit code (kExit* in
// exit_codes.h): kExitOk after --max-messages or --idle-exit-ms,
// kExitEnvironment when the topic cannot be found or the cluster not
// reached, kExitConfig for bad usage.
// Records that are not pgcdc envelopes are reported on stderr and skipped.
int RunTailCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_TAIL_COMMAND_H_
