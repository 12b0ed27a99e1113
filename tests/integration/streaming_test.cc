// Large transactions streamed by the server while they run (pgoutput
// protocol 2+, `streaming 'on'`): published only at their commit, dropped on
// abort (whole, or a rolled-back savepoint's part), correct across schema
// changes inside them and across pgcdc being killed while they stream.
//
// Each test runs a cluster with logical_decoding_work_mem at its minimum
// (64 kB) so that a transaction of a few thousand rows is streamed, and checks
// that the server did stream (pg_stat_replication_slots.stream_txns).
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/kafka/topic_reader.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {
namespace {

class StreamingTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    UseCluster("-c logical_decoding_work_mem=64kB");
    Sql("CREATE TABLE items (id int PRIMARY KEY, note text, qty int)");
  }

  // A config for public.items with `source_lines` added under source: and
  // metrics served on metrics_port_.
  std::string Config(const std::string& source_lines) {
    metrics_port_ = FreePort();
    std::string path = WriteConfig(
        {"public.items"}, "",
        absl::StrCat("metrics:\n  listen: \"127.0.0.1:", metrics_port_,
                     "\"\n"));
    EditConfig(path, "  status_interval_ms: 1000\n",
               absl::StrCat("  status_interval_ms: 1000\n", source_lines));
    return path;
  }

  double Metric(const std::string& name) {
    return MetricValue(HttpGet(metrics_port_, "/metrics"), name);
  }

  // Waits until the metric is above `floor`.
  bool WaitMetricAbove(const std::string& name, double floor) {
    for (int i = 0; i < 300; ++i) {
      if (Metric(name) > floor) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::unique_ptr<pg::SqlConnection> Connect() {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(cluster_->Dsn(db_));
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  static void Exec(pg::SqlConnection& conn, const std::string& sql) {
    absl::StatusOr<std::vector<pg::SqlRow>> r = conn.Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }

  int64_t ServerStreamedTransactions() {
    std::vector<pg::SqlRow> rows =
        Rows(absl::StrCat("SELECT stream_txns FROM pg_stat_replication_slots "
                          "WHERE slot_name = '",
                          slot_, "'"));
    if (rows.empty() || !rows[0][0].has_value()) return 0;
    return std::stoll(*rows[0][0]);
  }

  // The topic, replays dropped, rebuilds items exactly as SELECT shows it.
  void ExpectTopicRebuildsItems(const std::vector<ReadEvent>& events) {
    EXPECT_EQ(CheckOrderAndDuplicates(events), "");
    std::unique_ptr<pg::SqlConnection> conn = Connect();
    ASSERT_NE(conn, nullptr);
    absl::StatusOr<TableImage> source = SelectTable(*conn, "items", {"id"});
    ASSERT_TRUE(source.ok()) << source.status();
    TableImage rebuilt = Rebuild(events);
    EXPECT_EQ(rebuilt.size(), source->size());
    EXPECT_TRUE(RebuildsTo(events, *source));
  }

  static int Id(const ReadEvent& e) {
    const v1::Row& row =
        e.event.op() == v1::DELETE ? e.event.before() : e.event.after();
    for (const v1::Column& c : row.columns()) {
      if (c.name() == "id") return static_cast<int>(c.value().int_value());
    }
    return -1;
  }

  void RunWithoutStreaming(const std::string& source_lines,
                           const std::string& expected_log);

  int metrics_port_ = 0;
};

TEST_F(StreamingTest, LargeTransactionIsPublishedOnlyAtItsCommit) {
  // Every chunk goes to a spill file.
  Subprocess p = StartPgcdc(Config("  spill_memory_bytes: 0\n"));
  Sql("INSERT INTO items SELECT g, 'before ' || g, g "
      "FROM generate_series(1, 100) g");
  WaitCaughtUp();
  std::unique_ptr<pg::SqlConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  Exec(*conn, "BEGIN");
  Exec(*conn,
       "INSERT INTO items SELECT g, repeat('x', 50) || g, g "
       "FROM generate_series(101, 20100) g");
  Exec(*conn, "UPDATE items SET qty = qty + 1 WHERE id % 3 = 0");
  Exec(*conn, "DELETE FROM items WHERE id % 7 = 0");
  // pgcdc holds the chunks, on disk, and has published none of them.
  ASSERT_TRUE(WaitMetricAbove("pgcdc_stream_spool_bytes", 100000));
  EXPECT_GT(Metric("pgcdc_stream_spilled_bytes_total"), 100000);
  // The server's count of streamed transactions is updated as each chunk
  // is sent, so it already counts this one (and only this one).
  EXPECT_EQ(ServerStreamedTransactions(), 1);
  EXPECT_EQ(ReadTopic("public.items").size(), 100u);
  Exec(*conn, "COMMIT");
  WaitCaughtUp();

  std::vector<ReadEvent> events = ReadTopic("public.items");
  EXPECT_EQ(Metric("pgcdc_streamed_transactions_total"), 1);
  EXPECT_EQ(Metric("pgcdc_stream_spool_bytes"), 0);
  // The streamed transaction's events: one commit LSN, seq 0..n-1.
  std::set<uint64_t> commit_lsns;
  std::set<uint32_t> seqs;
  size_t streamed = 0;
  for (const ReadEvent& e : events) {
    if (Id(e) <= 100 && e.event.op() == v1::CREATE) continue;
    commit_lsns.insert(e.event.source().commit_lsn());
    seqs.insert(e.event.source().seq());
    ++streamed;
  }
  EXPECT_EQ(commit_lsns.size(), 1u);
  EXPECT_EQ(seqs.size(), streamed);
  EXPECT_EQ(*seqs.rbegin(), streamed - 1);
  ExpectTopicRebuildsItems(events);
  StopPgcdc(p);
}

TEST_F(StreamingTest, AbortsAndRolledBackSavepointsPublishNothing) {
  Subprocess p = StartPgcdc(Config("  spill_memory_bytes: 65536\n"));
  std::unique_ptr<pg::SqlConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto insert = [&](int from, int to, const std::string& note) {
    Exec(*conn, absl::StrCat("INSERT INTO items SELECT g, '", note,
                             "' || g, g FROM generate_series(", from, ", ", to,
                             ") g"));
  };
  Exec(*conn, "BEGIN");
  insert(1, 5000, "top");
  Exec(*conn, "SAVEPOINT a");
  insert(5001, 10000, "a");
  Exec(*conn, "SAVEPOINT b");
  insert(10001, 15000, "b-rolled-back");
  Exec(*conn, "UPDATE items SET note = 'b-rolled-back' WHERE id <= 100");
  Exec(*conn, "ROLLBACK TO SAVEPOINT b");
  insert(15001, 20000, "a-after-b");
  Exec(*conn, "RELEASE SAVEPOINT a");
  Exec(*conn, "SAVEPOINT c");
  Exec(*conn, "DELETE FROM items WHERE id <= 2000");
  Exec(*conn, "ROLLBACK TO SAVEPOINT c");
  // A thousand subtransactions, every other one rolled back.
  Exec(*conn,
       "DO $$ BEGIN FOR i IN 20001..21000 LOOP BEGIN "
       "INSERT INTO items VALUES (i, 'loop', i); "
       "IF i % 2 = 0 THEN RAISE EXCEPTION 'no'; END IF; "
       "EXCEPTION WHEN raise_exception THEN NULL; END; END LOOP; END $$");
  Exec(*conn, "COMMIT");
  // A streamed transaction rolled back whole. It is rolled back only once
  // the server has streamed it: PostgreSQL 16 and later skip a transaction
  // the walsender already knows to be aborted, so a rollback that came
  // first would leave pgcdc no stream to drop (on 15 it always streamed).
  Exec(*conn, "BEGIN");
  insert(30001, 50000, "aborted");
  ASSERT_TRUE(WaitFor([&] { return ServerStreamedTransactions() == 2; }, 30000))
      << "stream_txns " << ServerStreamedTransactions();
  Exec(*conn, "ROLLBACK");
  Sql("INSERT INTO items VALUES (99999, 'after', 0)");
  WaitCaughtUp();

  // Streamed: the committed transaction and the aborted one (each counted
  // once however many chunks it took), not the single-row insert.
  EXPECT_EQ(ServerStreamedTransactions(), 2);
  EXPECT_EQ(Metric("pgcdc_streamed_transactions_total"), 1);
  EXPECT_EQ(Metric("pgcdc_stream_spool_bytes"), 0);
  std::vector<ReadEvent> events = ReadTopic("public.items");
  for (const ReadEvent& e : events) {
    const int id = Id(e);
    ASSERT_NE(e.event.op(), v1::DELETE) << id;
    ASSERT_NE(e.event.op(), v1::UPDATE) << id;
    ASSERT_FALSE(id >= 10001 && id <= 15000) << id;
    ASSERT_FALSE(id >= 20001 && id <= 21000 && id % 2 == 0) << id;
    ASSERT_FALSE(id >= 30001 && id <= 50000) << id;
  }
  EXPECT_EQ(events.size(), 15000u + 500u + 1u);
  ExpectTopicRebuildsItems(events);
  StopPgcdc(p);
}

TEST_F(StreamingTest, InterleavedTransactionsFollowCommitOrder) {
  Subprocess p = StartPgcdc(Config(""));
  std::unique_ptr<pg::SqlConnection> a = Connect();
  std::unique_ptr<pg::SqlConnection> b = Connect();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Exec(*a, "BEGIN");
  Exec(*a,
       "INSERT INTO items SELECT g, 'a', g FROM generate_series(1, 8000) g");
  Exec(*b, "BEGIN");
  Exec(*b,
       "INSERT INTO items SELECT g, 'b', g "
       "FROM generate_series(100001, 108000) g");
  Exec(
      *a,
      "INSERT INTO items SELECT g, 'a', g FROM generate_series(8001, 16000) g");
  Sql("INSERT INTO items VALUES (500000, 'small', 0)");
  Exec(*b, "UPDATE items SET qty = -qty WHERE id BETWEEN 107001 AND 108000");
  Exec(*b, "COMMIT");
  Exec(*a, "UPDATE items SET note = 'a2' WHERE id <= 1000");
  Exec(*a, "COMMIT");
  WaitCaughtUp();

  EXPECT_EQ(ServerStreamedTransactions(), 2);  // a and b, not the small one
  EXPECT_EQ(Metric("pgcdc_streamed_transactions_total"), 2);
  std::vector<ReadEvent> events = ReadTopic("public.items");
  // Commit LSNs follow commit order: small < b < a.
  std::map<char, std::set<uint64_t>> commits;
  for (const ReadEvent& e : events) {
    const int id = Id(e);
    const char who = id == 500000 ? 's' : id > 100000 ? 'b' : 'a';
    commits[who].insert(e.event.source().commit_lsn());
  }
  ASSERT_EQ(commits['s'].size(), 1u);
  ASSERT_EQ(commits['a'].size(), 1u);
  ASSERT_EQ(commits['b'].size(), 1u);
  EXPECT_LT(*commits['s'].begin(), *commits['b'].begin());
  EXPECT_LT(*commits['b'].begin(), *commits['a'].begin());
  ExpectTopicRebuildsItems(events);
  StopPgcdc(p);
}

// Relation messages inside a stream take effect at the commit, not when they
// arrive: a schema change in a transaction that rolls back must not change
// how later transactions are read.
TEST_F(StreamingTest, SchemaChangesInsideStreamedTransactions) {
  Subprocess p = StartPgcdc(Config(""));
  Sql("INSERT INTO items VALUES (1, 'one', 1)");
  WaitCaughtUp();
  std::unique_ptr<pg::SqlConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  Exec(*conn, "BEGIN");
  Exec(*conn, "ALTER TABLE items ADD COLUMN extra int");
  Exec(*conn,
       "INSERT INTO items SELECT g, 'gone', g, g "
       "FROM generate_series(1000, 11000) g");
  // Rolled back once streamed, with its Relation message: PostgreSQL 16 and
  // later do not stream a transaction already known to be aborted.
  ASSERT_TRUE(WaitFor([&] { return ServerStreamedTransactions() == 1; }, 30000))
      << "stream_txns " << ServerStreamedTransactions();
  Exec(*conn, "ROLLBACK");
  Sql("INSERT INTO items VALUES (2, 'two', 2)");
  // Committed: rows before and after ADD COLUMN and DROP COLUMN.
  Exec(*conn, "BEGIN");
  Exec(*conn,
       "INSERT INTO items SELECT g, 'v1', g FROM generate_series(100, 5099) g");
  Exec(*conn, "ALTER TABLE items ADD COLUMN extra int DEFAULT 7");
  Exec(*conn,
       "INSERT INTO items SELECT g, 'v2', g, g "
       "FROM generate_series(5100, 10099) g");
  Exec(*conn, "ALTER TABLE items DROP COLUMN note");
  Exec(
      *conn,
      "INSERT INTO items SELECT g, g, -g FROM generate_series(10100, 15099) g");
  Exec(*conn, "COMMIT");
  Sql("INSERT INTO items VALUES (3, 3, 3)");
  WaitCaughtUp();

  // The rolled-back transaction and the committed one.
  EXPECT_EQ(ServerStreamedTransactions(), 2);
  EXPECT_EQ(Metric("pgcdc_streamed_transactions_total"), 1);
  std::vector<ReadEvent> events = ReadTopic("public.items");
  ASSERT_EQ(events.size(), 3u + 15000u);
  auto columns = [](const ReadEvent& e) {
    std::string out;
    for (const v1::Column& c : e.event.after().columns()) {
      absl::StrAppend(&out, out.empty() ? "" : ",", c.name());
    }
    return out;
  };
  std::map<int, const ReadEvent*> by_id;
  for (const ReadEvent& e : events) by_id[Id(e)] = &e;
  ASSERT_EQ(by_id.size(), events.size());
  EXPECT_EQ(columns(*by_id[1]), "id,note,qty");
  EXPECT_EQ(columns(*by_id[2]), "id,note,qty");
  EXPECT_EQ(by_id[1]->event.source().shape_id(),
            by_id[2]->event.source().shape_id());
  EXPECT_EQ(columns(*by_id[100]), "id,note,qty");
  EXPECT_EQ(columns(*by_id[5099]), "id,note,qty");
  EXPECT_EQ(columns(*by_id[5100]), "id,note,qty,extra");
  EXPECT_EQ(columns(*by_id[10100]), "id,qty,extra");
  EXPECT_EQ(columns(*by_id[15099]), "id,qty,extra");
  EXPECT_EQ(columns(*by_id[3]), "id,qty,extra");
  EXPECT_EQ(by_id[15099]->event.after().columns(2).value().int_value(), -15099);
  StopPgcdc(p);
}

// The slot's confirmed position moves past a transaction that is still
// streaming (keepalives, other commits); pgcdc is killed then, and again
// while it publishes a committed streamed transaction. After restarts the
// server sends both again, whole.
TEST_F(StreamingTest, KillNineWhileTransactionsStreamLosesNothing) {
  std::string config = Config("  spill_memory_bytes: 0\n");
  Subprocess first = StartPgcdc(config);
  Sql("INSERT INTO items VALUES (0, 'first', 0)");
  WaitCaughtUp();
  absl::StatusOr<std::unique_ptr<TopicCollector>> collector =
      TopicCollector::Start(broker_->bootstrap_servers(),
                            Topic("public.items"));
  ASSERT_TRUE(collector.ok()) << collector.status();
  std::unique_ptr<pg::SqlConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  Exec(*conn, "BEGIN");
  Exec(
      *conn,
      "INSERT INTO items SELECT g, 'open', g FROM generate_series(1, 10000) g");
  ASSERT_TRUE(WaitMetricAbove("pgcdc_stream_spool_bytes", 0));
  const Lsn streamed_before = WalLsn();
  for (int i = 0; i < 3; ++i) {
    Sql(absl::StrCat("INSERT INTO items VALUES (", 900000 + i, ", 's', 0)"));
  }
  WaitCaughtUp();
  absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok());
  EXPECT_GT(*confirmed, streamed_before);  // past the open transaction's rows
  // The transaction is still open, so pgcdc still holds its chunks when it
  // is killed: nothing but its Stream Commit or Abort empties the spool.
  EXPECT_GT(Metric("pgcdc_stream_spool_bytes"), 0);
  first.Signal(SIGKILL);
  ASSERT_EQ(first.Wait(10000), std::optional<int>(128 + SIGKILL));

  Subprocess second = StartPgcdc(config);
  Exec(*conn,
       "INSERT INTO items SELECT g, 'open', g "
       "FROM generate_series(10001, 20000) g");
  // The broker stops answering: the committed transaction is being
  // published, none of it can be acknowledged, when pgcdc is killed.
  ASSERT_NO_FATAL_FAILURE(BrokerDown());
  Exec(*conn, "COMMIT");
  const Lsn committed = WalLsn();
  ASSERT_TRUE(WaitMetricAbove("pgcdc_streamed_transactions_total", 0));
  ASSERT_TRUE(WaitMetricAbove("pgcdc_inflight_events", 0)) << second.ReadLog();
  second.Signal(SIGKILL);
  ASSERT_EQ(second.Wait(10000), std::optional<int>(128 + SIGKILL));
  // Nothing of it was confirmed: the slot is still before its commit.
  confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok());
  EXPECT_LT(*confirmed, committed);
  ASSERT_NO_FATAL_FAILURE(BrokerUp());

  Subprocess last = StartPgcdc(config);
  WaitCaughtUp(120000);
  StopPgcdc(last);
  absl::Status all = (*collector)->WaitForEnd(60000);
  ASSERT_TRUE(all.ok()) << all;
  EXPECT_EQ((*collector)->error(), "");
  ExpectTopicRebuildsItems((*collector)->events());
}

// Without streaming (protocol 1, or streaming: false) the server spills a
// large transaction itself and sends it after its commit.
void StreamingTest::RunWithoutStreaming(const std::string& source_lines,
                                        const std::string& expected_log) {
  Subprocess p = StartPgcdc(Config(source_lines));
  Sql("INSERT INTO items SELECT g, 'row', g FROM generate_series(1, 20000) g");
  Sql("UPDATE items SET qty = 0 WHERE id % 2 = 0");
  Sql("DELETE FROM items WHERE id % 5 = 0");
  WaitCaughtUp();
  EXPECT_EQ(Metric("pgcdc_streamed_transactions_total"), 0);
  EXPECT_EQ(ServerStreamedTransactions(), 0);
  StopPgcdc(p);
  std::string log = p.ReadLog();
  // The streaming line names the server's version with the protocol
  // negotiated (the suite runs on 15 and 18).
  std::vector<pg::SqlRow> version = Rows("SHOW server_version");
  ASSERT_EQ(version.size(), 1u);
  EXPECT_NE(log.find(absl::StrCat("(PostgreSQL ", version[0][0].value_or(""),
                                  ", ", expected_log)),
            std::string::npos)
      << log;
  ExpectTopicRebuildsItems(ReadTopic("public.items"));
}

TEST_F(StreamingTest, ProtocolOneStillWorks) {
  RunWithoutStreaming("  protocol_version: 1\n", "pgoutput protocol 1)");
}

TEST_F(StreamingTest, StreamingCanBeTurnedOff) {
  RunWithoutStreaming("  streaming: false\n", "pgoutput protocol 3)");
}

// Peak resident memory of a running process, from /proc (VmHWM), in bytes.
int64_t PeakRss(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stoll(line.substr(6)) * 1024;  // "VmHWM:   12345 kB"
    }
  }
  return -1;
}

// The bound: a 5-million-row transaction, streamed and spilled, with
// pgcdc's resident memory under 128 MiB throughout. pgcdc produces faster
// than a test consumer decodes and the mock broker keeps only ~5 MB per
// partition, so completeness is checked from the broker's offsets (every
// record appended counts, and the idempotent producer appends none twice)
// and the retained tail is read back and checked event by event.
TEST_F(StreamingTest, FiveMillionRowTransactionStaysUnder128MiB) {
  constexpr int kRows = 5000000;
  Subprocess p = StartPgcdc(Config(""));
  Sql("INSERT INTO items VALUES (0, 'first', 0)");
  WaitCaughtUp();
  auto start = std::chrono::steady_clock::now();
  Sql(
      absl::StrCat("INSERT INTO items SELECT g, 'row ' || g, g "
                   "FROM generate_series(1, ",
                   kRows, ") g"));
  auto committed = std::chrono::steady_clock::now();
  // Measured on two shared cores: confirmed 41 s and 68 s after the commit
  // (80 s and 102 s for the whole test). Six times the slower, and the
  // bounds of the whole test stay well inside its ctest TIMEOUT
  // (tests/integration/test_properties.cmake).
  WaitCaughtUp(420000);
  auto confirmed = std::chrono::steady_clock::now();
  const int64_t peak = PeakRss(p.pid());
  EXPECT_EQ(Metric("pgcdc_streamed_transactions_total"), 1);
  // How much went to spill files depends on how the server cut the chunks;
  // far more than fits in memory, surely.
  EXPECT_GT(Metric("pgcdc_stream_spilled_bytes_total"), 100 << 20);
  StopPgcdc(p);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 128 << 20) << "peak RSS " << (peak >> 20) << " MiB";

  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(broker_->bootstrap_servers(),
                               Topic("public.items"), /*from_beginning=*/true);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<kafka::TopicReader::Watermarks>> marks =
      (*reader)->QueryWatermarks(10000);
  ASSERT_TRUE(marks.ok()) << marks.status();
  int64_t appended = 0;
  for (const auto& m : *marks) appended += m.high;
  EXPECT_EQ(appended, kRows + 1);
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> tail =
      (*reader)->ReadToEnd();
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_GT(tail->size(), 10000u);
  std::set<uint64_t> commit_lsns;
  size_t checked = 0, first_row = 0;
  for (const kafka::ConsumedMessage& m : *tail) {
    v1::ChangeEvent event;
    ASSERT_TRUE(event.ParseFromString(m.value));
    ReadEvent e;
    e.event = event;
    const int id = Id(e);
    if (id == 0) {
      ++first_row;
      continue;
    }
    ASSERT_EQ(event.op(), v1::CREATE);
    // Rows are inserted in id order, so each event's seq is its id - 1.
    ASSERT_EQ(event.source().seq(), static_cast<uint32_t>(id - 1));
    commit_lsns.insert(event.source().commit_lsn());
    ++checked;
  }
  EXPECT_EQ(commit_lsns.size(), 1u);
  EXPECT_EQ(checked + first_row, tail->size());
  EXPECT_LE(first_row, 1u);
  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::cout << "5M-row transaction: insert and commit " << ms(committed - start)
            << " ms; confirmed " << ms(confirmed - committed)
            << " ms after the commit; pgcdc peak RSS " << (peak >> 20)
            << " MiB; " << tail->size() << " retained events checked\n";
}

}  // namespace
}  // namespace cdc::testing
