// Who may steer pgcdc through the WAL: a role that can log in, but holds no
// signal key, writes snapshot signals every way it can think of — the requests
// of issue 14 (SQL injection through "where", a filter that never ends), forged
// journals, a genuine signal of pgcdc's copied into its own transaction — and
// pgcdc does nothing at all but refuse and count them. Whoever holds
// signals.secret can write a request by hand, with pgcrypto, as
// docs/operations.md shows. And a condition runs on a session of its own: a
// slow one holds neither the stream nor a stop, and one past its timeout is
// given up.
#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cdc/pg/connection.h"
#include "cdc/snapshot/signal_auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSecret[] = "a signal secret of 32 characters";

class SignalsTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
    Sql("CREATE TABLE other (id int PRIMARY KEY)");
    Sql("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 3) g");
  }

  std::string Config(int* port, const std::string& extra = "") {
    *port = FreePort();
    return WriteConfig({"public.t", "public.other"}, "",
                       absl::StrCat(MetricsOn(*port), extra));
  }

  static double Metric(int port, const std::string& name) {
    return MetricValue(HttpGet(port, "/metrics"), name);
  }

  // A session of role `mallory`, who may log in and nothing else.
  std::unique_ptr<pg::SqlConnection> Mallory() {
    Sql("DO $$ BEGIN CREATE ROLE mallory LOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    std::string dsn = cluster_->Dsn(db_);
    dsn.replace(dsn.find("user=postgres"), 13, "user=mallory");
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(dsn);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  // `pgcdc snapshot` of public.t, only rows for which `where` holds.
  void RequestSnapshot(const std::string& config,
                       const std::string& where = "") {
    std::vector<std::string> args = {"snapshot", "--config", config, "--table",
                                     "public.t"};
    if (!where.empty()) {
      args.push_back("--where");
      args.push_back(where);
    }
    std::string output;
    ASSERT_EQ(RunPgcdc(args, &output), 0) << output;
  }

  size_t Reads(const std::string& table) {
    size_t n = 0;
    for (const ReadEvent& e : ReadTopic(table)) {
      n += e.event.op() == v1::READ ? 1 : 0;
    }
    return n;
  }

  // The contents of the pgcdc.snapshot messages in the WAL so far, read
  // through a test_decoding slot made by MakeTap.
  void MakeTap() {
    Sql("SELECT pg_create_logical_replication_slot('tap', 'test_decoding')");
  }
  std::vector<std::string> TappedSignals() {
    std::vector<std::string> out;
    for (const pg::SqlRow& row :
         Rows("SELECT data FROM pg_logical_slot_peek_changes('tap', NULL, "
              "NULL) WHERE data LIKE 'message:%pgcdc.snapshot%'")) {
      const std::string& data = *row[0];
      const size_t at = data.find("content:");
      if (at != std::string::npos) out.push_back(data.substr(at + 8));
    }
    return out;
  }
};

TEST_F(SignalsTest, ARoleWithoutTheKeyCannotSteerPgcdc) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  WaitCaughtUp();
  ASSERT_EQ(Reads("public.t"), 3u);  // the slot's own snapshot
  std::unique_ptr<pg::SqlConnection> mallory = Mallory();
  ASSERT_NE(mallory, nullptr);
  const std::string slot = absl::StrCat("\"slot\": \"", slot_, "\"");
  auto request = [&](const std::string& where) {
    return absl::StrCat("{", slot, ", \"request\": {\"id\": \"x", where.size(),
                        "\", \"tables\": [\"public.t\"], \"where\": \"", where,
                        "\"}}");
  };
  const std::vector<std::string> forged = {
      // As the docs used to show it.
      request(""),
      // A row that never existed, and any SQL with pgcdc's role.
      request("false) UNION ALL (SELECT 4242, 'forged'"),
      request("true) LIMIT 0) TO STDOUT; COMMIT; CREATE TABLE public.pwned(x "
              "int); COMMIT; COPY (SELECT 1 AS id, null::text AS v WHERE "
              "(true"),
      // A filter that never ends.
      request("pg_sleep(1e9) IS NULL"),
      // A journal saying the slot's snapshot is far past its rows, with a
      // MAC of the right shape.
      absl::StrCat(std::string(64, '0'), " {", slot,
                   ", \"xid\": 1, \"progress\": {\"nonce\": \"n\"}, \"state\": "
                   "{\"tasks\": [{\"request_id\": \"x\", \"table\": "
                   "\"public.t\", \"after_key\": [\"99999\"]}]}}"),
  };
  int written = 0;
  for (const std::string& content : forged) {
    for (const char* transactional : {"false", "true"}) {
      absl::Status s =
          mallory
              ->Query(absl::StrCat("SELECT pg_logical_emit_message(",
                                   transactional, ", 'pgcdc.snapshot', $1)"),
                      {content})
              .status();
      ASSERT_TRUE(s.ok()) << s;
      ++written;
    }
  }
  // The stream goes on: a change after them all is published.
  Sql("INSERT INTO other VALUES (1)");
  WaitCaughtUp();
  EXPECT_EQ(ReadTopic("public.other").size(), 1u);
  EXPECT_EQ(Metric(port, "pgcdc_snapshot_signals_rejected_total"), written);
  EXPECT_EQ(Reads("public.t"), 3u) << "a forged request was served";
  EXPECT_TRUE(Rows("SELECT to_regclass('public.pwned')")[0][0] == std::nullopt);
  EXPECT_TRUE(p.Running());
  const std::string log = p.ReadLog();
  // Logged once (at most once a minute), the rest counted.
  EXPECT_EQ(CountOccurrences(log, "refused the logical decoding message"), 1u)
      << log;
  EXPECT_THAT(log, HasSubstr("not sealed"));
  StopPgcdc(p);
  EXPECT_EQ(Reads("public.t"), 3u);
}

// A genuine journal of pgcdc's, copied by another role into a transaction
// of its own after pgcdc stopped, would make the next run read a finished
// table again; it names the transaction it was written in, so it is
// refused.
TEST_F(SignalsTest, AGenuineSignalCopiedIntoAnotherTransactionIsRefused) {
  MakeTap();
  int port = 0;
  const std::string config = Config(&port);
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  ASSERT_NO_FATAL_FAILURE(RequestSnapshot(config));
  ASSERT_TRUE(WaitFor([&] { return Reads("public.t") == 6u; }, 30000));
  WaitCaughtUp();
  StopPgcdc(p);
  // The journals pgcdc wrote while the request ran: copies of those that
  // list it as still to do.
  std::vector<std::string> pending;
  for (const std::string& content : TappedSignals()) {
    if (content.find("\"tasks\"") != std::string::npos &&
        content.find("\"request_id\":\"cli-") != std::string::npos) {
      pending.push_back(content);
    }
  }
  ASSERT_FALSE(pending.empty()) << "no journal listed the request";
  std::unique_ptr<pg::SqlConnection> mallory = Mallory();
  ASSERT_NE(mallory, nullptr);
  for (const std::string& content : pending) {
    ASSERT_TRUE(mallory
                    ->Query("SELECT pg_logical_emit_message(true, "
                            "'pgcdc.snapshot', $1)",
                            {content})
                    .ok());
  }
  Subprocess again = StartPgcdc(config);
  Sql("INSERT INTO other VALUES (1)");
  WaitCaughtUp();
  EXPECT_EQ(Metric(port, "pgcdc_snapshot_signals_rejected_total"),
            pending.size());
  EXPECT_THAT(again.ReadLog(), HasSubstr("a copy of another's"));
  StopPgcdc(again);
  EXPECT_EQ(Reads("public.t"), 6u) << "the finished table was read again";
}

// docs/operations.md's request written by hand, sealed with signals.secret by
// pgcrypto.
TEST_F(SignalsTest, ARequestSealedWithTheSecretIsServed) {
  Sql("CREATE EXTENSION IF NOT EXISTS pgcrypto");
  int port = 0;
  Subprocess p = StartPgcdc(
      Config(&port, absl::StrCat("signals:\n  secret: \"", kSecret, "\"\n")));
  WaitCaughtUp();
  const std::string by_hand = absl::StrCat(
      "SELECT pg_logical_emit_message(true, 'pgcdc.snapshot', "
      "encode(hmac(j, '",
      kSecret,
      "', 'sha256'), 'hex') || ' ' || j) "
      "FROM (SELECT format('{\"slot\": \"",
      slot_,
      "\", \"xid\": %s, \"request\": {\"id\": \"r1\", "
      "\"tables\": [\"public.t\"]}}', txid_current() % 4294967296) AS j) q");
  Sql(by_hand);
  ASSERT_TRUE(WaitFor([&] { return Reads("public.t") == 6u; }, 30000))
      << p.ReadLog();
  // The same with another secret is refused.
  Sql(absl::StrReplaceAll(by_hand, {{kSecret, "not the secret, but as long"},
                                    {"\"r1\"", "\"r2\""}}));
  Sql("INSERT INTO other VALUES (1)");
  WaitCaughtUp();
  EXPECT_EQ(Metric(port, "pgcdc_snapshot_signals_rejected_total"), 1);
  StopPgcdc(p);
  EXPECT_EQ(Reads("public.t"), 6u);
}

// A condition that takes long runs beside the stream: changes keep being
// published meanwhile, and a stop cancels it rather than waiting for it.
TEST_F(SignalsTest, ASlowConditionHoldsNeitherTheStreamNorAStop) {
  int port = 0;
  const std::string config = Config(&port);
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  ASSERT_NO_FATAL_FAILURE(RequestSnapshot(config, "pg_sleep(600) IS NOT NULL"));
  ASSERT_TRUE(WaitFor(
      [&] {
        return !Rows(
                    "SELECT 1 FROM pg_stat_activity WHERE query LIKE "
                    "'COPY%pg_sleep(600)%' AND state = 'active'")
                    .empty();
      },
      30000))
      << p.ReadLog();
  // Published while the chunk is read (not after 600 s). The slot does not
  // confirm it yet: the open watermark before it is held until the chunk's
  // journal.
  Sql("INSERT INTO other VALUES (1)");
  EXPECT_TRUE(
      WaitFor([&] { return ReadTopic("public.other").size() == 1u; }, 30000))
      << p.ReadLog();
  const auto stop = std::chrono::steady_clock::now();
  StopPgcdc(p);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::steady_clock::now() - stop)
                .count(),
            30);
  EXPECT_TRUE(WaitFor(
      [&] {
        return Rows(
                   "SELECT 1 FROM pg_stat_activity WHERE query LIKE "
                   "'COPY%pg_sleep(600)%' AND state = 'active'")
            .empty();
      },
      10000))
      << "the chunk's statement was left running";
  EXPECT_EQ(Reads("public.t"), 3u);
}

TEST_F(SignalsTest, AConditionPastItsTimeoutIsGivenUpAfterThreeTries) {
  int port = 0;
  const std::string config =
      Config(&port, "snapshot:\n  chunk_timeout_ms: 1000\n");
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  ASSERT_NO_FATAL_FAILURE(RequestSnapshot(config, "pg_sleep(5) IS NOT NULL"));
  ASSERT_TRUE(WaitForLog(p, "given up", 120000)) << p.ReadLog();
  const std::string log = p.ReadLog();
  EXPECT_EQ(CountOccurrences(log, "trying again in"), 2u) << log;
  EXPECT_THAT(log, HasSubstr("snapshot.chunk_timeout_ms (1000 ms) 3 times"));
  EXPECT_EQ(Metric(port, "pgcdc_snapshot_signals_rejected_total"), 1);
  EXPECT_EQ(Metric(port, "pgcdc_snapshot_running"), 0);
  StopPgcdc(p);
  EXPECT_EQ(Reads("public.t"), 3u);
}

// The role's lock_timeout and statement_timeout are not the chunk
// session's: a table locked for longer than them during an incremental
// snapshot is waited for, and every row is published (before, the lock
// timeout gave the table up and the journal called the request finished).
TEST_F(SignalsTest, ALockedTableIsWaitedForNotGivenUp) {
  Sql("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(4, 100) g");
  int port = 0;
  const std::string config = Config(&port);
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  ASSERT_EQ(Reads("public.t"), 100u);
  // For the sessions made from now on: the chunk's among them.
  Sql(absl::StrCat("ALTER DATABASE ", db_, " SET lock_timeout = '100ms'"));
  Sql(absl::StrCat("ALTER DATABASE ", db_, " SET statement_timeout = '300ms'"));
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> locker =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(locker.ok()) << locker.status();
  ASSERT_TRUE((*locker)
                  ->Query("SET statement_timeout = 0; BEGIN; "
                          "LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                  .ok());
  ASSERT_NO_FATAL_FAILURE(RequestSnapshot(config));
  // The chunk waits for the lock...
  ASSERT_TRUE(WaitFor(
      [&] {
        return !Rows(
                    "SELECT 1 FROM pg_locks WHERE relation = 't'::regclass "
                    "AND NOT granted")
                    .empty();
      },
      30000))
      << p.ReadLog();
  // ... for longer than the database's timeouts would let it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE((*locker)->Query("COMMIT").ok());
  ASSERT_TRUE(WaitFor([&] { return Reads("public.t") == 200u; }, 30000))
      << Reads("public.t") << "\n"
      << p.ReadLog();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), ::testing::Not(HasSubstr("skipped")));
}

// `pgcdc snapshot --where` refuses a condition that would leave its
// parentheses before the server sees it, and runs no statement of it.
TEST_F(SignalsTest, TheCliRefusesAConditionThatLeavesItsParentheses) {
  int port = 0;
  const std::string config = Config(&port);
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  for (const char* where :
       {"true) LIMIT 0; CREATE TABLE public.pwned(x int); SELECT (1",
        "false) UNION ALL (SELECT 4242, 'forged'",
        "true) ; CREATE TABLE public.pwned(x int) --"}) {
    std::string output;
    EXPECT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "public.t",
                        "--where", where},
                       &output),
              2)
        << output;
    EXPECT_THAT(output, HasSubstr("--where"));
  }
  EXPECT_TRUE(Rows("SELECT to_regclass('public.pwned')")[0][0] == std::nullopt);
  Sql("INSERT INTO other VALUES (1)");
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_EQ(Reads("public.t"), 3u);
}

// The whole configuration, Kafka properties included, is checked before
// pgcdc changes anything: with a table added to source.tables and a
// property librdkafka does not know, pgcdc exits 2 and neither adds the
// table to the publication nor writes a snapshot request for it.
TEST_F(SignalsTest, ABadKafkaPropertyIsRefusedBeforeAnythingIsChanged) {
  int port = 0;
  Subprocess p = StartPgcdc(Config(&port));
  WaitCaughtUp();
  StopPgcdc(p);
  MakeTap();
  const std::string config =
      WriteConfig({"public.t", "public.other", "public.later"},
                  "  properties:\n    no.such.property: \"1\"\n");
  Sql("CREATE TABLE later (id int PRIMARY KEY)");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 2) << output;
  EXPECT_THAT(output, HasSubstr("no.such.property"));
  EXPECT_TRUE(Rows("SELECT 1 FROM pg_publication_tables WHERE tablename = "
                   "'later'")
                  .empty());
  EXPECT_TRUE(TappedSignals().empty()) << "a snapshot request was written";
}

}  // namespace
}  // namespace cdc::testing
