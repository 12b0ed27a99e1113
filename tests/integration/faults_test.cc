// PostgreSQL-side faults, injected for real while pgcdc streams: the
// walsender terminated, the server crashing and restarting, a second
// instance waiting on the slot and taking over, the slot dropped. After each,
// the table rebuilt from its topic equals the source table.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/load.h"
#include "tests/integration/harness/tcp_proxy.h"
#include "tests/integration/harness/three_tables.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

// The default load of the tests below.
std::string RandomAccounts(std::mt19937& rng, int i) {
  return RandomAccountsChange(rng, i, 300);
}

class FaultsTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    Sql(kAccounts);
  }

  // A config for accounts with metrics on a fresh port (returned in *port).
  std::string Config(int* port) {
    *port = FreePort();
    return WriteConfig(
        {"public.accounts"}, "",
        absl::StrCat("metrics:\n  listen: \"127.0.0.1:", *port, "\"\n"));
  }

  static double Metric(int port, const std::string& name) {
    return MetricValue(HttpGet(port, "/metrics"), name);
  }

  // Waits until pgcdc confirmed everything, then compares the topic with
  // the table.
  void ExpectNothingLost() {
    WaitCaughtUp(60000);
    ExpectTopicEqualsTable("accounts");
  }

  // Rebuilds public.`table` from its topic on the dev broker (see
  // PgcdcTest::ExpectTopicEqualsTable).
  void ExpectTopicEqualsTable(const std::string& table,
                              TopicCounts* counts = nullptr) {
    PgcdcTest::ExpectTopicEqualsTable(broker_->bootstrap_servers(),
                                      Topic("public." + table), table, counts);
  }

  // A config for accounts (metrics on *port) whose dsn goes through
  // `proxy`, with a 4 s source.receive_timeout_ms. Both of pgcdc's sessions
  // (the stream and the catalog one) go through the proxy; the test's own
  // SQL and loads do not.
  std::string ProxiedConfig(const TcpProxy& proxy, int* port) {
    // The walsender of a frozen connection holds the slot until the server
    // gives up on its silent client (wal_sender_timeout, 60 s by default);
    // only then can a new connection stream. Shortened to keep the tests
    // quick, but longer than a stall pgcdc should ride out.
    Sql("ALTER SYSTEM SET wal_sender_timeout = '6s'");
    Sql("SELECT pg_reload_conf()");
    const std::string config = Config(port);
    EditConfig(config, absl::StrCat(" port=", cluster_->port(), " "),
               absl::StrCat(" port=", proxy.port(), " "));
    EditConfig(config, "  status_interval_ms: 1000\n",
               "  status_interval_ms: 1000\n  receive_timeout_ms: 4000\n");
    return config;
  }

  // Terminates the walsender serving the slot; true when there was one.
  bool TerminateWalsender() {
    std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = '",
        slot_, "' AND active_pid IS NOT NULL"));
    return !rows.empty() && rows[0][0] == std::optional<std::string>("t");
  }
};

TEST_F(FaultsTest, WalsenderTerminatedUnderLoadReconnectsAndLosesNothing) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  {
    Load load(cluster_->Dsn(db_), RandomAccounts);
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      ASSERT_TRUE(WaitFor([&] { return TerminateWalsender(); }, 20000));
      ASSERT_TRUE(WaitFor(
          [&] { return Metric(port, "pgcdc_reconnects_total") > i; }, 20000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    load.Stop();
    // How much the load wrote depends on the machine: enough to matter.
    EXPECT_GT(load.committed(), 100);
  }
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "pgcdc_connected") == 1; }, 20000));
  ExpectNothingLost();
  EXPECT_TRUE(p.Running());
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr("reconnecting in"));
}

TEST_F(FaultsTest, ServerCrashAndRestartUnderLoadLosesNothing) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  {
    Load load(cluster_->Dsn(db_), RandomAccounts);
    for (int i = 0; i < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      ASSERT_TRUE(cluster_->Restart().ok());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    load.Stop();
    EXPECT_GT(load.committed(), 100);
  }
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "pgcdc_connected") == 1; }, 30000));
  // At least one per restart; attempts that fail while the server is still
  // down count too, and how many there are depends on the timing.
  EXPECT_GE(Metric(port, "pgcdc_reconnects_total"), 2);
  ExpectNothingLost();
  EXPECT_TRUE(p.Running());
  StopPgcdc(p);
}

// Two instances on one slot: PostgreSQL lets one stream; the other waits and
// takes over within seconds when the first dies.
TEST_F(FaultsTest, StandbyInstanceTakesOverWhenTheFirstDies) {
  int first_port = 0, second_port = 0;
  Subprocess first = StartPgcdc(Config(&first_port));
  Subprocess second = LaunchPgcdc(Config(&second_port));  // cannot stream
  ASSERT_TRUE(WaitFor(
      [&] {
        return second.ReadLog().find("waiting for it to be released") !=
               std::string::npos;
      },
      20000))
      << second.ReadLog();
  EXPECT_EQ(Metric(second_port, "pgcdc_connected"), 0);
  Load load(cluster_->Dsn(db_), RandomAccounts);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  first.Signal(SIGKILL);
  ASSERT_EQ(first.Wait(10000), std::optional<int>(128 + SIGKILL));
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(second_port, "pgcdc_connected") == 1; }, 20000))
      << second.ReadLog();
  const auto took_over = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  EXPECT_LT(took_over.count(), 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  load.Stop();
  ExpectNothingLost();
  StopPgcdc(second);
  std::cout << "standby took over " << took_over.count()
            << " ms after the first instance was killed\n";
}

// A standby that waited while the active instance moved the slot on starts
// from where the slot is when it takes over, not from where it was when the
// standby started, and never reports a position below it.
TEST_F(FaultsTest, StandbyStartsWhereTheOtherLeftTheSlot) {
  int first_port = 0, second_port = 0;
  Subprocess first = StartPgcdc(Config(&first_port));
  Subprocess second = LaunchPgcdc(Config(&second_port));  // cannot stream
  ASSERT_TRUE(WaitForLog(second, "waiting for it to be released", 20000))
      << second.ReadLog();
  const Lsn before = *cluster_->ConfirmedFlush(db_, slot_);
  for (int i = 1; i <= 20; ++i) {
    Sql(absl::StrCat("INSERT INTO accounts VALUES (", i, ", ", i, ", 'x')"));
  }
  WaitCaughtUp();
  const Lsn moved = *cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_GT(moved, before);
  StopPgcdc(first);
  ASSERT_TRUE(WaitForLog(second, "streaming slot", 20000)) << second.ReadLog();
  const std::string log = second.ReadLog();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      log, m,
      std::regex("streaming slot \"[^\"]*\" from ([0-9A-F]+/[0-9A-F]+)")))
      << log;
  absl::StatusOr<Lsn> from = ParseLsn(m[1].str());
  ASSERT_TRUE(from.ok()) << m[1].str();
  EXPECT_GE(*from, moved) << "the standby started from " << m[1].str()
                          << ", behind the slot's " << FormatLsn(moved);
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(second_port, "pgcdc_confirmed_lsn") >= moved; },
      20000))
      << Metric(second_port, "pgcdc_confirmed_lsn") << " < " << moved;
  StopPgcdc(second);
  EXPECT_GE(*cluster_->ConfirmedFlush(db_, slot_), moved);
  EXPECT_EQ(ReadTopic("public.accounts").size(), 20u);  // none sent twice
}

// The broker answers a produce request with OUT_OF_ORDER_SEQUENCE_NUMBER,
// which librdkafka's idempotent producer (with the gapless guarantee pgcdc
// sets) takes as fatal: it can no longer promise order without duplicates.
// pgcdc says so, confirms nothing from the failed transaction on and exits
// 1 (deploy/pgcdc.service restarts it); the next start sends the rest again
// and the topic rebuilds the table. (A real Kafka 4.1.1 cluster raised no
// such error across leader kills and restarts: three_brokers_test.cc.)
TEST_F(FaultsTest,
       FatalIdempotenceErrorStopsSayingSoAndTheNextStartLosesNothing) {
  int port = 0;
  const std::string config = Config(&port);
  Subprocess p = StartPgcdc(config);
  Load load(cluster_->Dsn(db_), AccountsChange);
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_transactions_total") > 20; }, 20000));
  rd_kafka_mock_push_request_errors(
      broker_->mock(), /*Produce=*/0, 1,
      RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
  ASSERT_EQ(p.Wait(20000), std::optional<int>(1)) << p.ReadLog();
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr("OUT_OF_ORDER_SEQUENCE_NUMBER"));
  EXPECT_THAT(log, HasSubstr("nothing from that transaction on is confirmed, "
                             "so the next start sends it again"));
  Subprocess again = StartPgcdc(config);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  load.Stop();
  EXPECT_EQ(load.failed(), 0);
  ExpectNothingLost();
  StopPgcdc(again);
}

TEST_F(FaultsTest, DroppedSlotIsAFatalErrorSayingHowToRecover) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  Sql("INSERT INTO accounts VALUES (1, 1, 'one')");
  WaitCaughtUp();
  // The slot can be dropped only while no walsender uses it.
  ASSERT_TRUE(WaitFor(
      [&] {
        TerminateWalsender();
        return cluster_
            ->Exec(db_, absl::StrCat("SELECT pg_drop_replication_slot('", slot_,
                                     "')"))
            .ok();
      },
      20000));
  std::optional<int> code = p.Wait(60000);
  EXPECT_EQ(code, std::optional<int>(1));
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr("is gone"));
  EXPECT_THAT(log, HasSubstr("snapshot.mode: when_needed"));
}

// A quiet publication in a busy cluster (another database writes heavily),
// then no writes at all: the slot's confirmed position keeps following the
// server, the heartbeat keeps it moving while nothing is written, and the
// WAL the server retains for the slot stays small.
TEST_F(FaultsTest, QuietPublicationKeepsRetainedWalSmall) {
  int port = 0;
  std::string config = Config(&port);
  EditConfig(config, "  status_interval_ms: 1000\n",
             "  status_interval_ms: 1000\n  heartbeat_interval_ms: 300\n");
  Subprocess p = StartPgcdc(config);
  absl::StatusOr<std::string> busy = cluster_->CreateDatabase("busy");
  ASSERT_TRUE(busy.ok()) << busy.status();
  ASSERT_TRUE(cluster_->Exec(*busy, "CREATE TABLE t (id int, v text)").ok());
  const Lsn start = WalLsn();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(cluster_
                    ->Exec(*busy,
                           "INSERT INTO t SELECT g, repeat('x', 200) "
                           "FROM generate_series(1, 20000) g")
                    .ok());
  }
  // Checkpoints (periodic in production) log the running transactions that
  // let the server move the slot's restart_lsn.
  ASSERT_TRUE(cluster_->Exec(*busy, "CHECKPOINT").ok());
  const Lsn written = WalLsn();
  auto retained = [&]() -> int64_t {
    std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
        "SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots "
        "WHERE slot_name = '",
        slot_, "'"));
    return rows.empty() ? -1 : std::stoll(rows[0][0].value_or("-1"));
  };
  EXPECT_TRUE(
      WaitFor([&] { return retained() >= 0 && retained() < (4 << 20); }, 30000))
      << "retained " << retained() << " bytes of "
      << static_cast<int64_t>(written - start) << " written";
  // The exact WAL volume is the server's business; far more than retained.
  EXPECT_GT(written - start, Lsn{20} << 20);

  // No writes at all: only the heartbeat moves the position.
  absl::StatusOr<Lsn> before = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Lsn> now = cluster_->ConfirmedFlush(db_, slot_);
        return now.ok() && *now > *before;
      },
      10000));
  StopPgcdc(p);
}

// pgcdc's resident memory in kB (VmRSS), 0 when it cannot be read.
int64_t ResidentKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

// One partition stalls — its broker is down, so the delivery of the event
// published there is retried for as long as that lasts, as for a partition
// without enough in-sync replicas — while a stream of small transactions goes
// on: some publish an event to another topic (a broker that acknowledges at
// once), most only an unpublished logical message (no event at all). None of
// them may be confirmed before the stalled one, but once acknowledged they
// must not cost memory while they wait: pgcdc's resident memory grows by far
// less than it did when it kept every one of them.
TEST_F(FaultsTest, StalledPartitionKeepsMemoryFlatWhileTransactionsFlowPast) {
  // Two brokers: the stalled topic's only partition is led by broker 2,
  // everything else by broker 1.
  absl::StatusOr<std::unique_ptr<kafka::DevBroker>> two =
      kafka::DevBroker::Start(2, kafka::DevBroker::kAutoCreatePartitions);
  ASSERT_TRUE(two.ok()) << two.status();
  broker_ = *std::move(two);
  Sql("CREATE TABLE stalled (id int PRIMARY KEY, note text)");
  const std::string stalled_topic = Topic("public.stalled");
  const std::string accounts_topic = Topic("public.accounts");
  ASSERT_TRUE(broker_->CreateTopic(stalled_topic, 1).ok());
  ASSERT_TRUE(broker_->CreateTopic(accounts_topic, 1).ok());
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(broker_->mock(),
                                               stalled_topic.c_str(), 0, 2),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(broker_->mock(),
                                               accounts_topic.c_str(), 0, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  const int port = FreePort();
  // The smallest window: what is in flight at a time (librdkafka's copies
  // included) is then too little to blur the measure.
  Subprocess p =
      StartPgcdc(WriteConfig({"public.accounts", "public.stalled"},
                             "  max_inflight_bytes: 65536\n", MetricsOn(port)));
  Sql("INSERT INTO stalled VALUES (0, 'before')");

  std::cerr << "start rss " << ResidentKb(p.pid()) << "\n";
  // `n` transactions, each committed on its own: one in four upserts an
  // account, the others write a logical message pgcdc does not publish.
  constexpr int kTransactions = 300000;
  auto load = [&](int n) {
    const double before = Metric(port, "pgcdc_transactions_total");
    Sql(absl::StrCat(
        "DO $$ BEGIN PERFORM set_config('synchronous_commit', 'off', false); "
        "FOR i IN 1..",
        n,
        " LOOP IF i % 4 = 0 THEN INSERT INTO accounts VALUES (i % 1000, i, "
        "'n') ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance; "
        "ELSE PERFORM pg_logical_emit_message(true, 'not-published', 'x'); "
        "END IF; COMMIT; END LOOP; END $$"));
    // Received, and every event acknowledged but the stalled one.
    ASSERT_TRUE(WaitFor(
        [&] {
          std::cerr << "probe txns "
                    << Metric(port, "pgcdc_transactions_total") - before
                    << " confirmed " << Metric(port, "pgcdc_confirmed_lsn")
                    << " server " << Metric(port, "pgcdc_server_lsn")
                    << " inflight " << Metric(port, "pgcdc_inflight_events")
                    << " rss " << ResidentKb(p.pid()) << "\n";
          return Metric(port, "pgcdc_transactions_total") >= before + n &&
                 Metric(port, "pgcdc_inflight_events") <= 1;
        },
        240000))
        << "pgcdc did not get through the load";
  };

  // The same load once with nothing stalled, so that what pgcdc allocates
  // anyway (librdkafka's buffers, the allocator's arenas) is counted in the
  // baseline.
  load(kTransactions);
  WaitCaughtUp(60000);
  const int64_t baseline_kb = ResidentKb(p.pid());
  ASSERT_GT(baseline_kb, 0);

  absl::StatusOr<kafka::BrokerFault> down = kafka::ParseBrokerFault("down 2");
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(broker_->Apply(*down).ok());
  const Lsn before_stall = *cluster_->ConfirmedFlush(db_, slot_);
  const double measured_before =
      Metric(port, "pgcdc_commit_to_ack_seconds_count");
  Sql("INSERT INTO stalled VALUES (1, 'stalled')");
  const Lsn stalled_written = WalLsn();
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_inflight_events") >= 1; }, 20000));
  load(kTransactions);
  const int64_t stalled_kb = ResidentKb(p.pid());
  const int64_t growth_kb = stalled_kb - baseline_kb;
  std::cerr << "pgcdc VmRSS: " << baseline_kb << " kB after " << kTransactions
            << " transactions, " << stalled_kb << " kB after " << kTransactions
            << " more behind a stalled partition (growth: " << growth_kb
            << " kB)\n";
  // Each transaction's commit-to-ack time is measured when its own events
  // are acknowledged (at once for those without), not when it is confirmed.
  EXPECT_GE(Metric(port, "pgcdc_commit_to_ack_seconds_count"),
            measured_before + kTransactions);
  // Nothing from the stalled transaction on was confirmed.
  const Lsn during_stall = *cluster_->ConfirmedFlush(db_, slot_);
  EXPECT_GE(during_stall, before_stall);
  EXPECT_LT(during_stall, stalled_written);
  // Keeping every transaction cost about 82 bytes each: 24 MB here, where
  // merging them leaves less than 100 kB of noise.
  EXPECT_LT(growth_kb, 2048) << "pgcdc's memory grew with the transactions "
                                "waiting behind the stalled one";

  absl::StatusOr<kafka::BrokerFault> up = kafka::ParseBrokerFault("up 2");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(broker_->Apply(*up).ok());
  WaitCaughtUp(120000);
  ExpectTopicEqualsTable("accounts");
  ExpectTopicEqualsTable("stalled");
  StopPgcdc(p);
}

// SIGTERM waits for acknowledgements (here: never, the broker is down); a
// second signal exits at once, and still nothing unacknowledged was
// confirmed: the next run publishes everything.
TEST_F(FaultsTest, SecondSignalExitsAtOnceAndSafely) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  Sql("INSERT INTO accounts SELECT g, g, 'before' FROM generate_series(1, 50) "
      "g");
  WaitCaughtUp();
  const Lsn acknowledged = *cluster_->ConfirmedFlush(db_, slot_);
  absl::StatusOr<kafka::BrokerFault> down = kafka::ParseBrokerFault("down");
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(broker_->Apply(*down).ok());
  Sql("INSERT INTO accounts SELECT g, g, 'during' "
      "FROM generate_series(51, 500) g");
  ASSERT_TRUE(WaitFor([&] { return Metric(port, "pgcdc_inflight_events") > 0; },
                      20000));
  p.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(p.Running()) << "the first signal waits for acknowledgements";
  const auto second = std::chrono::steady_clock::now();
  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(5000);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - second);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 130);
  EXPECT_LT(took.count(), 2000);
  EXPECT_THAT(p.ReadLog(), HasSubstr("second signal: exiting at once"));
  const Lsn confirmed = *cluster_->ConfirmedFlush(db_, slot_);
  EXPECT_GE(confirmed, acknowledged) << "the slot went backwards";

  absl::StatusOr<kafka::BrokerFault> up = kafka::ParseBrokerFault("up");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(broker_->Apply(*up).ok());
  Subprocess again = StartPgcdc(Config(&port));
  ExpectNothingLost();
  StopPgcdc(again);

  // Nothing of the unacknowledged transaction was confirmed: the server
  // skips a transaction whose commit record starts before the slot's
  // confirmed position, so the slot must not have passed that start. (It
  // may have moved past `acknowledged`: a keepalive's position over idle
  // WAL, or pgcdc's own snapshot journal message, is confirmed when nothing
  // is in flight.)
  Lsn during_commit = 0;
  for (const ReadEvent& e : ReadTopic("public.accounts")) {
    const Lsn commit = e.event.source().commit_lsn();
    if (commit > acknowledged &&
        (during_commit == 0 || commit < during_commit)) {
      during_commit = commit;
    }
  }
  ASSERT_NE(during_commit, 0u) << "the second run published nothing";
  EXPECT_LE(confirmed, during_commit);
}

// A stop while the broker is down and librdkafka's queue is full (its
// message count, here 50, reached long before kafka.max_inflight_bytes)
// ends within kafka.shutdown_timeout_ms, with nothing unacknowledged
// confirmed; it used to wait for room in the queue forever.
TEST_F(FaultsTest, StopWhileTheProducerQueueIsFullEndsInTime) {
  int port = 0;
  std::string config = Config(&port);
  EditConfig(config, "  shutdown_timeout_ms: 20000\n",
             "  shutdown_timeout_ms: 2000\n  properties:\n"
             "    queue.buffering.max.messages: \"50\"\n");
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  const Lsn acknowledged = *cluster_->ConfirmedFlush(db_, slot_);
  absl::StatusOr<kafka::BrokerFault> down = kafka::ParseBrokerFault("down");
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(broker_->Apply(*down).ok());
  Sql("INSERT INTO accounts SELECT g, g, 'during' FROM generate_series(1, "
      "500) g");
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_inflight_events") >= 50; }, 20000));
  const auto start = std::chrono::steady_clock::now();
  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(30000);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(code.has_value()) << "still waiting after 30 s: " << p.ReadLog();
  EXPECT_EQ(*code, 0) << p.ReadLog();
  // shutdown_timeout_ms, then at most the replication stream's own end.
  EXPECT_LT(took.count(), 2000 + 6000);
  EXPECT_THAT(p.ReadLog(), HasSubstr("were not acknowledged in time"));
  EXPECT_EQ(*cluster_->ConfirmedFlush(db_, slot_), acknowledged);
  ASSERT_TRUE(broker_->Apply(*kafka::ParseBrokerFault("up")).ok());
  Subprocess again = StartPgcdc(Config(&port));
  ExpectNothingLost();
  StopPgcdc(again);
}

// Startup waits for things that may never come (here a broker that does not
// answer, for up to kafka.startup_timeout_ms): a signal then ends pgcdc at
// once, since nothing is published yet.
TEST_F(FaultsTest, ASignalDuringStartupEndsItAtOnce) {
  int port = 0;
  std::string config = Config(&port);
  const int silent = FreePort();  // nothing listens there
  EditConfig(config, "  bootstrap_servers: \"[^\"]*\"\n",
             absl::StrCat("  bootstrap_servers: \"127.0.0.1:", silent,
                          "\"\n  startup_timeout_ms: 60000\n"));
  Subprocess p = LaunchPgcdc(config);
  // Past the PostgreSQL checks, into the broker's wait.
  ASSERT_TRUE(WaitFor(
      [&] {
        return !Rows(
                    "SELECT 1 FROM pg_stat_activity "
                    "WHERE application_name = 'pgcdc'")
                    .empty();
      },
      20000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(p.Running()) << p.ReadLog();
  const auto start = std::chrono::steady_clock::now();
  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(20000);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(code.has_value()) << p.ReadLog();
  EXPECT_EQ(*code, 0) << p.ReadLog();
  EXPECT_LT(took.count(), 2000);
  EXPECT_THAT(p.ReadLog(), HasSubstr("stopped by a signal during startup"));
  EXPECT_TRUE(Rows(absl::StrCat("SELECT 1 FROM pg_replication_slots WHERE "
                                "slot_name = '",
                                slot_, "'"))
                  .empty())
      << "no slot is made before the broker answered";
}

// pgcdc killed (SIGKILL) 20 times at random moments while a mixed load
// changes three tables and the broker answers slowly, so that each kill
// leaves events published but not acknowledged, or acknowledged but not yet
// confirmed to the slot. Every restart replays from the slot: the topics
// then hold replays, and nothing else is repeated, reordered or missing.
TEST_F(FaultsTest, TwentyKillsOnThreeTablesWithASlowBrokerLoseNothing) {
  Sql(kOrdersAndItems);
  const int port = FreePort();
  const std::string config =
      WriteConfig({"public.accounts", "public.orders", "public.items"}, "",
                  MetricsOn(port));
  // Each produce request waits 40 ms for its answer.
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 40);
  const KillRun run = KillsUnderThreeTablesLoad(
      config, port, 20, broker_->bootstrap_servers(), "test", 1000);
  // The kills came while events were in flight: some were published again.
  // How many replays and how many kills met events in flight depend on
  // where the random kills fell: bounds, not values.
  EXPECT_GT(run.counts.replays, 0);
  EXPECT_GE(run.kills_with_inflight, 10);
}

// The network between pgcdc and PostgreSQL goes silent: no FIN, no RST, and
// (through the proxy) not even a TCP keepalive fails. A stall shorter than
// source.receive_timeout_ms is ridden out (the ping at half of it is
// answered once the link is back); a longer one is taken for a lost
// connection, and pgcdc streams again on a new one while the old stays
// frozen, losing nothing written meanwhile.
TEST_F(FaultsTest, SilentlyStalledNetworkIsTakenForLostAndReconnected) {
  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy =
      TcpProxy::Start(cluster_->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  int port = 0;
  const std::string config = ProxiedConfig(**proxy, &port);
  Subprocess p = StartPgcdc(config);
  Load load(cluster_->Dsn(db_), AccountsChange);
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_transactions_total") > 20; }, 20000));

  // Shorter than the timeout: no reconnect.
  const int accepted = (*proxy)->accepted();
  // pgcdc's three connections: the stream, the catalog session and the
  // slot monitor's (pgcdc_slot_* metrics).
  EXPECT_EQ((*proxy)->Stall(), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  (*proxy)->Resume();
  // Past the moment the timeout would have struck.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Metric(port, "pgcdc_reconnects_total"), 0);
  EXPECT_EQ(Metric(port, "pgcdc_connected"), 1);
  EXPECT_EQ((*proxy)->accepted(), accepted);

  // Longer: taken for lost, and streaming again on a new connection.
  const auto stalled = std::chrono::steady_clock::now();
  EXPECT_EQ((*proxy)->Stall(), 3);  // the same three
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_reconnects_total") >= 1; }, 20000))
      << p.ReadLog();
  const auto lost = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        return (*proxy)->accepted() > accepted &&
               Metric(port, "pgcdc_connected") == 1;
      },
      30000))
      << p.ReadLog();
  const auto back = std::chrono::steady_clock::now();
  EXPECT_THAT(p.ReadLog(), HasSubstr("the connection is taken for lost"));
  // Writes go on for a while on the new connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  load.Stop();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_GT(load.committed(), 100);
  // Still frozen: the old connection plays no part in catching up.
  ExpectNothingLost();
  // pgcdc's catalog session has been frozen since the stall; thaw it so
  // that nothing of the shutdown can wait on it.
  (*proxy)->Resume();
  EXPECT_TRUE(p.Running());
  StopPgcdc(p);
  // Every close went through once thawed: nothing is left open.
  EXPECT_TRUE(WaitFor([&] { return (*proxy)->open() == 0; }, 10000))
      << (*proxy)->open() << " connection(s) still open";
  // Once: for the long stall, not the short one.
  const std::string log = p.ReadLog();
  EXPECT_EQ(CountOccurrences(log, "taken for lost"), 1u) << log;
  std::cout << "stall taken for lost after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(lost -
                                                                     stalled)
                   .count()
            << " ms, streaming again after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(back -
                                                                     stalled)
                   .count()
            << " ms\n";
}

// After a silent stall pgcdc reconnects the stream; its catalog session
// was frozen by the same stall. When the new walsender's first Relation
// message names a user type (here an enum), pgcdc reads the type from the
// catalog — on a new session: had it kept the frozen one, it would block
// there (in this test until the proxy thaws; on a real network until TCP
// gives up on the unacknowledged query, ~15 min, since keepalives do not
// probe a connection with data in flight), publishing nothing meanwhile.
TEST_F(FaultsTest, StallDoesNotFreezeTheCatalogSession) {
  Sql("CREATE TYPE mood AS ENUM ('ok', 'meh'); "
      "ALTER TABLE accounts ADD COLUMN mood mood DEFAULT 'ok'");
  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy =
      TcpProxy::Start(cluster_->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  int port = 0;
  Subprocess p = StartPgcdc(ProxiedConfig(**proxy, &port));
  Load load(cluster_->Dsn(db_), AccountsChange);
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_transactions_total") > 20; }, 20000));
  // The stream, the catalog session and the slot monitor's.
  EXPECT_EQ((*proxy)->Stall(), 3);
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(port, "pgcdc_reconnects_total") >= 1; }, 20000));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  load.Stop();
  // Caught up while the old connections are still frozen.
  WaitCaughtUp(30000);
  (*proxy)->Resume();
  ExpectNothingLost();
  StopPgcdc(p);
}

}  // namespace
}  // namespace cdc::testing
