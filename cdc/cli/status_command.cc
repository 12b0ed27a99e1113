#include "cdc/cli/status_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "cdc/cli/exit_codes.h"
#include "cdc/cli/status_report.h"
#include "cdc/common/log.h"  // EscapeForLog
#include "cdc/config/config.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/failover_probe.h"
#include "cdc/pg/slot_state.h"

namespace cdc::cli {
namespace {

constexpr char kHelp[] =
    "NAME\n"
    "    pgcdc status - the slot's health, as the server reports it\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc status --config FILE [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Connects to source.dsn (an ordinary session, not a replication one)\n"
    "    and reports what the server says of source.slot: whether it exists,\n"
    "    whether it is active and the pid of the walsender streaming from it,\n"
    "    its plugin, confirmed_flush_lsn and restart_lsn, the WAL it retains\n"
    "    (pg_current_wal_lsn() - restart_lsn), its wal_status and\n"
    "    safe_wal_size against max_slot_wal_keep_size, and the lag\n"
    "    (pg_current_wal_lsn() - confirmed_flush_lsn); whether\n"
    "    source.publication exists; and any snapshot COPY pgcdc runs on the\n"
    "    server (rows read so far). Nothing is written, created or derived by\n"
    "    pgcdc: every figure is the server's.\n"
    "\n"
    "    Failover: every host source.dsn lists (host=a,b port=p1,p2) is\n"
    "    read on its own session, and the report says whether the slot\n"
    "    survives a promotion (PostgreSQL 17+): on the primary, the slot's\n"
    "    failover flag and synchronized_standby_slots (its physical slots:\n"
    "    exist, active); on each standby, sync_replication_slots,\n"
    "    hot_standby_feedback, primary_slot_name, a dbname in\n"
    "    primary_conninfo, and its copy of the slot (synced). A host that\n"
    "    cannot be reached is reported, not fatal.\n"
    "\n"
    "    The slot is at risk of invalidation, and status prints WARNING\n"
    "    lines and exits 1, when its wal_status is 'lost' (already\n"
    "    invalidated: drop it and snapshot again) or 'unreserved'; when it\n"
    "    is 'extended' while max_slot_wal_keep_size is -1 (the WAL grows\n"
    "    without bound); when safe_wal_size is below 20% of\n"
    "    max_slot_wal_keep_size; or when the slot is inactive and retains\n"
    "    1 GiB of WAL or more; and when source.slot_failover is true but\n"
    "    the slot would not survive a failover (each reason a WARNING). A\n"
    "    slot that does not exist yet (pgcdc never ran) is reported as such,\n"
    "    with exit status 0.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE\n"
    "        The pgcdc configuration (YAML): source.dsn, source.slot and\n"
    "        source.publication are used. Required.\n"
    "    --json\n"
    "        Print one JSON object on one line instead of the report for a\n"
    "        person; its fields are listed in docs/operations.md.\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   the slot is not at risk, or does not exist yet\n"
    "    1   the slot is at risk of invalidation, or lost, or would not\n"
    "        survive a failover with source.slot_failover: true (WARNING\n"
    "        lines, \"at_risk\": true in JSON)\n"
    "    2   bad configuration or usage\n"
    "    3   the server could not be reached or read\n"
    "\n" CDC_CLI_CONFIG_ENVIRONMENT_HELP
    "\n"
    "EXAMPLES\n"
    "    pgcdc status --config /etc/pgcdc/pgcdc.yaml\n"
    "    pgcdc status --config pgcdc.yaml --json | jq .retained_wal_bytes\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc check --help, docs/operations.md (pgcdc status; what to do\n"
    "    when the slot is at risk), docs/metrics.md (pgcdc_slot_* metrics)\n";

// The flags beyond --config and --help.
std::vector<FlagSpec> ExtraFlags() { return {{"json", /*boolean=*/true}}; }

int CannotRead(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "pgcdc status: cannot %s: %s\n", what,
               EscapeForLog(s.message()).c_str());
  return kExitEnvironment;
}

}  // namespace

CommandDoc StatusCommandDoc() {
  return {kHelp, ConfigCommandFlags(ExtraFlags())};
}

int RunStatusCommand(int argc, char** argv) {
  std::string path;
  int exit_code = kExitOk;
  std::optional<Args> args = ParseConfigCommand(
      argc, argv, "status", kHelp, ExtraFlags(), &path, &exit_code);
  if (!args) return exit_code;
  absl::StatusOr<config::Config> config = config::LoadConfigFile(path);
  if (!config.ok()) {
    std::fprintf(stderr, "pgcdc status: configuration error: %s\n",
                 EscapeForLog(config.status().message()).c_str());
    return kExitConfig;
  }
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(config->source.dsn);
  if (!conn.ok()) return CannotRead("connect to PostgreSQL", conn.status());
  StatusInput in;
  in.slot = config->source.slot;
  in.publication = config->source.publication;
  absl::StatusOr<pg::SlotState> state =
      pg::ReadSlotState(**conn, config->source.slot);
  if (!state.ok()) return CannotRead("read the slot's state", state.status());
  in.state = *std::move(state);
  absl::StatusOr<pg::ServerActivity> activity =
      pg::ReadServerActivity(**conn, config->source.publication);
  if (!activity.ok()) {
    return CannotRead("read the publication and snapshot progress",
                      activity.status());
  }
  in.activity = *std::move(activity);
  absl::StatusOr<pg::FailoverInput> failover = pg::ProbeFailover(
      config->source.dsn, config->source.slot, config->source.slot_failover);
  if (!failover.ok()) {
    return CannotRead("read the hosts of source.dsn", failover.status());
  }
  in.failover = *std::move(failover);
  const RiskAssessment risk = AssessRisk(in);
  const std::string out = args->GetBool("json") ? FormatStatusJson(in, risk)
                                                : FormatStatusText(in, risk);
  std::fputs(out.c_str(), stdout);
  return risk.at_risk ? kExitSlotAtRisk : kExitOk;
}

}  // namespace cdc::cli
