// pgcdc against a 3-node Apache Kafka 4.x cluster (replication factor 3,
// min.insync.replicas 2, pgcdc's acks=all and idempotent producer), with
// broker faults under a mixed load on three tables:
// - the leader of the busy partition killed (SIGKILL), then restarted;
// - one broker down for 60 s, then back;
// - the whole cluster down for 60 s (all killed at once), then back;
// - the leader killed, and another stopped, while the idempotent producer
//   has records in flight to it.
// In each, one pgcdc process rides through (never exits, never reconnects
// to PostgreSQL, no fatal or out-of-order-sequence error), every table
// rebuilds exactly from its topic, every key's events stay in order, and no
// event is in a topic twice. With the whole cluster down nothing is
// confirmed to the slot, pgcdc's memory stays within a bound set by
// kafka.max_inflight_bytes while PostgreSQL keeps the backlog, and
// streaming resumes by itself when the cluster is back.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/change_log.h"
#include "tests/integration/harness/load.h"
#include "tests/integration/harness/real_kafka_fixture.h"
#include "tests/integration/harness/three_tables.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

constexpr auto kOutage = std::chrono::seconds(60);

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t)
      .count();
}

// Samples a process's resident set size every 100 ms on a thread of its own
// and keeps the peak. Thread-safe.
class RssSampler {
 public:
  explicit RssSampler(int pid)
      : pid_(pid), peak_(ResidentBytes(pid).value_or(0)), thread_([this] {
          while (!done_) {
            if (std::optional<int64_t> rss = ResidentBytes(pid_)) {
              peak_ = std::max<int64_t>(peak_, *rss);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        }) {}
  ~RssSampler() { Stop(); }
  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t peak() const { return peak_; }

 private:
  const int pid_;
  std::atomic<int64_t> peak_;
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: starts once the rest is set
};

class ThreeBrokersTest : public RealKafkaTest {
 protected:
  void SetUp() override {
    RealKafkaTest::SetUp();
    if (HasFatalFailure()) return;
    // Every test starts with the whole cluster up, whatever an earlier one
    // left behind.
    absl::Status up = kafka().StartNodes(kafka().AllNodes());
    ASSERT_TRUE(up.ok()) << up;
    Sql(kAccounts);
    Sql(kOrdersAndItems);
  }

  void TearDown() override {
    if (load_ != nullptr) load_->Stop();
    RealKafkaTest::TearDown();
  }

  // The partition whose leader the tests fault: three statements of the
  // load's five write to accounts (its only partition).
  std::string Busy() const { return TopicOf("public.accounts"); }

  // Starts pgcdc for the three tables (and `more`) and the load, and waits
  // until pgcdc has confirmed transactions.
  void StartStreaming(const std::vector<std::string>& more = {},
                      const std::string& kafka_extra = "") {
    tables_ = {"accounts", "orders", "items"};
    tables_.insert(tables_.end(), more.begin(), more.end());
    std::vector<std::string> published;
    for (const std::string& t : tables_) published.push_back("public." + t);
    port_ = FreePort();
    const std::string config =
        RealConfig(published, kafka_extra, MetricsOn(port_));
    p_ = StartPgcdc(config);
    ASSERT_TRUE(p_->Running());
    pid_ = p_->pid();
    started_ = Clock::now();
    load_ = std::make_unique<Load>(cluster_->Dsn(db_), ThreeTablesChange);
    const Lsn start = SlotConfirmed();
    ASSERT_TRUE(WaitFor([&] { return SlotConfirmed() > start; }, 60000))
        << p_->ReadLog();
  }

  // True once the slot confirms past what was written when it is called:
  // everything produced before then, on every partition, was acknowledged.
  bool ConfirmsWhatWasWritten(int timeout_ms) {
    Sql("INSERT INTO accounts VALUES (1000, 0, 'mark') ON CONFLICT (id) DO "
        "UPDATE SET balance = accounts.balance + 1");
    const Lsn written = WalLsn();
    return WaitFor([&] { return SlotConfirmed() >= written; }, timeout_ms);
  }

  // The leader of `topic`'s partition 0. A topic just created may not be in
  // every broker's metadata yet: waits for one that knows it.
  int LeaderOf(const std::string& topic) {
    int leader = -1;
    absl::Status last;
    EXPECT_TRUE(WaitFor(
        [&] {
          absl::StatusOr<int> l = kafka().Leader(topic);
          if (l.ok()) leader = *l;
          last = l.status();
          return l.ok();
        },
        30000))
        << last;
    return leader;
  }

  // The current leader of the busy partition, once it is not `old`.
  int NewLeader(int old) {
    int leader = -1;
    EXPECT_TRUE(WaitFor(
        [&] {
          absl::StatusOr<int> l = kafka().Leader(Busy());
          if (l.ok()) leader = *l;
          return l.ok() && *l != old;
        },
        30000))
        << "no new leader for " << Busy() << " after node " << old;
    return leader;
  }

  // Stops the load and checks that the one pgcdc process rode through all:
  // it is still the same process, it never stopped or reconnected, no
  // delivery failed and nothing fatal happened; then that every table
  // rebuilds from its topic. Prints what the topics hold under `what`.
  void ExpectRodeThroughAndLostNothing(const std::string& what) {
    load_->Stop();
    EXPECT_EQ(load_->failed(), 0);
    EXPECT_GT(load_->committed(), 200);
    const auto catch_up = Clock::now();
    WaitCaughtUp(180000);
    const int64_t caught_up_ms = MsSince(catch_up);
    ASSERT_TRUE(p_->Running()) << p_->ReadLog();
    EXPECT_EQ(p_->pid(), pid_);
    EXPECT_EQ(runs_, 1) << "pgcdc was started again";
    EXPECT_EQ(Metric(port_, "pgcdc_reconnects_total"), 0);
    EXPECT_EQ(Metric(port_, "pgcdc_delivery_errors_total"), 0);
    const std::string log = absl::AsciiStrToLower(p_->ReadLog());
    EXPECT_THAT(log, Not(HasSubstr("out_of_order_sequence")));
    EXPECT_THAT(log, Not(HasSubstr("fatal")));
    EXPECT_THAT(log, Not(HasSubstr("stopped:")));
    StopPgcdc(*p_);
    TopicCounts counts;
    ExpectTopicsEqualTables(tables_, &counts);
    // One process that never reconnected sends nothing twice: whatever
    // librdkafka retried across the faults, the idempotent producer's
    // sequence numbers kept the broker from writing it twice. But for one
    // case, which pgcdc warns of: an epoch bump, after which records that
    // were in flight on a dropped connection are sent again under a new
    // epoch the broker cannot match them with (see OnLibrdkafkaLog).
    const bool epoch_bumped = absl::StrContains(
        p_->ReadLog(), "idempotent producer starts a new epoch");
    if (!epoch_bumped) {
      EXPECT_EQ(counts.replays, 0);
    }
    std::cout << what << ": " << load_->committed() << " statements, "
              << counts.events << " events in the topics of which "
              << counts.replays << " replays"
              << (epoch_bumped ? " (the producer bumped its epoch)" : "")
              << "; caught up " << caught_up_ms
              << " ms after the load stopped; " << MsSince(started_)
              << " ms streaming\n";
  }

  std::vector<std::string> tables_;
  int port_ = 0;
  std::optional<Subprocess> p_;
  int pid_ = 0;
  Clock::time_point started_;
  std::unique_ptr<Load> load_;
};

TEST_F(ThreeBrokersTest, LeaderKilledUnderLoadIsRiddenThrough) {
  ASSERT_NO_FATAL_FAILURE(StartStreaming());
  const int leader = LeaderOf(Busy());
  ASSERT_GT(leader, 0);
  const auto killed = Clock::now();
  absl::Status s = kafka().KillNodes({leader});
  ASSERT_TRUE(s.ok()) << s;
  const int elected = NewLeader(leader);
  const int64_t elected_ms = MsSince(killed);
  // Two in-sync replicas are left: enough for acks=all.
  ASSERT_TRUE(ConfirmsWhatWasWritten(60000)) << p_->ReadLog();
  const int64_t confirmed_ms = MsSince(killed);
  const auto restart = Clock::now();
  s = kafka().StartNodes({leader});
  ASSERT_TRUE(s.ok()) << s;
  const int64_t restart_ms = MsSince(restart);
  ASSERT_TRUE(ConfirmsWhatWasWritten(60000)) << p_->ReadLog();
  ExpectRodeThroughAndLostNothing(absl::StrCat(
      "leader ", leader, " killed (node ", elected, " elected after ",
      elected_ms, " ms, all written before confirmed after ", confirmed_ms,
      " ms, restarted in ", restart_ms, " ms)"));
}

// The controller answers CreateTopics before the other brokers have applied
// the topic; a record produced at once could meet a broker that shows the
// topic without partitions and fail for good. Each rename makes pgcdc create
// a topic and produce to it straight away, ten times over.
TEST_F(ThreeBrokersTest, TopicsCreatedMidStreamTakeTheirFirstRecordAtOnce) {
  Sql("CREATE TABLE r0 (id int PRIMARY KEY, body text)");
  ASSERT_NO_FATAL_FAILURE(StartStreaming({"r0"}));
  constexpr int kRenames = 10;
  for (int i = 1; i <= kRenames; ++i) {
    Sql(absl::StrCat("ALTER TABLE r", i - 1, " RENAME TO r", i, ";",
                     "INSERT INTO r", i, " VALUES (", i, ", 'row ", i, "')"));
  }
  ASSERT_TRUE(ConfirmsWhatWasWritten(120000)) << p_->ReadLog();
  ASSERT_TRUE(p_->Running()) << p_->ReadLog();
  EXPECT_EQ(Metric(port_, "pgcdc_delivery_errors_total"), 0);
  const std::string log = p_->ReadLog();
  EXPECT_THAT(log, Not(HasSubstr("UNKNOWN_PARTITION")));
  for (int i = 1; i <= kRenames; ++i) {
    EXPECT_THAT(log,
                HasSubstr(absl::StrCat("created topic ",
                                       TopicOf(absl::StrCat("public.r", i)))));
    absl::StatusOr<std::vector<ReadEvent>> events =
        ReadAll(kafka().bootstrap(), TopicOf(absl::StrCat("public.r", i)));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_EQ(events->size(), 1u) << "topic of r" << i;
  }
  load_->Stop();
  StopPgcdc(*p_);
}

TEST_F(ThreeBrokersTest, OneBrokerDownForAMinuteIsRiddenThrough) {
  ASSERT_NO_FATAL_FAILURE(StartStreaming());
  const int leader = LeaderOf(Busy());
  ASSERT_GT(leader, 0);
  const auto down = Clock::now();
  absl::Status s = kafka().StopNodes({leader});
  ASSERT_TRUE(s.ok()) << s;
  NewLeader(leader);
  // Streaming goes on without the node: every 10 s, all that was written
  // before is confirmed.
  int checks = 0;
  while (Clock::now() - down < kOutage) {
    ASSERT_TRUE(ConfirmsWhatWasWritten(10000))
        << "stalled " << MsSince(down) << " ms into the outage\n"
        << p_->ReadLog();
    ++checks;
    std::this_thread::sleep_for(std::min<Clock::duration>(
        std::chrono::seconds(10), kOutage - (Clock::now() - down)));
  }
  const int64_t down_ms = MsSince(down);
  s = kafka().StartNodes({leader});
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(ConfirmsWhatWasWritten(60000)) << p_->ReadLog();
  ExpectRodeThroughAndLostNothing(
      absl::StrCat("node ", leader, " down ", down_ms, " ms (", checks,
                   " checks confirmed everything meanwhile)"));
}

TEST_F(ThreeBrokersTest, WholeClusterDownForAMinuteConfirmsNothingAndResumes) {
  Sql("CREATE TABLE filler (id int PRIMARY KEY, body text)");
  // A small window, so that the bound it sets is far below what PostgreSQL
  // keeps meanwhile.
  constexpr int64_t kWindow = 2 << 20;
  ASSERT_NO_FATAL_FAILURE(StartStreaming(
      {"filler"}, absl::StrCat("  max_inflight_bytes: ", kWindow, "\n")));
  // The filler topic's first event comes during the outage. pgcdc made the
  // topic at start (kafka.topics): librdkafka would give up on a topic the
  // first metadata after the outage does not list, once
  // topic.metadata.propagation.max.ms has passed since its first event.
  const int64_t before_rss = ResidentBytes(pid_).value_or(0);
  ASSERT_GT(before_rss, 0);

  RssSampler rss(pid_);

  // All at once, as a power cut would: a clean stop of the last nodes waits
  // for a quorum of controllers that is gone (it was seen to take the
  // script's whole 60 s before it killed them). To pgcdc it is the same: no
  // broker answers.
  absl::Status s = kafka().KillNodes(kafka().AllNodes());
  ASSERT_TRUE(s.ok()) << s;
  const auto down = Clock::now();
  // What was acknowledged before the last broker went is confirmed within
  // a status interval (1 s); from then on nothing is acknowledged.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Lsn confirmed = SlotConfirmed();
  // 40 MB of rows beside the load, 20 times the window: pgcdc must leave
  // them in PostgreSQL.
  for (int batch = 0; batch < 40; ++batch) {
    Sql(
        absl::StrCat("INSERT INTO filler SELECT g, repeat(md5(g::text), 32) "
                     "FROM generate_series(",
                     batch * 1000, ", ", batch * 1000 + 999, ") g"));
  }
  double max_inflight = 0;
  int checks = 0;
  while (Clock::now() - down < kOutage) {
    EXPECT_EQ(SlotConfirmed(), confirmed)
        << "confirmed with no broker up, " << MsSince(down) << " ms in";
    max_inflight =
        std::max(max_inflight, Metric(port_, "pgcdc_inflight_bytes"));
    ++checks;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // Most of the outage was watched, not spent writing the rows.
  EXPECT_GE(checks, 60);
  const Lsn written = WalLsn();
  EXPECT_EQ(SlotConfirmed(), confirmed);
  const int64_t down_ms = MsSince(down);
  const int64_t outage_peak = rss.peak();
  const auto up = Clock::now();
  s = kafka().StartNodes(kafka().AllNodes());
  ASSERT_TRUE(s.ok()) << s;
  const int64_t start_ms = MsSince(up);
  ASSERT_TRUE(WaitFor([&] { return SlotConfirmed() >= written; }, 180000))
      << p_->ReadLog();
  const int64_t resumed_ms = MsSince(up);
  rss.Stop();

  EXPECT_GT(written - confirmed, 40u << 20) << "the backlog is not there";
  // The window filled, and held: it is checked before each message from the
  // server is read, so it is passed by at most the events of the last one
  // read (one row here).
  EXPECT_GE(max_inflight, kWindow);
  EXPECT_LE(max_inflight, kWindow + (64 << 10));
  // The window holds the events' bytes; librdkafka's copies and per-message
  // state and pgcdc's tracking cost a few times that. Without the window,
  // the 40 MB of rows would be in memory.
  EXPECT_LT(outage_peak - before_rss, 8 * kWindow)
      << "peak " << outage_peak << " bytes, before the outage " << before_rss;
  // Catching up, too.
  EXPECT_LT(rss.peak() - before_rss, 8 * kWindow)
      << "peak " << rss.peak() << " bytes, before the outage " << before_rss;
  ExpectRodeThroughAndLostNothing(absl::StrCat(
      "whole cluster down ", down_ms, " ms (", checks,
      " checks that nothing was confirmed; starting took ", start_ms, " ms; ",
      (written - confirmed) >> 20,
      " MiB of WAL held back, nothing confirmed meanwhile; in flight at most ",
      static_cast<int64_t>(max_inflight), " bytes of a ", kWindow,
      " window; RSS ", before_rss >> 10, " KiB before, peak ",
      outage_peak >> 10, " KiB during the outage, ", rss.peak() >> 10,
      " KiB overall; everything confirmed ", resumed_ms,
      " ms after the restart began)"));
}

TEST_F(ThreeBrokersTest, RecordsInFlightSurviveTheirLeaderRestarting) {
  Sql("CREATE TABLE bursts (id int PRIMARY KEY, body text)");
  ASSERT_NO_FATAL_FAILURE(StartStreaming({"bursts"}));
  const std::string topic = TopicOf("public.bursts");
  Sql("INSERT INTO bursts VALUES (-1, 'the topic exists')");
  ASSERT_TRUE(ConfirmsWhatWasWritten(30000));
  int rows = 0;
  // A burst of rows, and the fault as soon as pgcdc has many of them in
  // flight: SIGKILL for the first leader, a clean stop for the next.
  for (const int signo : {SIGKILL, SIGTERM}) {
    SCOPED_TRACE(signo == SIGKILL ? "SIGKILL" : "SIGTERM");
    const int leader = LeaderOf(topic);
    ASSERT_GT(leader, 0);
    Sql(
        absl::StrCat("INSERT INTO bursts SELECT g, 'burst ' || g FROM "
                     "generate_series(",
                     rows, ", ", rows + 49999, ") g"));
    rows += 50000;
    ASSERT_TRUE(WaitFor(
        [&] { return Metric(port_, "pgcdc_inflight_events") >= 1000; }, 30000));
    ASSERT_TRUE(kafka().SignalNode(leader, signo).ok());
    const double inflight = Metric(port_, "pgcdc_inflight_events");
    absl::Status s = signo == SIGKILL ? kafka().KillNodes({leader})
                                      : kafka().StopNodes({leader});
    ASSERT_TRUE(s.ok()) << s;
    // Records produced before the fault were still unacknowledged after it.
    EXPECT_GT(inflight, 0);
    ASSERT_TRUE(ConfirmsWhatWasWritten(60000)) << p_->ReadLog();
    s = kafka().StartNodes({leader});
    ASSERT_TRUE(s.ok()) << s;
    std::cout << (signo == SIGKILL ? "killed" : "stopped") << " leader "
              << leader << " of " << topic << " with "
              << static_cast<int64_t>(inflight) << " events in flight\n";
  }
  ASSERT_TRUE(ConfirmsWhatWasWritten(60000)) << p_->ReadLog();
  ExpectRodeThroughAndLostNothing("leader restarts with records in flight");
}

}  // namespace
}  // namespace cdc::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cdc::testing::RealKafka::Options options;
  options.nodes = 3;
  ::testing::AddGlobalTestEnvironment(
      new cdc::testing::RealKafkaEnvironment(options));
  return RUN_ALL_TESTS();
}
