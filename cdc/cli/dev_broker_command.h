// `pgcdc dev-broker`: runs librdkafka's in-process mock Kafka cluster (see
// cdc/kafka/dev_broker.h) until SIGTERM or SIGINT, for demos and tests
// without a real Kafka.
//
// Prints the bootstrap servers as one line on stdout once the cluster
// listens, and with --bootstrap-file also writes that line to a file,
// atomically (written aside, then renamed), so a script polling for the file
// never reads half a line; the file is removed again when it stops, so it
// never points at a dead port.
#ifndef CDC_CLI_DEV_BROKER_COMMAND_H_
#define CDC_CLI_DEV_BROKER_COMMAND_H_

#include "cdc/cli/args.h"

namespace cdc::cli {

// The help text and every flag the command accepts.
CommandDoc DevBrokerCommandDoc();

// argv[0] is "dev-broker". Returns the process exit code (kExit* in
// exit_codes.h): kExitOk after the signal, kExitFailure when the cluster
// cannot start or the file cannot be written, kExitConfig for bad usage.
//
// Blocks SIGTERM and SIGINT in the calling thread and sigwait()s for them,
// so call it from the main thread before any other thread exists (threads
// that leave them unblocked would take the default action: death).
int RunDevBrokerCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_DEV_BROKER_COMMAND_H_
