// Failover slots (source.slot_failover, PostgreSQL 17+): the slot survives
// the promotion of a physical standby, and pgcdc resumes on the promoted
// standby through a multi-host source.dsn without losing or inventing a
// change. These tests need PostgreSQL 17 or later (PGCDC_PG_BINDIR, as CI
// runs them on 18; ctest label pg18) and skip, saying so, on an older one;
// RefusedBefore17 is the opposite, for PostgreSQL 15 and 16.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cdc/pg/catalog.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t)
      .count();
}

// The numbered writes of one writer: transaction n inserts row n into
// fo_{n % 3} and sets counters row n % 3 to n, on a session to whichever
// host of `dsn` accepts writes; acked() are the n whose COMMIT returned.
class NumberedWriter {
 public:
  explicit NumberedWriter(std::string dsn)
      : dsn_(std::move(dsn)), thread_([this] { Run(); }) {}
  ~NumberedWriter() { Stop(); }
  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<int> acked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  int failed() const { return failed_; }

 private:
  void Run() {
    std::unique_ptr<pg::SqlConnection> conn;
    int n = 0;
    while (!done_) {
      if (conn == nullptr) {
        absl::StatusOr<std::unique_ptr<pg::SqlConnection>> c =
            pg::SqlConnection::Connect(dsn_);
        if (!c.ok()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        conn = *std::move(c);
      }
      ++n;
      const int k = n % 3;
      // One simple-protocol query: one implicit transaction.
      absl::Status s = conn->Query(absl::StrCat("INSERT INTO fo_", k,
                                                " (id, n, note) VALUES (", n,
                                                ", ", n, ", 'row ", n,
                                                "'); UPDATE counters SET "
                                                "last = ",
                                                n, " WHERE id = ", k))
                           .status();
      if (s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        acked_.push_back(n);
      } else {
        ++failed_;
        conn.reset();  // the outcome is unknown: not acknowledged
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  const std::string dsn_;
  std::atomic<bool> done_{false};
  std::atomic<int> failed_{0};
  mutable std::mutex mu_;
  std::vector<int> acked_;
  std::thread thread_;  // last: starts once the rest is set
};

class FailoverTest : public PgcdcTest {
 protected:
  // Why a test that needs failover slots skips on this server; "" when it
  // has them (17+).
  std::string WithoutFailoverSlots() {
    const int version = ServerVersionNum();
    if (version >= pg::kFailoverSlotsVersion) return "";
    return absl::StrCat(
        "failover slots need PostgreSQL 17 or later; this server is ", version,
        " (set PGCDC_PG_BINDIR to a 17+ bin directory)");
  }

  // A config like WriteConfig's, with `dsn` and slot_failover: true.
  std::string WriteFailoverConfig(const std::vector<std::string>& tables,
                                  const std::string& dsn,
                                  const std::string& extra = "") {
    std::string path = WriteConfig(tables, "", extra);
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    const std::string old_dsn =
        absl::StrCat("  dsn: \"", cluster_->Dsn(db_), "\"\n");
    const size_t at = text.find(old_dsn);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) {
      text.replace(at, old_dsn.size(),
                   absl::StrCat("  dsn: \"", dsn,
                                "\"\n  slot_failover: true\n"
                                "  receive_timeout_ms: 10000\n"));
    }
    std::ofstream(path) << text;
    return path;
  }

  // The body of the promotion tests below; with `pgcdc_dies_too` pgcdc is
  // killed with the primary and started again once the standby is
  // promoted.
  void PromoteUnderLoad(bool pgcdc_dies_too) {
    if (std::string why = WithoutFailoverSlots(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    const auto test_started = Clock::now();
    for (int k = 0; k < 3; ++k) {
      Sql(absl::StrCat("CREATE TABLE fo_", k,
                       " (id int PRIMARY KEY, n int NOT NULL, note text)"));
    }
    Sql("CREATE TABLE counters (id int PRIMARY KEY, last int NOT NULL); "
        "INSERT INTO counters VALUES (0, 0), (1, 0), (2, 0)");
    Sql("SELECT pg_create_physical_replication_slot('standby1_slot', true)");
    std::cout << "at " << MsSince(test_started) << " ms: tables made\n";
    absl::StatusOr<std::unique_ptr<PgCluster>> standby_or =
        PgCluster::StartStandby(*cluster_, "standby1_slot");
    ASSERT_TRUE(standby_or.ok()) << standby_or.status();
    std::cout << "at " << MsSince(test_started) << " ms: standby started\n";
    std::unique_ptr<PgCluster> standby = *std::move(standby_or);
    ASSERT_TRUE(WaitFor(
        [&] {
          return cluster_->SlotActive(db_, "standby1_slot").value_or(false);
        },
        30000))
        << "the standby does not stream from its physical slot";
    // After the base backup, so that the standby does not inherit them: a
    // logical walsender sends only what the standby flushed, and a commit
    // returns only once the standby flushed it (what the writer saw
    // acknowledged survives the failover).
    Sql("ALTER SYSTEM SET synchronized_standby_slots = 'standby1_slot'");
    Sql("ALTER SYSTEM SET synchronous_standby_names = '*'");
    Sql("SELECT pg_reload_conf()");

    const std::string dsn =
        absl::StrCat("host=127.0.0.1,127.0.0.1 port=", cluster_->port(), ",",
                     standby->port(), " dbname=", db_,
                     " user=postgres target_session_attrs=read-write");
    const std::string config =
        WriteFailoverConfig({"fo_0", "fo_1", "fo_2", "counters"}, dsn);
    Subprocess p = StartPgcdc(config);
    ASSERT_FALSE(HasFatalFailure());
    std::cout << "at " << MsSince(test_started) << " ms: pgcdc streams\n";
    std::vector<pg::SqlRow> flag = Rows(absl::StrCat(
        "SELECT failover FROM pg_replication_slots WHERE slot_name = '", slot_,
        "'"));
    ASSERT_EQ(flag.size(), 1u);
    EXPECT_EQ(flag[0][0].value_or(""), "t") << "the slot was not made failover";

    NumberedWriter writer(dsn);
    std::this_thread::sleep_for(std::chrono::seconds(3));

    // The standby's copy must be synchronised and recent: it is where pgcdc
    // resumes from. The synchronisation worker sleeps from 0.2 s up to 30 s
    // between cycles, longer while no slot changed (here before pgcdc made
    // its slot): 22 to 48 s measured until the copy was there.
    absl::StatusOr<Lsn> primary_confirmed =
        cluster_->ConfirmedFlush(db_, slot_);
    ASSERT_TRUE(primary_confirmed.ok()) << primary_confirmed.status();
    std::string standby_state;
    const auto sync_started = Clock::now();
    const bool synced = WaitFor(
        [&] {
          absl::StatusOr<std::vector<pg::SqlRow>> rows = standby->Query(
              db_, absl::StrCat("SELECT synced, confirmed_flush_lsn FROM "
                                "pg_replication_slots WHERE slot_name = '",
                                slot_, "'"));
          if (!rows.ok() || rows->empty()) return false;
          standby_state = absl::StrCat((*rows)[0][0].value_or("?"), " ",
                                       (*rows)[0][1].value_or("?"));
          absl::StatusOr<Lsn> lsn = ParseLsn((*rows)[0][1].value_or(""));
          return (*rows)[0][0] == "t" && lsn.ok() && *lsn >= *primary_confirmed;
        },
        120000);
    ASSERT_TRUE(synced) << "the standby's copy of the slot (synced, "
                           "confirmed_flush_lsn): "
                        << standby_state << ", primary's confirmed "
                        << FormatLsn(*primary_confirmed);

    const int64_t sync_ms = MsSince(sync_started);

    // check and status see both hosts and say the slot survives.
    const auto check_started = Clock::now();
    std::string out;
    EXPECT_EQ(RunPgcdc({"check", "--config", config}, &out), 0) << out;
    const std::string standby_endpoint =
        absl::StrCat("127.0.0.1:", standby->port());
    EXPECT_NE(out.find(absl::StrCat("ok    failover: the slot survives the "
                                    "promotion of ",
                                    standby_endpoint)),
              std::string::npos)
        << out;
    EXPECT_EQ(RunPgcdc({"status", "--config", config, "--json"}, &out), 0)
        << out;
    EXPECT_NE(out.find("\"survives\":true"), std::string::npos) << out;
    EXPECT_NE(out.find("\"role\":\"standby\""), std::string::npos) << out;
    const int64_t check_ms = MsSince(check_started);

    // The crash: the primary's postmaster is killed, the standby promoted.
    const int acked_before = static_cast<int>(writer.acked().size());
    const auto killed = Clock::now();
    if (pgcdc_dies_too) {
      // The same machine goes: pgcdc restarts from the slot, not from what it
      // had acknowledged.
      p.Signal(SIGKILL);
      ASSERT_TRUE(p.Wait(10000).has_value());
    }
    ASSERT_TRUE(cluster_->KillPostmaster().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_TRUE(standby->Promote().ok());
    const int64_t promote_ms = MsSince(killed);
    std::unique_ptr<PgCluster> old_primary = std::move(cluster_);
    cluster_ = std::move(standby);

    // pgcdc finds the promoted standby by itself (target_session_attrs).
    if (pgcdc_dies_too) p = StartPgcdc(config);
    const bool resumed = WaitFor(
        [&] { return cluster_->SlotStreamingPid(db_, slot_).value_or(0) != 0; },
        60000);
    const int64_t resume_ms = MsSince(killed);
    ASSERT_TRUE(resumed) << "pgcdc did not resume on the promoted standby:\n"
                         << p.ReadLog();
    ASSERT_TRUE(p.Running());
    // Writes go on on the new primary, and are published too.
    ASSERT_TRUE(WaitFor(
        [&] {
          return static_cast<int>(writer.acked().size()) > acked_before + 100;
        },
        30000))
        << "the writer did not resume on the promoted standby";
    writer.Stop();
    std::cout << "at " << MsSince(test_started) << " ms: writer stopped\n";
    WaitCaughtUp(60000);
    StopPgcdc(p);
    std::cout << "at " << MsSince(test_started) << " ms: caught up, stopped\n";
    old_primary.reset();

    TopicCounts counts;
    for (const std::string table : {"fo_0", "fo_1", "fo_2", "counters"}) {
      ExpectTopicEqualsTable(broker_->bootstrap_servers(),
                             Topic("public." + table), table, &counts);
    }
    // Every acknowledged commit is in Kafka (ExpectTopicEqualsTable shows
    // that the topics hold the promoted server's rows; this that the promoted
    // server, and so Kafka, holds every row the writer saw committed).
    std::set<int> published;
    for (int k = 0; k < 3; ++k) {
      for (const ReadEvent& e : ReadTopic(absl::StrCat("public.fo_", k))) {
        if (e.event.op() != v1::CREATE || !e.key.has_value()) continue;
        const RowImage key = ToImage(*e.key);
        int id = 0;
        auto it = key.find("id");
        if (it != key.end() && it->second.has_value() &&
            absl::SimpleAtoi(*it->second, &id)) {
          published.insert(id);
        }
      }
    }
    const std::vector<int> acked = writer.acked();
    std::cout << "at " << MsSince(test_started) << " ms: topics compared\n";
    int missing = 0;
    for (int n : acked) {
      if (published.count(n) == 0 && ++missing <= 10) {
        ADD_FAILURE() << "acknowledged commit " << n << " is not in Kafka";
      }
    }
    EXPECT_EQ(missing, 0);
    std::cout << (pgcdc_dies_too ? "failover, pgcdc restarted: " : "failover: ")
              << acked.size() << " acknowledged commits (" << acked_before
              << " before the kill), " << writer.failed()
              << " failed; slot synced on the standby in " << sync_ms
              << " ms; check and status " << check_ms << " ms; promoted "
              << promote_ms << " ms after kill -9, pgcdc streaming again "
              << resume_ms << " ms after it; " << counts.events << " events, "
              << counts.replays << " replays; test " << MsSince(test_started)
              << " ms\n";
  }
};

// The slot survives kill -9 of the primary: a standby kept a synchronised
// copy, is promoted, and pgcdc, which lost its connection, reaches it
// through source.dsn's second host and resumes. Every acknowledged commit
// is in Kafka, the topics rebuild exactly the promoted server's tables (so
// nothing was published that it does not hold), per-key order holds and
// the only duplicates are replays.
TEST_F(FailoverTest, SlotSurvivesPromotionUnderLoad) {
  PromoteUnderLoad(/*pgcdc_dies_too=*/false);
}

// The same when pgcdc goes down with the primary (one machine): started
// again, it streams from the promoted standby's copy of the slot, whose
// position may lag what the broker acknowledged; what comes again is an
// exact replay.
TEST_F(FailoverTest, RestartedPgcdcResumesFromThePromotedCopy) {
  PromoteUnderLoad(/*pgcdc_dies_too=*/true);
}

// A slot made before source.slot_failover was set is switched over, and
// said so.
TEST_F(FailoverTest, ExistingSlotIsSwitchedToFailover) {
  if (std::string why = WithoutFailoverSlots(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  Sql(absl::StrCat("SELECT pg_create_logical_replication_slot('", slot_,
                   "', 'pgoutput')"));
  const std::string config = WriteFailoverConfig({"t"}, cluster_->Dsn(db_));
  Subprocess p = StartPgcdc(config);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(WaitForLog(p, "turned on failover for replication slot", 5000))
      << p.ReadLog();
  std::vector<pg::SqlRow> flag = Rows(absl::StrCat(
      "SELECT failover FROM pg_replication_slots WHERE slot_name = '", slot_,
      "'"));
  ASSERT_EQ(flag.size(), 1u);
  EXPECT_EQ(flag[0][0].value_or(""), "t");
  // One host: status cannot see a standby, and says how to let it.
  std::string out;
  EXPECT_EQ(RunPgcdc({"status", "--config", config}, &out), 1) << out;
  EXPECT_NE(out.find("names one host"), std::string::npos) << out;
  StopPgcdc(p);
}

// Without a snapshot the slot is made by pg_create_logical_replication_slot,
// whose fifth argument makes it a failover slot at once.
TEST_F(FailoverTest, NeverModeCreatesAFailoverSlot) {
  if (std::string why = WithoutFailoverSlots(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  Subprocess p = StartPgcdc(WriteFailoverConfig({"t"}, cluster_->Dsn(db_),
                                                "snapshot:\n  mode: never\n"));
  ASSERT_FALSE(HasFatalFailure());
  std::vector<pg::SqlRow> flag = Rows(absl::StrCat(
      "SELECT failover FROM pg_replication_slots WHERE slot_name = '", slot_,
      "'"));
  ASSERT_EQ(flag.size(), 1u);
  EXPECT_EQ(flag[0][0].value_or(""), "t");
  // Made with the flag: nothing to turn on.
  EXPECT_EQ(p.ReadLog().find("turned on failover"), std::string::npos);
  StopPgcdc(p);
}

// A slot another pgcdc streams from (without the setting) is not altered
// under it - the server would make the new instance wait inside the
// command - but when the new instance takes the slot over.
TEST_F(FailoverTest, SlotInUseIsSwitchedWhenTakenOver) {
  if (std::string why = WithoutFailoverSlots(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  Subprocess first = StartPgcdc(WriteConfig({"t"}));
  ASSERT_FALSE(HasFatalFailure());
  Subprocess second =
      LaunchPgcdc(WriteFailoverConfig({"t"}, cluster_->Dsn(db_)));
  EXPECT_TRUE(WaitForLog(second,
                         "its failover flag is turned on once pgcdc "
                         "streams from it",
                         30000))
      << second.ReadLog();
  std::vector<pg::SqlRow> flag = Rows(absl::StrCat(
      "SELECT failover FROM pg_replication_slots WHERE slot_name = '", slot_,
      "'"));
  ASSERT_EQ(flag.size(), 1u);
  EXPECT_EQ(flag[0][0].value_or(""), "f");
  StopPgcdc(first);
  EXPECT_TRUE(
      WaitForLog(second, "turned on failover for replication slot", 30000))
      << second.ReadLog();
  EXPECT_TRUE(WaitFor(
      [&] { return cluster_->SlotStreamingPid(db_, slot_).value_or(0) != 0; },
      30000));
  flag = Rows(absl::StrCat(
      "SELECT failover FROM pg_replication_slots WHERE slot_name = '", slot_,
      "'"));
  ASSERT_EQ(flag.size(), 1u);
  EXPECT_EQ(flag[0][0].value_or(""), "t");
  Sql("INSERT INTO t VALUES (1)");
  WaitCaughtUp();
  StopPgcdc(second);
  ExpectTopicEqualsTable(broker_->bootstrap_servers(), Topic("public.t"), "t");
}

// On PostgreSQL 15 and 16 the setting cannot be honoured: run and check
// refuse it, saying why and what to do, before anything is made.
TEST_F(FailoverTest, RefusedBefore17) {
  const int version = ServerVersionNum();
  if (version >= pg::kFailoverSlotsVersion) {
    GTEST_SKIP() << "PostgreSQL " << version
                 << " has failover slots; this test is for 15 and 16";
  }
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  const std::string config = WriteFailoverConfig({"t"}, cluster_->Dsn(db_));
  std::string out;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &out), 3) << out;
  EXPECT_NE(out.find("failover slots need PostgreSQL 17 or later"),
            std::string::npos)
      << out;
  EXPECT_TRUE(Rows(absl::StrCat("SELECT 1 FROM pg_replication_slots WHERE "
                                "slot_name = '",
                                slot_, "'"))
                  .empty());
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &out), 3) << out;
  EXPECT_NE(out.find("FAIL  source.slot_failover: source.slot_failover is "
                     "true, but PostgreSQL "),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace cdc::testing
