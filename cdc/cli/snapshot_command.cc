#include "cdc/cli/snapshot_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cdc/cli/args.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/log.h"  // EscapeForLog
#include "cdc/config/config.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/snapshot/row_filter.h"
#include "cdc/snapshot/signal.h"
#include "cdc/snapshot/signal_writer.h"

namespace cdc::cli {
namespace {

constexpr char kUsage[] =
    "NAME\n"
    "    pgcdc snapshot - ask the running pgcdc for an incremental snapshot\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc snapshot --config FILE --table T[,T...] [--where SQL]\n"
    "                   [--id ID]\n"
    "\n"
    "DESCRIPTION\n"
    "    Asks the pgcdc that streams this configuration's slot (pgcdc run)\n"
    "    for an incremental snapshot of the tables: it reads them in\n"
    "    primary key order, chunk by chunk, while it keeps streaming, and\n"
    "    publishes their rows as READ events; a change streamed meanwhile\n"
    "    wins over a chunk's copy of the row. The request is a logical\n"
    "    decoding message (prefix pgcdc.snapshot) written into the WAL: no\n"
    "    table is needed in the database, and if pgcdc is not running the\n"
    "    request waits for it.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE\n"
    "        The configuration of the pgcdc to ask (YAML). Required.\n"
    "    --table T[,T...]\n"
    "        Tables of source.tables (\"schema.table\", or \"table\" for\n"
    "        public), each with a primary key. Required.\n"
    "    --where SQL\n"
    "        Only rows for which this condition holds.\n"
    "    --id ID\n"
    "        The request's id (default: generated); a request with the id of\n"
    "        one running or recently done is not run again.\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   requested\n"
    "    2   bad configuration, usage, table or condition\n"
    "    3   the database refused (or cannot be reached): no slot yet, a\n"
    "        table without primary key, no right to write the message\n"
    "\n" CDC_CLI_CONFIG_ENVIRONMENT_HELP
    "\n"
    "EXAMPLES\n"
    "    pgcdc snapshot --config pgcdc.yaml --table public.orders\n"
    "    pgcdc snapshot --config pgcdc.yaml --table orders,customers \\\n"
    "        --where \"created_at > now() - interval '1 day'\"\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc run --help, docs/snapshots.md, docs/operations.md (Snapshot\n"
    "    signals)\n";

// The flags beyond --config and --help.
std::vector<FlagSpec> ExtraFlags() { return {{"table"}, {"where"}, {"id"}}; }

// `message` quotes the server and the configuration: escaped as a log line.
int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "pgcdc snapshot: %s\n", EscapeForLog(message).c_str());
  return code;
}

}  // namespace

CommandDoc SnapshotCommandDoc() {
  return {kUsage, ConfigCommandFlags(ExtraFlags())};
}

int RunSnapshotCommand(int argc, char** argv) {
  std::string path;
  int exit_code = kExitOk;
  std::optional<Args> args = ParseConfigCommand(
      argc, argv, "snapshot", kUsage, ExtraFlags(), &path, &exit_code);
  if (!args) return exit_code;
  absl::StatusOr<config::Config> config = config::LoadConfigFile(path);
  if (!config.ok()) {
    return Fail(kExitConfig, absl::StrCat("configuration error: ",
                                          config.status().message()));
  }
  const std::string table_list = args->Get("table").value_or("");
  if (table_list.empty()) {
    std::fprintf(stderr, "pgcdc snapshot: --table is required\n%s",
                 ShortUsage(kUsage).c_str());
    return kExitConfig;
  }

  std::vector<TableName> tables;
  for (absl::string_view part : absl::StrSplit(table_list, ',')) {
    const std::string text(absl::StripAsciiWhitespace(part));
    TableName name;
    const size_t dot = text.find('.');
    name.schema = dot == std::string::npos ? "public" : text.substr(0, dot);
    name.table = dot == std::string::npos ? text : text.substr(dot + 1);
    bool captured = false;
    for (const TableName& t : config->source.tables) {
      captured = captured || t == name;
    }
    if (!captured) {
      return Fail(kExitConfig,
                  absl::StrCat("table \"", text,
                               "\" is not one of source.tables in ", path));
    }
    tables.push_back(name);
  }

  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(config->source.dsn);
  if (!conn.ok()) {
    // kInvalidArgument: a dsn libpq cannot parse, which is configuration.
    return Fail(conn.status().code() == absl::StatusCode::kInvalidArgument
                    ? kExitConfig
                    : kExitEnvironment,
                std::string(conn.status().message()));
  }
  pg::SqlConnection& sql = **conn;
  absl::StatusOr<std::vector<pg::TableInfo>> described =
      pg::DescribeTables(sql, tables);
  if (!described.ok()) {
    return Fail(kExitEnvironment, std::string(described.status().message()));
  }
  const std::string where = args->Get("where").value_or("");
  if (absl::Status s = snapshot::CheckRowFilter(where); !s.ok()) {
    return Fail(kExitConfig, absl::StrCat("--where: ", s.message()));
  }
  std::vector<std::string> names;
  for (const pg::TableInfo& t : *described) {
    names.push_back(t.name.Qualified());
    if (t.primary_key.empty()) {
      return Fail(kExitEnvironment,
                  absl::StrCat("table ", t.name.Qualified(),
                               " has no primary key, which an incremental "
                               "snapshot reads it by"));
    }
    if (!where.empty()) {
      // The server parses the condition now, so a typo fails here rather
      // than in the running pgcdc: EXPLAIN (which runs nothing) through the
      // extended protocol (one statement), in a READ ONLY transaction.
      absl::Status s = sql.Query("BEGIN READ ONLY").status();
      if (s.ok()) {
        s = sql.Query(absl::StrCat("EXPLAIN SELECT 1 FROM ",
                                   sql.QuoteIdentifier(t.name.schema), ".",
                                   sql.QuoteIdentifier(t.name.table), " WHERE ",
                                   snapshot::RowFilterCondition(where)),
                      {}, /*single_statement=*/true)
                .status();
      }
      (void)sql.Query("ROLLBACK");
      if (!s.ok()) {
        return Fail(kExitConfig,
                    absl::StrCat("--where does not work on ",
                                 t.name.Qualified(), ": ", s.message()));
      }
    }
  }
  absl::StatusOr<pg::SlotInfo> slot = pg::FindSlot(sql, config->source.slot);
  if (!slot.ok())
    return Fail(kExitEnvironment, std::string(slot.status().message()));
  if (!slot->exists) {
    return Fail(kExitEnvironment,
                absl::StrCat("replication slot \"", config->source.slot,
                             "\" does not exist yet, so nothing would read "
                             "the request; start pgcdc run first (a new "
                             "slot begins with a snapshot of every table "
                             "under snapshot.mode initial)"));
  }

  absl::StatusOr<snapshot::SignalKeys> keys =
      snapshot::LoadSignalKeys(sql, config->signals, /*create=*/false);
  if (!keys.ok()) {
    return Fail(kExitEnvironment, absl::StrCat("cannot seal the request: ",
                                               keys.status().message()));
  }
  std::string id = args->Get("id").value_or("");
  if (id.empty()) id = snapshot::NewRequestId("cli");
  absl::StatusOr<Lsn> written = snapshot::WriteSignal(
      sql, *keys,
      snapshot::RequestSignal(config->source.slot, id, names, where));
  if (!written.ok()) {
    return Fail(kExitEnvironment, absl::StrCat("cannot write the request: ",
                                               written.status().message()));
  }
  std::printf("%s\n",
              EscapeForLog(absl::StrCat("requested snapshot \"", id, "\" of ",
                                        absl::StrJoin(names, ", "),
                                        where.empty() ? "" : " where ", where,
                                        " at LSN ", FormatLsn(*written),
                                        "; the pgcdc streaming slot \"",
                                        config->source.slot, "\" publishes it"))
                  .c_str());
  return kExitOk;
}

}  // namespace cdc::cli
