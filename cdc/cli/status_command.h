// `pgcdc status --config FILE [--json]`: the configured replication slot as
// the server reports it — exists, active and by which pid, plugin,
// confirmed and restart LSN, retained WAL, wal_status and safe_wal_size
// against max_slot_wal_keep_size, lag — with the publication and any
// snapshot COPY in progress, for a person or (--json) a program. Warns when
// the slot is at risk of invalidation (status_report.h decides).
//
// Runs on an ordinary connection (not a replication one), reads only, and
// needs no more rights than reading pg_replication_slots and
// pg_stat_progress_copy.
#ifndef CDC_CLI_STATUS_COMMAND_H_
#define CDC_CLI_STATUS_COMMAND_H_

#include "cdc/cli/args.h"

namespace cdc::cli {

// The help text and the flags it documents.
CommandDoc StatusCommandDoc();

// argv[0] is "status". Exit codes: 0 the slot is not at risk (or does not
// exist yet); 1 (kExitSlotAtRisk) at risk, with WARNING lines saying why;
// 2 bad configuration or usage; 3 the server could not be reached or read.
int RunStatusCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_STATUS_COMMAND_H_
