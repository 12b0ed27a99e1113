#include "cdc/cli/check_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/cli/args.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/log.h"  // EscapeForLog
#include "cdc/common/lsn.h"
#include "cdc/config/config.h"
#include "cdc/kafka/producer.h"
#include "cdc/kafka/topic_admin.h"
#include "cdc/kafka/topic_names.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/pipeline/stream_spool.h"

namespace cdc::cli {
namespace {

constexpr char kUsage[] =
    "NAME\n"
    "    pgcdc check - run every startup check, create and stream nothing\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc check --config FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs every check `pgcdc run` makes before it streams, prints\n"
    "    each result on a line of its own (\"ok\", \"warn\" or \"FAIL\"), and\n"
    "    creates nothing: the configuration; the server's wal_level and\n"
    "    the role's REPLICATION right; the tables; the role's other\n"
    "    rights (SELECT on the tables, EXECUTE on\n"
    "    pg_logical_emit_message, as far as snapshots and heartbeats need\n"
    "    them); the publication (exists and covers exactly the tables, or\n"
    "    can be created); the replication slot (pgoutput, this database,\n"
    "    not lost; or can be created); a replication connection; the\n"
    "    Kafka brokers and topics (asked to validate, not to create); the\n"
    "    spill directory. Warns about tables without a key and about a\n"
    "    SQL_ASCII database (text that may not be UTF-8). When some check\n"
    "    failed, the last line repeats the first failure.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE\n"
    "        The configuration (YAML; docs/configuration.md). Required.\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   all checks passed\n"
    "    2   bad configuration or usage\n"
    "    3   some check failed\n"
    "\n" CDC_CLI_CONFIG_ENVIRONMENT_HELP
    "\n"
    "EXAMPLES\n"
    "    pgcdc check --config /etc/pgcdc/pgcdc.yaml\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc run --help, pgcdc status --help, docs/configuration.md,\n"
    "    docs/operations.md (Least privileges)\n";

// The flags beyond --config and --help.
std::vector<FlagSpec> ExtraFlags() { return {}; }

constexpr int kBrokerTimeoutMs = 10000;

// Prints one result line and counts failures. Lines quote the server and
// librdkafka, so they are escaped as log lines are.
class Report {
 public:
  void Ok(const std::string& what) { Line("ok  ", what); }
  void Warn(const std::string& what) { Line("warn", what); }
  void Fail(const std::string& what, const absl::Status& s) {
    ++failures_;
    std::string line = absl::StrCat(what, ": ", s.message());
    if (first_failure_.empty()) first_failure_ = line;
    Line("FAIL", line);
  }
  int failures() const { return failures_; }
  // The last line of a failed check repeats the first failure, so that one
  // line (a script's, a log's) still says what is wrong.
  void Summary() const {
    std::printf("%d check(s) failed; the first: %s\n", failures_,
                EscapeForLog(first_failure_).c_str());
  }

 private:
  static void Line(const char* tag, const std::string& text) {
    std::printf("%s  %s\n", tag, EscapeForLog(text).c_str());
    std::fflush(stdout);
  }
  int failures_ = 0;
  std::string first_failure_;
};

void CheckDatabase(const config::Config& config, Report& report) {
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(config.source.dsn);
  if (!conn.ok()) {
    report.Fail("connect to PostgreSQL", conn.status());
    return;
  }
  pg::SqlConnection& sql = **conn;
  absl::StatusOr<pg::ServerInfo> server = pg::CheckServer(sql);
  if (!server.ok()) {
    report.Fail("server settings and rights", server.status());
    return;
  }
  report.Ok(absl::StrCat("PostgreSQL ", server->server_version_num, " at ",
                         sql.Endpoint(), "/", server->database,
                         ": wal_level logical, the role may replicate"));
  if (server->server_encoding == "SQL_ASCII") {
    report.Warn(pg::kSqlAsciiWarning);
  }

  absl::StatusOr<std::vector<pg::TableInfo>> tables =
      pg::DescribeTables(sql, config.source.tables);
  if (!tables.ok()) {
    report.Fail("tables", tables.status());
  } else {
    std::vector<std::string> names;
    for (const pg::TableInfo& t : *tables) {
      names.push_back(t.name.Qualified());
      if (t.primary_key.empty() &&
          (t.replica_identity == 'd' || t.replica_identity == 'n')) {
        report.Warn(absl::StrCat(
            "table ", t.name.Qualified(),
            " has no primary key and no replica identity to stand for one: "
            "its events have a null key and PostgreSQL refuses its UPDATE "
            "and DELETE while it is published (add a primary key, or ALTER "
            "TABLE ... REPLICA IDENTITY FULL)"));
      }
    }
    report.Ok(absl::StrCat("tables: ", absl::StrJoin(names, ", ")));
    absl::StatusOr<pg::RoleRights> rights = pg::ReadRoleRights(sql, *tables);
    std::vector<std::string> warnings;
    absl::Status required =
        rights.ok() ? pg::RequireRoleRights(*rights, config, &warnings)
                    : rights.status();
    if (!required.ok()) {
      report.Fail("rights", required);
    } else {
      for (const std::string& w : warnings) report.Warn(w);
      report.Ok(absl::StrCat("role \"", rights->role,
                             "\" has the rights this configuration needs"));
    }
    const bool via_root =
        std::any_of(tables->begin(), tables->end(),
                    [](const pg::TableInfo& t) { return t.partitioned; });
    std::vector<std::string> to_add;
    absl::StatusOr<bool> missing = pg::EnsurePublication(
        sql, config.source.publication, config.source.tables, via_root,
        /*dry_run=*/true, [&](const std::vector<std::string>& added) {
          to_add = added;
          return absl::OkStatus();
        });
    const std::string pub =
        absl::StrCat("publication \"", config.source.publication, "\"");
    if (!missing.ok()) {
      report.Fail(pub, missing.status());
    } else {
      report.Ok(*missing ? pub + " does not exist yet: run will create it"
                : !to_add.empty()
                    ? absl::StrCat(pub, " lacks ", absl::StrJoin(to_add, ", "),
                                   ": run will add them (and snapshot their "
                                   "rows, unless snapshot.mode is never)")
                    : pub + " covers exactly the configured tables");
    }
  }

  absl::StatusOr<pg::SlotInfo> slot = pg::FindSlot(sql, config.source.slot);
  const std::string name =
      absl::StrCat("replication slot \"", config.source.slot, "\"");
  if (!slot.ok()) {
    report.Fail(name, slot.status());
  } else if (!slot->exists) {
    report.Ok(absl::StrCat(name, " does not exist yet: run will create it",
                           config.snapshot.mode == "never"
                               ? ""
                               : " with a snapshot of the tables"));
  } else if (slot->lost && config.snapshot.mode != "when_needed") {
    report.Fail(name, absl::FailedPreconditionError(
                          "it is lost (wal_status 'lost'): the changes since "
                          "its position are gone; drop it, or use "
                          "snapshot.mode: when_needed"));
  } else {
    report.Ok(absl::StrCat(name, " at ", FormatLsn(slot->confirmed_flush),
                           slot->lost ? " is lost: run will drop it and "
                                        "snapshot again (when_needed)"
                           : slot->active
                               ? " is in use by another connection: run "
                                 "waits for it"
                               : ""));
  }

  absl::StatusOr<std::unique_ptr<pg::ReplicationStream>> stream =
      pg::ReplicationStream::Connect(config.source.dsn);
  if (!stream.ok()) {
    report.Fail("replication connection", stream.status());
  } else {
    report.Ok("replication connection");
  }
}

void CheckKafka(const config::Config& config, Report& report) {
  if (config.kafka.bootstrap_servers == "embedded") {
    report.Ok("Kafka: embedded dev broker (started by run)");
    return;
  }
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(config.kafka.bootstrap_servers,
                              config.kafka.properties,
                              [](const kafka::DeliveryReport&) {});
  if (!producer.ok()) {
    report.Fail("Kafka producer settings", producer.status());
    return;
  }
  absl::StatusOr<int> brokers = (*producer)->CountBrokers(kBrokerTimeoutMs);
  if (!brokers.ok()) {
    report.Fail(absl::StrCat("Kafka at ", config.kafka.bootstrap_servers),
                brokers.status());
    return;
  }
  report.Ok(absl::StrCat("Kafka at ", config.kafka.bootstrap_servers, ": ",
                         *brokers, " broker(s) answer"));
  // Nothing is created: the broker only says whether it would (rights,
  // settings).
  kafka::TopicAdmin admin((*producer)->client(), config.kafka.topics);
  absl::StatusOr<std::vector<kafka::TopicOutcome>> outcomes =
      admin.Ensure(kafka::TopicsOf(config), kBrokerTimeoutMs,
                   /*validate_only=*/true);
  if (!outcomes.ok()) {
    report.Fail("Kafka topics", outcomes.status());
    return;
  }
  for (const kafka::TopicOutcome& o : *outcomes) {
    bool warning = false;
    const std::string line =
        kafka::DescribeOutcome(o, config.kafka.topics, &warning);
    if (warning) {
      report.Warn(line);
    } else {
      report.Ok(line);
    }
  }
}

void CheckSpill(const config::Config& config, Report& report) {
  if (!config.source.streaming) return;
  const std::string directory =
      pipeline::StreamSpool::Directory(config.source.spill_directory);
  pipeline::StreamSpool spool({directory, 0});
  if (absl::Status s = spool.CheckDirectory(); !s.ok()) {
    report.Fail("source.spill_directory", s);
  } else {
    report.Ok(absl::StrCat("spill directory ", directory, " is writable"));
  }
}

}  // namespace

CommandDoc CheckCommandDoc() {
  return {kUsage, ConfigCommandFlags(ExtraFlags())};
}

int RunCheckCommand(int argc, char** argv) {
  std::string path;
  int exit_code = kExitOk;
  if (!ParseConfigCommand(argc, argv, "check", kUsage, ExtraFlags(), &path,
                          &exit_code)) {
    return exit_code;
  }
  absl::StatusOr<config::Config> config = config::LoadConfigFile(path);
  if (!config.ok()) {
    std::printf("FAIL  configuration: %s\n",
                EscapeForLog(config.status().message()).c_str());
    return kExitConfig;
  }
  Report report;
  report.Ok(absl::StrCat("configuration ", path));
  CheckDatabase(*config, report);
  CheckKafka(*config, report);
  CheckSpill(*config, report);
  if (report.failures() > 0) {
    report.Summary();
    return kExitEnvironment;
  }
  std::printf("all checks passed\n");
  return kExitOk;
}

}  // namespace cdc::cli
