// PostgreSQL-side faults, injected for real while pgcdc streams: the
// walsender terminated, the server crashing and restarting, a second
// instance waiting on the slot and taking over, the slot dropped. After each,
// the table rebuilt from its topic equals the source table.
#include <signal.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

class FaultsTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    Sql("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, "
        "note text)");
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

  // Mixed inserts, updates and deletes from its own connection until
  // stopped, reconnecting when the server goes away; statements that fail
  // because of that are simply not counted.
  class Load {
   public:
    explicit Load(const std::string& dsn) : dsn_(dsn) {
      thread_ = std::thread([this] { Run(); });
    }
    ~Load() { Stop(); }
    void Stop() {
      done_ = true;
      if (thread_.joinable()) thread_.join();
    }
    int committed() const { return committed_; }

   private:
    void Run() {
      std::mt19937 rng(7);
      std::unique_ptr<pg::SqlConnection> conn;
      for (int i = 0; !done_; ++i) {
        if (conn == nullptr) {
          absl::StatusOr<std::unique_ptr<pg::SqlConnection>> c =
              pg::SqlConnection::Connect(dsn_);
          if (!c.ok()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
          }
          conn = *std::move(c);
        }
        const std::string sql = RandomAccountsChange(rng, i, 300);
        if ((*conn).Query(sql).ok()) {
          ++committed_;
        } else {
          conn.reset();  // the server may be gone: connect again
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      }
    }
    std::string dsn_;
    std::thread thread_;
    std::atomic<bool> done_{false};
    std::atomic<int> committed_{0};
  };

  // Waits until pgcdc confirmed everything, then compares the topic with
  // the table.
  void ExpectNothingLost() {
    WaitCaughtUp(60000);
    absl::StatusOr<std::vector<ReadEvent>> events =
        ReadAll(broker_->bootstrap_servers(), Topic("public.accounts"));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_EQ(CheckOrderAndDuplicates(*events), "");
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(cluster_->Dsn(db_));
    ASSERT_TRUE(conn.ok()) << conn.status();
    absl::StatusOr<TableImage> source = SelectTable(**conn, "accounts", {"id"});
    ASSERT_TRUE(source.ok()) << source.status();
    TableImage rebuilt = Rebuild(*events);
    EXPECT_EQ(rebuilt.size(), source->size());
    EXPECT_TRUE(rebuilt == *source) << "rebuilt:\n"
                                    << FormatRows(rebuilt) << "source:\n"
                                    << FormatRows(*source);
  }

  // Terminates the walsender serving the slot; true when there was one.
  bool TerminateWalsender() {
    std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = '",
        slot_, "' AND active_pid IS NOT NULL"));
    return !rows.empty() && rows[0][0] == std::optional<std::string>("t");
  }

  bool WaitFor(const std::function<bool()>& condition, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return condition();
  }
};

TEST_F(FaultsTest, WalsenderTerminatedUnderLoadReconnectsAndLosesNothing) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  {
    Load load(cluster_->Dsn(db_));
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      ASSERT_TRUE(WaitFor([&] { return TerminateWalsender(); }, 20000));
      ASSERT_TRUE(WaitFor(
          [&] { return Metric(port, "pgcdc_reconnects_total") > i; }, 20000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    load.Stop();
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
    Load load(cluster_->Dsn(db_));
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
  Subprocess second = StartPgcdc(Config(&second_port));
  ASSERT_TRUE(WaitFor(
      [&] {
        return second.ReadLog().find("waiting for it to be released") !=
               std::string::npos;
      },
      20000))
      << second.ReadLog();
  EXPECT_EQ(Metric(second_port, "pgcdc_connected"), 0);
  Load load(cluster_->Dsn(db_));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  first.Signal(SIGKILL);
  first.Wait(10000);
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
  EXPECT_EQ(*cluster_->ConfirmedFlush(db_, slot_), acknowledged);

  absl::StatusOr<kafka::BrokerFault> up = kafka::ParseBrokerFault("up");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(broker_->Apply(*up).ok());
  Subprocess again = StartPgcdc(Config(&port));
  ExpectNothingLost();
  StopPgcdc(again);
}

}  // namespace
}  // namespace cdc::testing
