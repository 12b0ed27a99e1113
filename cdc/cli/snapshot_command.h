// `pgcdc snapshot --config FILE --table T[,T...] [--where SQL] [--id ID]`:
// asks the pgcdc that streams this configuration's slot for an incremental
// snapshot of the tables, while it keeps streaming (see
// cdc/snapshot/incremental.h). The request is a logical decoding message in
// the WAL, so it needs no table in the source database and waits there,
// behind the slot, until pgcdc reads it.
#ifndef CDC_CLI_SNAPSHOT_COMMAND_H_
#define CDC_CLI_SNAPSHOT_COMMAND_H_

#include "cdc/cli/args.h"

namespace cdc::cli {

// The help text and every flag the command accepts.
CommandDoc SnapshotCommandDoc();

// argv[0] is "snapshot". Exit codes: 0 requested; 2 the configuration or
// the arguments are wrong (a table not captured, a condition the server
// cannot parse); 3 the environment refused (no connection, no slot yet, a
// table without primary key, no right to write the message).
int RunSnapshotCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_SNAPSHOT_COMMAND_H_
