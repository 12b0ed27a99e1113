#include "cdc/cli/check_command.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cdc/cli/args.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/log.h"  // EscapeForLog
#include "cdc/common/lsn.h"
#include "cdc/config/config.h"
#include "cdc/kafka/producer.h"
#include "cdc/kafka/topic_admin.h"
#include "cdc/kafka/topic_names.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/failover.h"
#include "cdc/pg/failover_probe.h"
#include "cdc/pipeline/stream_spool.h"

namespace cdc::cli {
namespace {

constexpr char kUsage[] =
    "NAME\n"
    "    pgcdc check - run every startup check, create and stream nothing\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc check [--offline] --config FILE\n"
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
    "    SQL_ASCII database (text that may not be UTF-8). With\n"
    "    source.slot_failover: true, fails on a server older than\n"
    "    PostgreSQL 17, and reads every host source.dsn lists (one session\n"
    "    each): its role, and whether the slot survives a failover (the\n"
    "    slot's failover flag; the primary's synchronized_standby_slots and\n"
    "    whether those physical slots exist and are active; each standby's\n"
    "    sync_replication_slots, hot_standby_feedback, primary_slot_name, a\n"
    "    dbname in primary_conninfo, and its copy of the slot, synced),\n"
    "    warning about what is missing; an unreachable host is a warning.\n"
    "    When some check failed, the last line repeats the first failure.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE\n"
    "        The configuration (YAML; docs/configuration.md). Required.\n"
    "    --offline\n"
    "        Checks the configuration file alone and connects to nothing:\n"
    "        the YAML, every key and value as run reads them, ${VAR} and\n"
    "        ${credential:NAME} references. A variable that is not set here\n"
    "        (a secret only the deployment has), or ${credential:NAME}\n"
    "        without CREDENTIALS_DIRECTORY, is accepted with a warning\n"
    "        naming it, and a placeholder stands for its value. For a\n"
    "        container image's build, a CI job, or a manifest before it is\n"
    "        applied.\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   all checks passed\n"
    "    2   bad configuration or usage\n"
    "    3   some check failed (with --offline: a temporary directory\n"
    "        could not be made)\n"
    "\n" CDC_CLI_CONFIG_ENVIRONMENT_HELP
    "\n"
    "EXAMPLES\n"
    "    pgcdc check --config /etc/pgcdc/pgcdc.yaml\n"
    "    pgcdc check --offline --config deploy/compose/pgcdc.yaml\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc run --help, pgcdc status --help, docs/configuration.md,\n"
    "    docs/operations.md (Least privileges)\n";

// The flags beyond --config and --help.
std::vector<FlagSpec> ExtraFlags() { return {{"offline", /*boolean=*/true}}; }

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

// Whether the standbys source.dsn lists would keep the slot through a
// promotion. Their setup is the operator's, and run works without it, so
// what is missing is a warning, not a failure.
void CheckFailover(const config::Config& config, Report& report) {
  absl::StatusOr<pg::FailoverInput> in = pg::ProbeFailover(
      config.source.dsn, config.source.slot, config.source.slot_failover);
  if (!in.ok()) {
    report.Fail("failover: the hosts of source.dsn", in.status());
    return;
  }
  for (const pg::HostFailoverState& h : in->hosts) {
    if (!h.error.empty()) continue;  // a note of the verdict
    report.Ok(absl::StrCat("failover: host ", h.endpoint, " is a ",
                           h.in_recovery ? "standby" : "primary"));
  }
  const pg::FailoverVerdict verdict = pg::AssessFailover(*in);
  for (const std::string& note : verdict.notes) {
    report.Warn(absl::StrCat("failover: ", note));
  }
  if (verdict.survives) {
    report.Ok(absl::StrCat("failover: the slot survives the promotion of ",
                           absl::StrJoin(verdict.ready_standbys, ", ")));
    return;
  }
  for (const std::string& reason : verdict.reasons) {
    report.Warn(absl::StrCat("failover: ", reason));
  }
  report.Warn(
      "failover: the slot would be lost if a standby were promoted "
      "now (docs/failover.md)");
}

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
  report.Ok(absl::StrCat("PostgreSQL ", server->server_version, " at ",
                         sql.Endpoint(), "/", server->database,
                         ": wal_level logical, the role may replicate"));
  if (server->server_encoding == "SQL_ASCII") {
    report.Warn(pg::kSqlAsciiWarning);
  }
  if (absl::Status s =
          pg::RequireFailoverSupport(server->server_version_num, config);
      !s.ok()) {
    report.Fail("source.slot_failover", s);
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
  if (config.source.slot_failover &&
      server->server_version_num >= pg::kFailoverSlotsVersion) {
    CheckFailover(config, report);
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

// What --offline's lookup saw; set while it parses (the lookup is a plain
// function pointer).
struct OfflineEnvironment {
  std::string credentials_directory;  // placeholder files, when needed
  std::vector<std::string> unset;     // variables a placeholder stood for
};
OfflineEnvironment* offline_environment = nullptr;

constexpr char kPlaceholder[] = "pgcdc-check-offline-placeholder";

// The process environment; a variable that is not set is recorded and read
// as kPlaceholder, and CREDENTIALS_DIRECTORY as the directory of
// placeholder credentials.
bool OfflineGetenv(std::string_view name, std::string* value) {
  const std::string variable(name);
  if (const char* found = std::getenv(variable.c_str()); found != nullptr) {
    *value = found;
    return true;
  }
  OfflineEnvironment& env = *offline_environment;
  if (std::find(env.unset.begin(), env.unset.end(), variable) ==
      env.unset.end()) {
    env.unset.push_back(variable);
  }
  *value = variable == "CREDENTIALS_DIRECTORY" ? env.credentials_directory
                                               : kPlaceholder;
  return true;
}

// Whether `name` can name a credential file: [A-Za-z0-9_-] then up to 254
// of [A-Za-z0-9_.-], and no "..".
bool IsCredentialName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name[0] == '.' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '-' || c == '.';
  });
}

// The ${credential:NAME} references in `text`, once each, but for lines
// that are comments and names that cannot be a file's (the parser reports
// those). A plain scan, not a regular expression: the file is the user's,
// of any size.
std::vector<std::string> CredentialNames(const std::string& text) {
  constexpr std::string_view kOpen = "${credential:";
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t first = line.find_first_not_of(" \t");
    if (first != absl::string_view::npos && line[first] == '#') continue;
    size_t at = 0;
    while ((at = line.find(AsAbsl(kOpen), at)) != absl::string_view::npos) {
      const size_t start = at + kOpen.size();
      const size_t close = line.find('}', start);
      if (close == absl::string_view::npos) break;
      const std::string_view name(line.data() + start, close - start);
      if (!IsCredentialName(name)) {
        ++at;  // a reference may start inside this one
        continue;
      }
      at = close + 1;
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        names.emplace_back(name);
      }
    }
  }
  return names;
}

// `check --offline`: the configuration file alone.
int CheckOffline(const std::string& path) {
  OfflineEnvironment env;
  std::string text;
  {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  char directory[] = "/tmp/pgcdc-check-offline-XXXXXX";
  const std::vector<std::string> credentials = CredentialNames(text);
  if (!credentials.empty() && std::getenv("CREDENTIALS_DIRECTORY") == nullptr) {
    if (::mkdtemp(directory) == nullptr) {
      std::printf(
          "FAIL  configuration: cannot make a temporary directory: %s\n",
          std::strerror(errno));
      return kExitEnvironment;
    }
    env.credentials_directory = directory;
    for (const std::string& name : credentials) {
      std::ofstream(env.credentials_directory + "/" + name) << kPlaceholder;
    }
  }
  offline_environment = &env;
  absl::StatusOr<config::Config> config =
      config::LoadConfigFile(path, &OfflineGetenv);
  offline_environment = nullptr;
  if (!env.credentials_directory.empty()) {
    for (const std::string& name : credentials) {
      std::remove((env.credentials_directory + "/" + name).c_str());
    }
    ::rmdir(env.credentials_directory.c_str());
  }
  const std::string unset = absl::StrJoin(env.unset, ", ");
  if (!config.ok()) {
    std::printf("FAIL  configuration: %s%s\n",
                EscapeForLog(config.status().message()).c_str(),
                unset.empty()
                    ? ""
                    : EscapeForLog(absl::StrCat(" (a placeholder stood for "
                                                "what is not set here: ",
                                                unset, ")"))
                          .c_str());
    return kExitConfig;
  }
  Report report;
  for (const std::string& name : env.unset) {
    report.Warn(
        name == "CREDENTIALS_DIRECTORY"
            ? absl::StrCat("CREDENTIALS_DIRECTORY is not set: a placeholder "
                           "stood for each ${credential:NAME} (",
                           absl::StrJoin(credentials, ", "), ")")
            : absl::StrCat("environment variable ", name,
                           " is not set: a placeholder stood for its value"));
  }
  report.Ok(absl::StrCat("configuration ", path,
                         " (offline: PostgreSQL, Kafka and the spill "
                         "directory not checked)"));
  std::printf("all checks passed\n");
  return kExitOk;
}

}  // namespace

CommandDoc CheckCommandDoc() {
  return {kUsage, ConfigCommandFlags(ExtraFlags())};
}

int RunCheckCommand(int argc, char** argv) {
  std::string path;
  int exit_code = kExitOk;
  std::optional<Args> args = ParseConfigCommand(
      argc, argv, "check", kUsage, ExtraFlags(), &path, &exit_code);
  if (!args) return exit_code;
  if (args->GetBool("offline")) return CheckOffline(path);
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
