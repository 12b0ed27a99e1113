// `pgcdc status` against a real server: no slot yet, a slot pgcdc streams
// from, a stopped one, --json, and a slot pushed past a small
// max_slot_wal_keep_size; and the pgcdc_slot_* metrics `pgcdc run` exports
// from the same query.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cdc/cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "tests/integration/harness/debezium_capture.h"  // ParseJsonObject
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/subprocess.h"

namespace cdc::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

class StatusTest : public PgcdcTest {
 protected:
  // Runs `pgcdc status --config config [--json]`; returns the exit code.
  int Status(const std::string& config, bool json, std::string* output) {
    std::vector<std::string> args = {"status", "--config", config};
    if (json) args.push_back("--json");
    const auto start = std::chrono::steady_clock::now();
    const int code = RunPgcdc(args, output);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::cout << "pgcdc status" << (json ? " --json" : "") << " took " << ms
              << " ms\n";
    return code;
  }

  // The JSON object of `pgcdc status --json` (the last line of its output).
  google::protobuf::Struct StatusJson(const std::string& config,
                                      int expected_code) {
    std::string out;
    EXPECT_EQ(Status(config, /*json=*/true, &out), expected_code) << out;
    absl::StatusOr<google::protobuf::Struct> parsed =
        ParseJsonObject(LastLine(out));
    EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << out;
    return parsed.value_or(google::protobuf::Struct());
  }

  // The pid of pgcdc's walsender, from pg_stat_activity (not from the slot).
  int WalsenderPid() {
    std::vector<pg::SqlRow> rows = Rows(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = "
        "'walsender' AND application_name = 'pgcdc' AND datname = "
        "current_database()");
    int pid = 0;
    if (rows.size() == 1) {
      EXPECT_TRUE(absl::SimpleAtoi(rows[0][0].value_or(""), &pid));
    }
    return pid;
  }
};

TEST_F(StatusTest, NoSlotYetIsReportedPlainly) {
  Sql("CREATE TABLE notes (id int PRIMARY KEY)");
  const std::string config = WriteConfig({"public.notes"});
  std::string out;
  EXPECT_EQ(Status(config, /*json=*/false, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("replication slot \"", slot_, "\"")));
  EXPECT_THAT(out, HasSubstr("does not exist"));
  EXPECT_THAT(out, HasSubstr("publication \"pgcdc_pub\""));
  EXPECT_THAT(out, Not(HasSubstr("WARNING")));

  google::protobuf::Struct json = StatusJson(config, 0);
  const auto& f = json.fields();
  ASSERT_TRUE(f.contains("exists"));
  EXPECT_FALSE(f.at("exists").bool_value());
  EXPECT_FALSE(f.at("publication_exists").bool_value());
  EXPECT_FALSE(f.at("at_risk").bool_value());
  EXPECT_EQ(f.at("active").kind_case(), google::protobuf::Value::kNullValue);
}

TEST_F(StatusTest, ActiveWhileRunningInactiveAfterAndTheSlotMetrics) {
  Sql("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  const int metrics_port = FreePort();
  const std::string config =
      WriteConfig({"public.notes"}, "", MetricsOn(metrics_port));
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO notes SELECT g, 'x' FROM generate_series(1, 100) g");
  WaitCaughtUp();

  const int walsender = WalsenderPid();
  ASSERT_GT(walsender, 0);
  google::protobuf::Struct json = StatusJson(config, 0);
  const auto& f = json.fields();
  ASSERT_TRUE(f.contains("active")) << json.DebugString();
  EXPECT_TRUE(f.at("exists").bool_value());
  EXPECT_TRUE(f.at("active").bool_value());
  EXPECT_EQ(f.at("active_pid").number_value(), walsender);
  EXPECT_EQ(f.at("plugin").string_value(), "pgoutput");
  EXPECT_EQ(f.at("slot_type").string_value(), "logical");
  EXPECT_EQ(f.at("wal_status").string_value(), "reserved");
  EXPECT_TRUE(f.at("publication_exists").bool_value());
  EXPECT_GE(f.at("retained_wal_bytes").number_value(), 0);
  EXPECT_GE(f.at("lag_bytes").number_value(), 0);
  EXPECT_EQ(f.at("max_slot_wal_keep_size_bytes").number_value(), -1);
  EXPECT_EQ(f.at("safe_wal_size_bytes").kind_case(),
            google::protobuf::Value::kNullValue);
  EXPECT_FALSE(f.at("at_risk").bool_value());
  EXPECT_EQ(f.at("snapshot_copies").list_value().values_size(), 0);

  std::string text;
  EXPECT_EQ(Status(config, /*json=*/false, &text), 0) << text;
  std::cout << text;  // the sample in docs/operations.md
  EXPECT_THAT(text, HasSubstr(absl::StrCat("yes, pid ", walsender)));
  EXPECT_THAT(text, HasSubstr("OK: the slot is not at risk"));

  // The monitor's first reading is taken at start.
  std::string metrics;
  EXPECT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet(metrics_port, "/metrics");
        return metrics.find("pgcdc_slot_wal_status{status=\"reserved\"} 1") !=
               std::string::npos;
      },
      15000))
      << metrics;
  EXPECT_GE(MetricValue(metrics, "pgcdc_slot_retained_wal_bytes"), 0);
  EXPECT_EQ(MetricValue(metrics, "pgcdc_slot_safe_wal_size_bytes"), -1);
  EXPECT_THAT(metrics, HasSubstr("pgcdc_slot_wal_status{status=\"lost\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("pgcdc_producer_retries_total"));

  StopPgcdc(p);
  absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  json = StatusJson(config, 0);
  EXPECT_FALSE(json.fields().at("active").bool_value());
  EXPECT_EQ(json.fields().at("active_pid").kind_case(),
            google::protobuf::Value::kNullValue);
  EXPECT_EQ(json.fields().at("confirmed_flush_lsn").string_value(),
            FormatLsn(*confirmed));
  EXPECT_EQ(Status(config, /*json=*/false, &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("no (nothing streams from it)"));
  EXPECT_THAT(text, HasSubstr(FormatLsn(*confirmed)));
}

TEST_F(StatusTest, WarnsWhenTheSlotPassesMaxSlotWalKeepSize) {
  Sql("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  const std::string config = WriteConfig({"public.notes"});
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  StopPgcdc(p);
  Sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
  Sql("SELECT pg_reload_conf()");
  std::string out;
  // pgcdc stopped: the slot holds its position while WAL is written.
  google::protobuf::Struct json;
  std::string wal_status;
  for (int round = 0; round < 10; ++round) {
    Sql("INSERT INTO notes SELECT g, repeat('x', 1000) FROM "
        "generate_series(" +
        std::to_string(round * 5000 + 1) + ", " +
        std::to_string(round * 5000 + 5000) + ") g");
    Sql("SELECT pg_switch_wal()");
    Sql("CHECKPOINT");
    std::string probe;
    const int code = Status(config, /*json=*/true, &probe);
    absl::StatusOr<google::protobuf::Struct> parsed =
        ParseJsonObject(LastLine(probe));
    ASSERT_TRUE(parsed.ok()) << probe;
    wal_status = parsed->fields().at("wal_status").string_value();
    if (code == 1) {
      json = *parsed;
      break;
    }
  }
  ASSERT_THAT(wal_status, AnyOf("unreserved", "lost"));
  EXPECT_TRUE(json.fields().at("at_risk").bool_value());
  EXPECT_EQ(json.fields().at("max_slot_wal_keep_size_bytes").number_value(),
            1024 * 1024);
  EXPECT_GE(json.fields().at("warnings").list_value().values_size(), 1);

  EXPECT_EQ(Status(config, /*json=*/false, &out), 1) << out;
  std::cout << out;
  EXPECT_THAT(out, HasSubstr("WARNING: "));
  EXPECT_THAT(out, Not(HasSubstr("OK: ")));
  if (wal_status == "lost") {
    EXPECT_THAT(out, HasSubstr("invalidated"));
  } else {
    EXPECT_THAT(out, HasSubstr("unreserved"));
  }
}

TEST_F(StatusTest, CannotConnectExitsThree) {
  const std::string config = WriteConfig({"public.notes"});
  EditConfig(config, "port=[0-9]+", absl::StrCat("port=", FreePort()));
  std::string out;
  EXPECT_EQ(Status(config, /*json=*/true, &out), 3) << out;
  EXPECT_THAT(out, HasSubstr("cannot connect to PostgreSQL"));
  EXPECT_EQ(Status(dir_ + "/missing.yaml", false, &out), 2) << out;
}

// Produce requests the broker fails with a retriable error are retried by
// librdkafka; its statistics count them, and pgcdc adds them up.
TEST_F(StatusTest, ProducerRetriesAreCountedFromLibrdkafkasStatistics) {
  Sql("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  const int metrics_port = FreePort();
  const std::string config = WriteConfig(
      {"public.notes"}, "  properties:\n    statistics.interval.ms: \"500\"\n",
      MetricsOn(metrics_port));
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO notes VALUES (1, 'before')");
  WaitCaughtUp();
  EXPECT_EQ(MetricValue(HttpGet(metrics_port, "/metrics"),
                        "pgcdc_producer_retries_total"),
            0);
  rd_kafka_mock_push_request_errors(
      broker_->mock(), /*Produce=*/0, 3, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  Sql("INSERT INTO notes VALUES (2, 'retried')");
  WaitCaughtUp(60000);
  double retries = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        retries = MetricValue(HttpGet(metrics_port, "/metrics"),
                              "pgcdc_producer_retries_total");
        return retries >= 3;
      },
      15000))
      << "pgcdc_producer_retries_total " << retries;
  StopPgcdc(p);
  EXPECT_EQ(ReadTopic("public.notes").size(), 2u);
}

// The binary itself: every subcommand's --help and --version exit 0 and
// print what the man page and the version text say.
TEST(PgcdcBinaryTest, HelpOfEverySubcommandAndVersion) {
  char tmpl[] = "/tmp/pgcdc-help-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  int runs = 0;
  auto run = [&](const std::vector<std::string>& args, std::string* out) {
    std::vector<std::string> argv = {PGCDC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<Subprocess> p =
        Subprocess::Start(argv, absl::StrCat(dir, "/out-", ++runs));
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return -1;
    std::optional<int> code = p->Wait(10000);
    *out = p->ReadLog();
    return code.value_or(-1);
  };
  std::string out;
  for (const cli::Command& c : cli::Commands()) {
    EXPECT_EQ(run({c.name, "--help"}, &out), 0) << c.name;
    EXPECT_EQ(out, c.doc().help) << c.name;
  }
  EXPECT_EQ(run({"--help"}, &out), 0);
  EXPECT_EQ(out, cli::TopLevelHelp());
  EXPECT_EQ(run({"--version"}, &out), 0);
  EXPECT_EQ(out, cli::VersionText());
  EXPECT_THAT(out, HasSubstr("pgoutput protocol versions 1, 2, 3\n"));
  EXPECT_EQ(run({"nonsense"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("unknown command 'nonsense'"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdc::testing
