// The subcommands as a user runs them: dev-broker and tail as processes,
// backpressure and shutdown of `run` observed from outside.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/load.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

// Starts `pgcdc dev-broker` as a process with `extra` arguments and returns
// it with its bootstrap servers.
absl::StatusOr<Subprocess> StartBrokerProcess(
    const std::string& dir, const std::vector<std::string>& extra,
    std::string* bootstrap) {
  const std::string bootstrap_file = dir + "/bootstrap";
  std::vector<std::string> argv = {PGCDC_BINARY, "dev-broker",
                                   "--bootstrap-file", bootstrap_file};
  argv.insert(argv.end(), extra.begin(), extra.end());
  absl::StatusOr<Subprocess> broker =
      Subprocess::Start(argv, dir + "/broker.log");
  if (!broker.ok()) return broker.status();
  bootstrap->clear();
  for (int i = 0; i < 100 && bootstrap->empty(); ++i) {
    std::ifstream in(bootstrap_file);
    std::getline(in, *bootstrap);
    if (bootstrap->empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return broker;
}

TEST_F(PgcdcTest, DevBrokerAndTailAsProcesses) {
  Sql("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  std::string bootstrap;
  absl::StatusOr<Subprocess> broker = StartBrokerProcess(dir_, {}, &bootstrap);
  ASSERT_TRUE(broker.ok());
  ASSERT_TRUE(std::regex_match(
      bootstrap, std::regex(R"(127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*)")))
      << bootstrap;

  std::string config = WriteConfig({"public.notes"});
  // Point this run at the dev-broker process instead.
  EditConfig(config, "bootstrap_servers: \"[^\"]*\"",
             "bootstrap_servers: \"" + bootstrap + "\"");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO notes VALUES (1, 'hello'), (2, 'world')");
  Sql("DELETE FROM notes WHERE id = 2");
  WaitCaughtUp();

  std::string output;
  int code = RunPgcdc({"tail", "--bootstrap-servers", bootstrap, "--topic",
                       Topic("public.notes"), "--from-beginning",
                       "--max-messages", "3", "--idle-exit-ms", "20000"},
                      &output);
  EXPECT_EQ(code, 0) << output;
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StartsWith(line, "{")) lines.emplace_back(line);
  }
  ASSERT_EQ(lines.size(), 3u) << output;
  int creates = 0, deletes = 0;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("\"key\":{\"columns\":[{\"name\":\"id\""));
    if (line.find("\"op\":\"CREATE\"") != std::string::npos) ++creates;
    if (line.find("\"op\":\"DELETE\"") != std::string::npos) ++deletes;
  }
  EXPECT_EQ(creates, 2);
  EXPECT_EQ(deletes, 1);
  EXPECT_THAT(output, HasSubstr("\"text\":\"hello\""));
  StopPgcdc(p);
  broker->Signal(SIGTERM);
  EXPECT_EQ(broker->Wait(10000), std::optional<int>(0));
}

// A broker outage, failing produce requests and a slow broker, injected
// through `pgcdc dev-broker --control FIFO` while pgcdc streams: pgcdc keeps
// running, confirms nothing that was not acknowledged, and catches up by
// itself once the broker answers again, losing nothing.
TEST_F(PgcdcTest, BrokerFaultsInjectedThroughTheControlFifo) {
  Sql("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  const std::string fifo = dir_ + "/broker.ctl";
  std::string bootstrap;
  absl::StatusOr<Subprocess> broker =
      StartBrokerProcess(dir_, {"--control", fifo}, &bootstrap);
  ASSERT_TRUE(broker.ok());
  ASSERT_FALSE(bootstrap.empty()) << broker->ReadLog();
  // Returns once the broker has logged `logged` once more: its control
  // thread reads the FIFO in its own time, and the test's next step must
  // meet the fault.
  auto control = [&](const std::string& command, const std::string& logged) {
    const size_t before = CountOccurrences(broker->ReadLog(), logged);
    std::ofstream(fifo) << command << "\n";
    EXPECT_TRUE(WaitForLog(*broker, logged, 10000, before + 1))
        << command << ": the broker did not log \"" << logged << "\"\n"
        << broker->ReadLog();
  };
  const int metrics_port = FreePort();
  std::string config = WriteConfig(
      {"public.notes"}, "",
      absl::StrCat("metrics:\n  listen: \"127.0.0.1:", metrics_port, "\"\n"));
  EditConfig(config, "bootstrap_servers: \"[^\"]*\"",
             "bootstrap_servers: \"" + bootstrap + "\"");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO notes SELECT g, 'before' FROM generate_series(1, 100) g");
  WaitCaughtUp();

  control("down", "fault injection: every broker down");
  Sql("INSERT INTO notes SELECT g, 'during' FROM generate_series(101, 1100) g");
  const Lsn written = WalLsn();
  // All 1000 events of the insert produced, none acknowledged.
  double inflight = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        inflight = MetricValue(HttpGet(metrics_port, "/metrics"),
                               "pgcdc_inflight_events");
        return inflight == 1000;
      },
      30000))
      << "pgcdc_inflight_events " << inflight;
  // And it stays so: pgcdc rides the outage out, confirming nothing.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(p.Running()) << p.ReadLog();
  absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok());
  EXPECT_LT(*confirmed, written) << "confirmed while the broker was down";
  EXPECT_EQ(
      MetricValue(HttpGet(metrics_port, "/metrics"), "pgcdc_inflight_events"),
      1000);
  control("up", "fault injection: every broker up");
  WaitCaughtUp(60000);

  control("errors 30 produce NOT_LEADER_FOR_PARTITION",
          "fail with NOT_LEADER_FOR_PARTITION");
  control("rtt 100", "round-trip time 100 ms");
  Sql("UPDATE notes SET body = 'after' WHERE id % 2 = 0");
  Sql("DELETE FROM notes WHERE id % 7 = 0");
  WaitCaughtUp(60000);
  control("rtt 0", "round-trip time 0 ms");
  // A bad command is refused, and nothing else happens.
  control("explode", "bad fault command \"explode\"");
  StopPgcdc(p);

  std::string broker_log = broker->ReadLog();
  EXPECT_THAT(broker_log, HasSubstr("fault injection: every broker down"));
  EXPECT_THAT(broker_log, HasSubstr("fault injection: every broker up"));
  EXPECT_THAT(broker_log, HasSubstr("fail with NOT_LEADER_FOR_PARTITION"));
  EXPECT_THAT(broker_log, HasSubstr("bad fault command \"explode\""));
  absl::StatusOr<std::vector<ReadEvent>> events =
      ReadAll(bootstrap, Topic("public.notes"));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(CheckOrderAndDuplicates(*events), "");
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok());
  absl::StatusOr<TableImage> source = SelectTable(**conn, "notes", {"id"});
  ASSERT_TRUE(source.ok());
  EXPECT_TRUE(RebuildsTo(*events, *source));
  broker->Signal(SIGTERM);
  EXPECT_EQ(broker->Wait(10000), std::optional<int>(0));
  EXPECT_NE(access(fifo.c_str(), F_OK), 0) << "the FIFO was left behind";
}

TEST_F(PgcdcTest, BackpressureKeepsInflightBytesWithinTheWindow) {
  Sql("CREATE TABLE wide (id int PRIMARY KEY, payload text)");
  int metrics_port = FreePort();
  std::string config = WriteConfig(
      {"public.wide"}, "  max_inflight_bytes: 65536\n",
      absl::StrCat("metrics:\n  listen: \"127.0.0.1:", metrics_port, "\"\n"));
  // Slow acknowledgements: without backpressure the whole table would be in
  // flight at once.
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 100);
  Subprocess p = StartPgcdc(config);
  absl::StatusOr<std::unique_ptr<TopicCollector>> collector;
  std::thread insert([&] {
    Sql("INSERT INTO wide SELECT g, repeat('x', 500) "
        "FROM generate_series(1, 4000) g");
  });
  collector =
      TopicCollector::Start(broker_->bootstrap_servers(), Topic("public.wide"));
  insert.join();
  ASSERT_TRUE(collector.ok()) << collector.status();
  double max_inflight = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while ((*collector)->size() < 4000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::string metrics = HttpGet(metrics_port, "/metrics");
    max_inflight =
        std::max(max_inflight, MetricValue(metrics, "pgcdc_inflight_bytes"));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ((*collector)->size(), 4000u);
  // The window is checked before each event is read: it may be passed by at
  // most one event (~600 bytes here).
  EXPECT_LE(max_inflight, 65536 + 1024);
  EXPECT_GE(max_inflight, 16384) << "the window was never approached, so "
                                    "this test did not exercise it";
  StopPgcdc(p);
}

// SIGTERM while a load writes: pgcdc stops reading, waits for the
// acknowledgements of what it produced, confirms them and exits 0. Events
// are in flight when the signal lands by construction, not by luck: the
// broker stops answering just before it, pgcdc must have produced events
// since (none of which can be acknowledged), and the broker answers again
// only once pgcdc has said it waits for them. The load writes on across the
// signal.
TEST_F(PgcdcTest, SigtermUnderLoadExitsZeroAndConfirmsOnlyAcknowledged) {
  Sql("CREATE TABLE ticks (id int PRIMARY KEY, v int)");
  const int metrics_port = FreePort();
  std::string config =
      WriteConfig({"public.ticks"}, "", MetricsOn(metrics_port));
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 50);
  Subprocess p = StartPgcdc(config);
  Load load(cluster_->Dsn(db_), [](std::mt19937&, int i) {
    return absl::StrCat("INSERT INTO ticks VALUES (", i + 1, ", ", i + 1, ")");
  });
  absl::StatusOr<std::unique_ptr<TopicCollector>> collector =
      TopicCollector::Start(broker_->bootstrap_servers(),
                            Topic("public.ticks"));
  ASSERT_TRUE(collector.ok()) << collector.status();
  auto inflight = [&] {
    return MetricValue(HttpGet(metrics_port, "/metrics"),
                       "pgcdc_inflight_events");
  };
  // Streaming under load, acknowledgements coming back, for a while.
  ASSERT_TRUE(WaitFor([&] { return (*collector)->size() >= 50; }, 30000))
      << (*collector)->size() << " event(s) read";
  ASSERT_NO_FATAL_FAILURE(BrokerDown());
  const int committed_before = load.committed();
  ASSERT_TRUE(WaitFor(
      [&] { return load.committed() > committed_before && inflight() > 0; },
      20000))
      << p.ReadLog();
  const int committed_at_signal = load.committed();
  p.Signal(SIGTERM);
  // It waits for the events in flight: as many as it says, and some.
  const std::string waiting = "in-flight event(s) to be acknowledged";
  ASSERT_TRUE(WaitForLog(p, waiting, 20000)) << p.ReadLog();
  std::smatch m;
  const std::string stopping = p.ReadLog();
  ASSERT_TRUE(std::regex_search(
      stopping, m,
      std::regex(R"(stopping: waiting up to \d+ ms for (\d+) in-flight)")))
      << stopping;
  EXPECT_GT(std::stoi(m[1]), 0);
  ASSERT_TRUE(
      WaitFor([&] { return load.committed() > committed_at_signal; }, 20000))
      << "the load stopped writing";
  ASSERT_NO_FATAL_FAILURE(BrokerUp());
  std::optional<int> code = p.Wait(30000);
  ASSERT_TRUE(code.has_value()) << p.ReadLog();
  EXPECT_EQ(*code, 0) << p.ReadLog();
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr("stopped cleanly"));
  // Everything it produced was acknowledged, and the slot holds exactly
  // what it confirmed last.
  ASSERT_TRUE(std::regex_search(
      log, m,
      std::regex(R"(confirmed (\S+) to slot "[^"]*"; (\d+) of (\d+) event)")))
      << log;
  EXPECT_EQ(m[2], m[3]) << "acknowledged of produced";
  EXPECT_GT(std::stoi(m[3]), 0);
  absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(FormatLsn(*confirmed), m[1].str());
  load.Stop();
  EXPECT_EQ(load.failed(), 0);
  // Whatever was confirmed was delivered: restart, catch up, and the topic
  // (replays dropped) holds every row exactly.
  Subprocess again = StartPgcdc(config);
  WaitCaughtUp();
  StopPgcdc(again);
  absl::Status all = (*collector)->WaitForEnd(30000);
  ASSERT_TRUE(all.ok()) << all;
  std::vector<ReadEvent> events = (*collector)->events();
  EXPECT_EQ((*collector)->error(), "");
  EXPECT_EQ(CheckOrderAndDuplicates(events), "");
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<TableImage> source = SelectTable(**conn, "ticks", {"id"});
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->size(), static_cast<size_t>(load.committed()));
  EXPECT_TRUE(RebuildsTo(events, *source));
}

TEST_F(PgcdcTest, EmbeddedBrokerStreams) {
  Sql("CREATE TABLE e (id int PRIMARY KEY)");
  std::string config = WriteConfig({"public.e"});
  EditConfig(config, "bootstrap_servers: \"[^\"]*\"",
             "bootstrap_servers: embedded");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO e VALUES (1)");
  WaitCaughtUp();
  std::smatch m;
  std::string log = p.ReadLog();
  ASSERT_TRUE(std::regex_search(
      log, m, std::regex(R"(embedded dev broker .* at (\S+))")))
      << log;
  absl::StatusOr<std::vector<ReadEvent>> events =
      ReadAll(m[1], Topic("public.e"));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 1u);
  StopPgcdc(p);
}

// `pgcdc check` runs the startup checks, prints each, and creates nothing.
TEST_F(PgcdcTest, CheckReportsEveryCheckAndCreatesNothing) {
  Sql("CREATE TABLE good (id int PRIMARY KEY)");
  Sql("CREATE TABLE keyless (v text)");
  std::string config = WriteConfig({"public.good", "public.keyless"});
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("ok    tables: public.good, public.keyless"));
  EXPECT_THAT(output, HasSubstr("warn  table public.keyless has no primary"));
  EXPECT_THAT(output, HasSubstr("does not exist yet: run will create it"));
  EXPECT_THAT(output, HasSubstr("ok    replication connection"));
  EXPECT_THAT(output, HasSubstr("broker(s) answer"));
  EXPECT_THAT(output, HasSubstr("all checks passed"));
  EXPECT_TRUE(Rows("SELECT 1 FROM pg_publication").empty());
  EXPECT_TRUE(Rows("SELECT 1 FROM pg_replication_slots").empty());

  // Several things wrong at once: each is reported, exit 3.
  Sql("CREATE PUBLICATION pgcdc_pub FOR TABLE good");
  std::string bad = WriteConfig({"public.good", "public.missing"});
  EditConfig(bad, "bootstrap_servers: \"[^\"]*\"",
             "bootstrap_servers: \"127.0.0.1:1\"");
  EXPECT_EQ(RunPgcdc({"check", "--config", bad}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("FAIL  tables"));
  EXPECT_THAT(output, HasSubstr("public.missing"));
  EXPECT_THAT(output, HasSubstr("FAIL  Kafka at 127.0.0.1:1"));
  EXPECT_THAT(output, HasSubstr("check(s) failed"));
  EditConfig(bad, "public.missing", "public.keyless");
  EXPECT_EQ(RunPgcdc({"check", "--config", bad}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("ok    publication \"pgcdc_pub\" lacks "
                                "public.keyless: run will add them"));

  EditConfig(bad, "topic_prefix: test", "topic_prefix: \"a b\"");
  EXPECT_EQ(RunPgcdc({"check", "--config", bad}, &output), 2) << output;
  EXPECT_THAT(output, HasSubstr("FAIL  configuration"));
}

}  // namespace
}  // namespace cdc::testing
