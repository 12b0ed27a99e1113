// Snapshots end to end (snapshot.mode): the rows already in a table are
// published as READ events, consistent with the stream that follows them —
// against a real PostgreSQL 15, with writes racing the snapshot.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cdc/pg/connection.h"
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

std::string Mode(const std::string& mode) {
  return absl::StrCat("snapshot:\n  mode: ", mode, "\n");
}

std::vector<const ReadEvent*> WithOp(const std::vector<ReadEvent>& events,
                                     v1::Op op) {
  std::vector<const ReadEvent*> out;
  for (const ReadEvent& e : events) {
    if (e.event.op() == op) out.push_back(&e);
  }
  return out;
}

class SnapshotTest : public PgcdcTest {
 protected:
  // SELECT * of `table` (key: id), as Rebuild gives it.
  TableImage Source(const std::string& table) {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(cluster_->Dsn(db_));
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return {};
    absl::StatusOr<TableImage> source = SelectTable(**conn, table, {"id"});
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? *std::move(source) : TableImage();
  }

  // The topic rebuilt equals SELECT * of the table; with `in_order`, its
  // events are also in EventId order per key, with only exact replays
  // repeated.
  void ExpectTopicIsTable(const std::string& table,
                          const std::vector<ReadEvent>& events,
                          bool in_order = true) {
    TableImage source = Source(table);
    TableImage rebuilt = Rebuild(events);
    EXPECT_EQ(rebuilt.size(), source.size());
    EXPECT_TRUE(rebuilt == source)
        << "rebuilt:\n"
        << FormatRows(rebuilt) << "source:\n"
        << FormatRows(source) << RebuildDifferences(events, rebuilt, source);
    if (in_order) {
      EXPECT_EQ(CheckOrderAndDuplicates(events), "");
    }
  }

  bool SlotExists() {
    return !Rows(absl::StrCat("SELECT 1 FROM pg_replication_slots WHERE "
                              "slot_name = '",
                              slot_, "'"))
                .empty();
  }
};

TEST_F(SnapshotTest, InitialSnapshotThenStream) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text, n numeric)");
  Sql("INSERT INTO t SELECT g, 'row ' || g, g / 7.0 FROM "
      "generate_series(1, 1000) g");
  // A partitioned table is read through its root, as it is published.
  Sql("CREATE TABLE parted (id int PRIMARY KEY, v text) PARTITION BY RANGE "
      "(id); CREATE TABLE parted_lo PARTITION OF parted FOR VALUES FROM (0) "
      "TO (100); CREATE TABLE parted_hi PARTITION OF parted FOR VALUES FROM "
      "(100) TO (1000)");
  Sql("INSERT INTO parted SELECT g, 'p' || g FROM generate_series(1, 300) g");
  Sql("ANALYZE t");
  Sql("CREATE EXTENSION pg_walinspect");  // for SignalTransactionsSince
  int metrics_port = FreePort();
  std::string config =
      WriteConfig({"public.t", "public.parted"}, "", MetricsOn(metrics_port));
  const Lsn before_start = WalLsn();
  Subprocess p = StartPgcdc(config);  // default mode: initial
  Sql("UPDATE t SET v = 'changed' WHERE id <= 10");
  Sql("DELETE FROM t WHERE id BETWEEN 991 AND 1000");
  Sql("INSERT INTO t VALUES (1001, 'new', 1)");
  Sql("UPDATE parted SET v = 'moved' WHERE id = 5");
  WaitCaughtUp();

  std::string metrics = HttpGet(metrics_port, "/metrics");
  auto value = [&](const std::string& name) {
    return MetricValue(metrics, name);
  };
  EXPECT_EQ(value("pgcdc_snapshot_rows_total{table=\"public.t\"}"), 1000);
  EXPECT_EQ(value("pgcdc_snapshot_rows_total{table=\"public.parted\"}"), 300);
  EXPECT_EQ(value("pgcdc_snapshot_running"), 0);
  EXPECT_EQ(value("pgcdc_snapshot_tables_remaining"), 0);
  // How long it took is not known, only that it was measured.
  EXPECT_GT(value("pgcdc_snapshot_duration_seconds"), 0);
  EXPECT_EQ(value("pgcdc_events_total{op=\"read\",table=\"public.t\"}"), 1000);
  EXPECT_EQ(value("pgcdc_events_total{op=\"read\",table=\"public.parted\"}"),
            300);
  EXPECT_EQ(value("pgcdc_events_total{op=\"update\",table=\"public.t\"}"), 10);
  EXPECT_EQ(value("pgcdc_events_total{op=\"delete\",table=\"public.t\"}"), 10);
  EXPECT_EQ(value("pgcdc_events_total{op=\"create\",table=\"public.t\"}"), 1);
  EXPECT_EQ(value("pgcdc_events_total{op=\"update\",table=\"public.parted\"}"),
            1);
  // The four transactions above, and those of pgcdc's snapshot journal,
  // which the server sends like any other; the snapshot's reads are not
  // transactions. pgcdc may write the journal's last entry while the stream
  // runs, after WaitCaughtUp's mark: waited for, then exact.
  int expected = -1;
  double transactions = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        transactions = MetricValue(HttpGet(metrics_port, "/metrics"),
                                   "pgcdc_transactions_total");
        expected = 4 + SignalTransactionsSince(before_start);
        return transactions == expected;
      },
      10000))
      << "pgcdc_transactions_total " << transactions << ", expected "
      << expected;
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr("snapshot: public.t 1000 of ~1000 rows "
                                     "(100%)"));

  std::vector<ReadEvent> events = ReadTopic("public.t");
  std::vector<const ReadEvent*> reads = WithOp(events, v1::READ);
  ASSERT_EQ(reads.size(), 1000u);
  std::set<uint32_t> ordinals;
  std::set<int64_t> ids;
  const uint64_t consistent_point = reads[0]->event.source().commit_lsn();
  EXPECT_GT(consistent_point, 0u);
  for (const ReadEvent* r : reads) {
    const v1::Source& s = r->event.source();
    EXPECT_TRUE(s.snapshot());
    EXPECT_EQ(s.commit_lsn(), consistent_point);
    EXPECT_EQ(s.lsn(), consistent_point);
    EXPECT_EQ(s.slot(), slot_);
    ordinals.insert(s.seq());
    ids.insert(r->key->columns(0).value().int_value());
  }
  EXPECT_EQ(ordinals.size(), 1000u);
  EXPECT_EQ(*ordinals.rbegin(), 999u);
  EXPECT_EQ(ids.size(), 1000u);
  for (const ReadEvent& e : events) {
    if (e.event.op() == v1::READ) continue;
    EXPECT_FALSE(e.event.source().snapshot());
    EXPECT_GE(e.event.source().commit_lsn(), consistent_point)
        << "a streamed change from before the snapshot's consistent point";
  }
  EXPECT_EQ(WithOp(events, v1::UPDATE).size(), 10u);
  EXPECT_EQ(WithOp(events, v1::DELETE).size(), 10u);
  ExpectTopicIsTable("t", events);
  std::vector<ReadEvent> parted = ReadTopic("public.parted");
  EXPECT_EQ(WithOp(parted, v1::READ).size(), 300u);
  ExpectTopicIsTable("parted", parted);

  // initial on an existing slot: no second snapshot.
  Subprocess again = StartPgcdc(config);
  Sql("INSERT INTO t VALUES (1002, 'after restart', 2)");
  WaitCaughtUp();
  StopPgcdc(again);
  std::vector<ReadEvent> after = ReadTopic("public.t");
  EXPECT_EQ(WithOp(after, v1::READ).size(), 1000u);
  EXPECT_EQ(after.size(), events.size() + 1);
  ExpectTopicIsTable("t", after);
}

// Writes racing the snapshot, on their own connection, while a slow broker
// and a small in-flight window stretch the snapshot out: the topic still
// rebuilds the table, and no row is read twice or missed at the boundary.
TEST_F(SnapshotTest, ConcurrentWritesDuringSnapshotGiveEveryRowOnce) {
  constexpr int kRows = 40000;
  Sql("CREATE TABLE big (id int PRIMARY KEY, v bigint, pad text)");
  Sql(
      absl::StrCat("INSERT INTO big SELECT g, g, repeat('x', 40) FROM "
                   "generate_series(1, ",
                   kRows, ") g"));
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 20);
  std::string config =
      WriteConfig({"public.big"}, "  max_inflight_bytes: 65536\n");

  std::atomic<bool> done{false};
  std::atomic<int> during{0}, errors{0};
  std::thread writer([&] {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(cluster_->Dsn(db_));
    if (!conn.ok()) {
      ++errors;
      return;
    }
    // Start once the snapshot's temporary slot (or the slot made from it)
    // exists: its consistent point is fixed then, so every write below is
    // after it.
    auto any_slot = [&](const std::string& condition) {
      absl::StatusOr<std::vector<pg::SqlRow>> rows = (*conn)->Query(
          absl::StrCat("SELECT 1 FROM pg_replication_slots WHERE ", condition));
      return rows.ok() && !rows->empty();
    };
    const std::string started = absl::StrCat("slot_name LIKE '", slot_, "%'");
    // The slot streams (is active) only once the snapshot is published.
    const std::string snapshotting =
        absl::StrCat("slot_name = '", slot_, "' AND NOT active");
    while (!done && !any_slot(started)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::mt19937 rng(11);
    int next_id = kRows + 1;
    for (int i = 0; !done; ++i) {
      int id = 1 + static_cast<int>(rng() % kRows);
      std::string sql;
      switch (rng() % 4) {
        case 0:
          sql = absl::StrCat("UPDATE big SET v = v + 1000000 WHERE id = ", id);
          break;
        case 1:
          sql = absl::StrCat("DELETE FROM big WHERE id = ", id);
          break;
        case 2:
          sql = absl::StrCat("INSERT INTO big VALUES (", next_id++, ", ", i,
                             ", 'during')");
          break;
        default:
          sql = absl::StrCat("UPDATE big SET pad = 'range ", i,
                             "' WHERE id BETWEEN ", id, " AND ", id + 20);
      }
      if (!(*conn)->Query(sql).ok()) ++errors;
      if (any_slot(snapshotting)) ++during;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  Subprocess p = StartPgcdc(config);  // returns once streaming
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  done = true;
  writer.join();
  ASSERT_EQ(errors.load(), 0);
  EXPECT_GT(during.load(), 50) << "the snapshot ended before writes raced it";
  std::cerr << during.load() << " writes raced the snapshot\n";
  WaitCaughtUp(60000);
  StopPgcdc(p);

  std::vector<ReadEvent> events = ReadTopic("public.big");
  std::vector<const ReadEvent*> reads = WithOp(events, v1::READ);
  std::map<std::string, int> reads_per_key;
  for (const ReadEvent* r : reads) ++reads_per_key[KeyText(*r->key)];
  for (const auto& [key, n] : reads_per_key) {
    ASSERT_EQ(n, 1) << key << " read " << n << " times";
  }
  // Rows the snapshot read and the stream then changed: the boundary was
  // crossed by the same rows.
  const uint64_t consistent_point = reads.at(0)->event.source().commit_lsn();
  int changed_after_read = 0;
  for (const ReadEvent& e : events) {
    if (e.event.op() == v1::READ) continue;
    EXPECT_GE(e.event.source().commit_lsn(), consistent_point);
    if (reads_per_key.count(KeyText(*e.key))) ++changed_after_read;
  }
  EXPECT_GT(changed_after_read, 0);
  // The snapshot saw the table as of its consistent point: at most the
  // rows there were then, which the racing deletes only reduce.
  EXPECT_LE(reads.size(), static_cast<size_t>(kRows));
  EXPECT_GT(reads.size(), static_cast<size_t>(kRows) / 2);
  ExpectTopicIsTable("big", events);
}

// The snapshot reads no further than the in-flight window allows, as the
// stream does, and says so in its metrics while it runs.
TEST_F(SnapshotTest, SnapshotKeepsInflightBytesWithinTheWindow) {
  Sql("CREATE TABLE wide (id int PRIMARY KEY, payload text)");
  Sql("INSERT INTO wide SELECT g, repeat('x', 500) FROM "
      "generate_series(1, 4000) g");
  int metrics_port = FreePort();
  std::string config =
      WriteConfig({"public.wide"}, "  max_inflight_bytes: 65536\n",
                  MetricsOn(metrics_port));
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 100);
  std::atomic<bool> done{false};
  double max_inflight = 0, max_running = 0, max_remaining = 0;
  std::thread poll([&] {
    while (!done) {
      std::string metrics = HttpGet(metrics_port, "/metrics");
      max_inflight =
          std::max(max_inflight, MetricValue(metrics, "pgcdc_inflight_bytes"));
      max_running =
          std::max(max_running, MetricValue(metrics, "pgcdc_snapshot_running"));
      max_remaining =
          std::max(max_remaining,
                   MetricValue(metrics, "pgcdc_snapshot_tables_remaining"));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  Subprocess p = StartPgcdc(config);  // streams once the snapshot is done
  done = true;
  poll.join();
  // The window is checked before each row is read: it may be passed by at
  // most one event (~600 bytes here).
  EXPECT_LE(max_inflight, 65536 + 1024);
  EXPECT_GE(max_inflight, 16384) << "the window was never approached, so "
                                    "this test did not exercise it";
  EXPECT_EQ(max_running, 1);
  EXPECT_EQ(max_remaining, 1);
  WaitCaughtUp();
  std::string metrics = HttpGet(metrics_port, "/metrics");
  EXPECT_EQ(MetricValue(metrics, "pgcdc_snapshot_running"), 0);
  EXPECT_EQ(MetricValue(metrics, "pgcdc_snapshot_tables_remaining"), 0);
  EXPECT_GT(MetricValue(metrics, "pgcdc_snapshot_duration_seconds"), 0.5)
      << "4000 rows through a 64 KiB window at 100 ms per round trip";
  StopPgcdc(p);
  EXPECT_EQ(WithOp(ReadTopic("public.wide"), v1::READ).size(), 4000u);
}

TEST_F(SnapshotTest, InitialOnlyPublishesTheRowsAndExits) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config",
                      WriteConfig({"public.t"}, "", Mode("initial_only"))},
                     &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("snapshot published"));
  std::vector<ReadEvent> events = ReadTopic("public.t");
  EXPECT_EQ(events.size(), 500u);
  EXPECT_EQ(WithOp(events, v1::READ).size(), 500u);
  ExpectTopicIsTable("t", events);
  // Neither the configured slot nor the temporary one is left behind.
  EXPECT_TRUE(Rows("SELECT slot_name FROM pg_replication_slots").empty());
}

TEST_F(SnapshotTest, NeverPublishesNoReads) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  Subprocess p = StartPgcdc(WriteConfig({"public.t"}, "", Mode("never")));
  Sql("INSERT INTO t VALUES (101, 'streamed')");
  WaitCaughtUp();
  StopPgcdc(p);
  std::vector<ReadEvent> events = ReadTopic("public.t");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.op(), v1::CREATE);
  EXPECT_FALSE(events[0].event.source().snapshot());
}

TEST_F(SnapshotTest, WhenNeededSnapshotsAgainAfterTheSlotWasDropped) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 200) g");
  std::string config = WriteConfig({"public.t"}, "", Mode("when_needed"));
  Subprocess p = StartPgcdc(config);
  Sql("UPDATE t SET v = 'streamed' WHERE id = 1");
  WaitCaughtUp();
  StopPgcdc(p);
  // An existing slot: no snapshot on the next start.
  Subprocess again = StartPgcdc(config);
  WaitCaughtUp();
  StopPgcdc(again);
  EXPECT_EQ(WithOp(ReadTopic("public.t"), v1::READ).size(), 200u);

  // The slot is gone, and changes made meanwhile with it.
  Sql(absl::StrCat("SELECT pg_drop_replication_slot('", slot_, "')"));
  Sql("INSERT INTO t SELECT g, 'unseen' FROM generate_series(201, 250) g");
  Sql("DELETE FROM t WHERE id <= 20");
  Subprocess third = StartPgcdc(config);
  WaitCaughtUp();
  StopPgcdc(third);
  EXPECT_THAT(third.ReadLog(), HasSubstr("snapshot of the tables at"));
  std::vector<ReadEvent> events = ReadTopic("public.t");
  std::set<uint64_t> points;
  for (const ReadEvent* r : WithOp(events, v1::READ)) {
    points.insert(r->event.source().commit_lsn());
  }
  EXPECT_EQ(points.size(), 2u) << "two snapshots, two consistent points";
  EXPECT_EQ(WithOp(events, v1::READ).size(), 200u + 230u);
  // The deletes made while no slot existed are not events; the second
  // snapshot's rows supersede the first's, except for the rows it no
  // longer has, which the rebuilt topic still holds.
  TableImage rebuilt = Rebuild(events);
  EXPECT_EQ(rebuilt.size(), 250u);
  TableImage source = Source("t");
  ASSERT_EQ(source.size(), 230u);
  for (const auto& [key, row] : source) {
    EXPECT_EQ(rebuilt[key], row) << key;
  }
  EXPECT_EQ(CheckOrderAndDuplicates(events), "");
}

TEST_F(SnapshotTest, LostSlotIsAnErrorUnlessWhenNeeded) {
  UseCluster("-c max_slot_wal_keep_size=1MB -c min_wal_size=32MB");
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  std::string config = WriteConfig({"public.t"});
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  StopPgcdc(p);
  // Move the WAL on by a few segments past the slot and checkpoint, so the
  // server removes what the slot still needs.
  for (int i = 0; i < 4; ++i) {
    Sql("INSERT INTO t SELECT g, 'churn' FROM generate_series(1000, 1100) g "
        "ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v || 'x'");
    Sql("SELECT pg_switch_wal()");
  }
  Sql("CHECKPOINT");
  std::vector<pg::SqlRow> status = Rows(absl::StrCat(
      "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '", slot_,
      "'"));
  ASSERT_EQ(status.size(), 1u);
  ASSERT_EQ(status[0][0].value_or(""), "lost");

  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3);
  EXPECT_THAT(output, HasSubstr("is lost"));
  EXPECT_THAT(output, HasSubstr("when_needed"));

  Subprocess again =
      StartPgcdc(WriteConfig({"public.t"}, "", Mode("when_needed")));
  Sql("INSERT INTO t VALUES (5000, 'after')");
  WaitCaughtUp();
  StopPgcdc(again);
  EXPECT_THAT(again.ReadLog(), HasSubstr("dropping it and starting over"));
  std::vector<ReadEvent> events = ReadTopic("public.t");
  EXPECT_EQ(WithOp(events, v1::READ).size(), 100u + 100u + 101u);
  ExpectTopicIsTable("t", events);
}

TEST_F(SnapshotTest, AlwaysSnapshotsOnAnExistingSlot) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  std::string config = WriteConfig({"public.t"}, "", Mode("always"));
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  StopPgcdc(p);
  // Changes while pgcdc is down: replayed by the stream, and also in the
  // second snapshot.
  Sql("UPDATE t SET v = 'while down' WHERE id <= 50");
  Sql("DELETE FROM t WHERE id > 90");
  Subprocess again = StartPgcdc(config);
  Sql("UPDATE t SET v = 'after' WHERE id = 1");
  WaitCaughtUp();
  StopPgcdc(again);
  std::vector<ReadEvent> events = ReadTopic("public.t");
  std::map<uint64_t, int> reads_by_point;
  for (const ReadEvent* r : WithOp(events, v1::READ)) {
    ++reads_by_point[r->event.source().commit_lsn()];
  }
  ASSERT_EQ(reads_by_point.size(), 2u);
  EXPECT_EQ(reads_by_point.begin()->second, 100);
  EXPECT_EQ(reads_by_point.rbegin()->second, 90);
  // The replayed changes overlap the second snapshot; applied in topic
  // order the table still comes out right.
  ExpectTopicIsTable("t", events, /*in_order=*/false);
  // And every replayed change is recognisably older than the snapshot that
  // follows it: its commit_lsn is below the snapshot's consistent point.
  const uint64_t second = reads_by_point.rbegin()->first;
  int older = 0;
  for (const ReadEvent& e : events) {
    if (e.event.op() != v1::READ && e.event.source().commit_lsn() < second) {
      ++older;
    }
  }
  EXPECT_EQ(older, 50 + 10);
}

// Random upserts, range updates and deletes of accounts with ids below
// `ids`, as a Load.
Load::ChangeFn AccountsChanges(int ids) {
  return [ids](std::mt19937& rng, int i) {
    return RandomAccountsChange(rng, i, ids);
  };
}

// The rows done that a resumed snapshot starts from, as its log says
// ("resuming a snapshot from its journal: ...; public.t after 123 rows").
int64_t ResumedRows(const std::string& log) {
  const std::string marker = " after ";
  size_t at = log.rfind("resuming a snapshot from its journal");
  if (at == std::string::npos) return -1;
  at = log.find(marker, at);
  if (at == std::string::npos) return -1;
  return std::atoll(log.c_str() + at + marker.size());
}

// `pgcdc snapshot` while pgcdc streams a table under live writes: chunks
// interleave with the changes, and the topic — which before it held only
// the changes since the slot was made — rebuilds the whole table.
TEST_F(SnapshotTest, IncrementalSnapshotUnderLiveWritesRebuildsTheTable) {
  constexpr int kIds = 20000;
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)");
  Sql(
      absl::StrCat("INSERT INTO accounts SELECT g, g, 'n' || g FROM "
                   "generate_series(1, ",
                   kIds, ") g"));
  std::string config = WriteConfig(
      {"public.accounts"}, "", "snapshot:\n  mode: never\n  chunk_rows: 500\n");
  Subprocess p = StartPgcdc(config);
  Load writer(cluster_->Dsn(db_), AccountsChanges(kIds + 2000), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "accounts",
                      "--id", "live"},
                     &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("requested snapshot \"live\" of "
                                "public.accounts"));
  ASSERT_TRUE(WaitForLog(p, "snapshot \"live\": public.accounts read", 120000))
      << p.ReadLog();
  writer.Stop();
  EXPECT_EQ(writer.failed(), 0);
  EXPECT_GT(writer.committed(), 100);
  // Caught up: once done, the journal no longer holds the slot back.
  WaitCaughtUp();
  StopPgcdc(p);

  std::vector<ReadEvent> events = ReadTopic("public.accounts");
  std::vector<const ReadEvent*> reads = WithOp(events, v1::READ);
  EXPECT_GT(reads.size(), static_cast<size_t>(kIds / 2));
  std::set<uint64_t> chunks;
  for (const ReadEvent* r : reads) {
    EXPECT_TRUE(r->event.source().snapshot());
    chunks.insert(r->event.source().commit_lsn());
  }
  // A chunk reads at most chunk_rows (500); the racing deletes decide how
  // many rows there are left to read.
  EXPECT_GE(chunks.size(), reads.size() / 500);
  ExpectTopicIsTable("accounts", events);

  // Bad requests are refused by the command, before they reach the WAL.
  EXPECT_EQ(
      RunPgcdc({"snapshot", "--config", config, "--table", "other"}, &output),
      2);
  EXPECT_THAT(output, HasSubstr("\"other\" is not one of source.tables"));
  EXPECT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "accounts",
                      "--where", "no_such_column > 1"},
                     &output),
            2);
  EXPECT_THAT(output, HasSubstr("--where does not work on public.accounts"));
}

// Chunks hold their rows in memory until their high watermark comes back,
// so a chunk stops at kafka.max_inflight_bytes whatever snapshot.chunk_rows
// says, and the next one starts after its last row.
// A transaction is committed (its commit record flushed, the walsender free
// to send it) before it becomes visible: with synchronous replication it
// stays invisible until a standby answers. Here a DELETE waits for a
// standby that does not exist while the stream delivers it; a chunk read
// then would still see the row, and publish it after its DELETE. pgcdc
// waits until the chunk's snapshot sees every transaction the stream
// delivered before the low watermark.
TEST_F(SnapshotTest, AChunkSeesEveryTransactionTheStreamDelivered) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g");
  // Commits wait for no standby, but in the session that asks for it.
  Sql(absl::StrCat("ALTER DATABASE ", db_, " SET synchronous_commit = local"));
  Sql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
  Sql("SELECT pg_reload_conf()");
  const std::string config = WriteConfig({"public.t"});
  Subprocess p = StartPgcdc(config);
  WaitCaughtUp();
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> waiting =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  std::thread deleter([&] {
    EXPECT_TRUE((*waiting)
                    ->Query("SET synchronous_commit = on; "
                            "DELETE FROM t WHERE id = 5")
                    .ok());
  });
  auto deleted = [&] {
    for (const ReadEvent& e : ReadTopic("public.t")) {
      if (e.event.op() == v1::DELETE) return true;
    }
    return false;
  };
  const bool streamed = WaitFor(deleted, 30000);
  // Delivered, yet invisible: the row is still there for everyone else.
  const bool invisible = !Rows("SELECT 1 FROM t WHERE id = 5").empty();
  bool requested = false;
  if (streamed && invisible) {
    std::string output;
    requested = RunPgcdc({"snapshot", "--config", config, "--table", "public.t",
                          "--id", "during"},
                         &output) == 0;
    EXPECT_TRUE(requested) << output;
  }
  // The chunk waits for the DELETE to become visible (it gives up for a
  // while after a thousand snapshots that missed it).
  const bool waited = requested && WaitForLog(p, "trying again in", 60000);
  Sql("ALTER SYSTEM RESET synchronous_standby_names");
  Sql("SELECT pg_reload_conf()");
  deleter.join();
  ASSERT_TRUE(streamed) << p.ReadLog();
  ASSERT_TRUE(invisible) << "the DELETE was visible before any standby "
                            "answered";
  ASSERT_TRUE(waited) << p.ReadLog();
  ASSERT_TRUE(WaitForLog(p, "snapshot \"during\": public.t read", 60000))
      << p.ReadLog();
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr("stayed invisible to every snapshot"));
  ExpectTopicIsTable("t", ReadTopic("public.t"), /*in_order=*/false);
}

TEST_F(SnapshotTest, IncrementalChunksStayWithinTheMemoryBudget) {
  Sql("CREATE TABLE wide (id int PRIMARY KEY, pad text)");
  Sql("INSERT INTO wide SELECT g, repeat('w', 300) FROM "
      "generate_series(1, 4000) g");
  std::string config =
      WriteConfig({"public.wide"}, "  max_inflight_bytes: 65536\n",
                  "snapshot:\n  mode: never\n  chunk_rows: 100000\n");
  Subprocess p = StartPgcdc(config);
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "wide", "--id",
                      "budget"},
                     &output),
            0)
      << output;
  ASSERT_TRUE(WaitForLog(p, "snapshot \"budget\": public.wide read", 60000))
      << p.ReadLog();
  WaitCaughtUp();
  StopPgcdc(p);
  std::vector<ReadEvent> events = ReadTopic("public.wide");
  std::set<uint64_t> chunks;
  for (const ReadEvent* r : WithOp(events, v1::READ)) {
    chunks.insert(r->event.source().commit_lsn());
  }
  EXPECT_EQ(WithOp(events, v1::READ).size(), 4000u);
  // ~1.2 MB of rows in chunks of at most ~64 KiB.
  EXPECT_GE(chunks.size(), 15u);
  ExpectTopicIsTable("wide", events);
}

// kill -9 in the middle of an incremental snapshot: the journal in the WAL
// brings the next start back to about where it was, not to the first row,
// and the topic still rebuilds the table. A --where condition limits the
// rows read.
TEST_F(SnapshotTest, KilledDuringAnIncrementalSnapshotResumesFromItsJournal) {
  constexpr int kIds = 30000;
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)");
  Sql(
      absl::StrCat("INSERT INTO accounts SELECT g, g, 'n' || g FROM "
                   "generate_series(1, ",
                   kIds, ") g"));
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 10);
  const int metrics_port = FreePort();
  std::string config =
      WriteConfig({"public.accounts"}, "",
                  absl::StrCat("snapshot:\n  mode: never\n  chunk_rows: 300\n",
                               MetricsOn(metrics_port)));
  Subprocess first = StartPgcdc(config);
  Load writer(cluster_->Dsn(db_), AccountsChanges(kIds + 2000), 2);
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "accounts",
                      "--id", "resume"},
                     &output),
            0)
      << output;
  auto snapshot_rows = [&] {
    return MetricValue(HttpGet(metrics_port, "/metrics"),
                       "pgcdc_snapshot_rows_total{table=\"public.accounts\"}");
  };
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (snapshot_rows() < kIds * 0.4 &&
         std::chrono::steady_clock::now() < deadline && first.Running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double before_kill = snapshot_rows();
  ASSERT_GE(before_kill, kIds * 0.4) << first.ReadLog();
  first.Signal(SIGKILL);
  ASSERT_EQ(first.Wait(10000), std::optional<int>(128 + SIGKILL));

  Subprocess second = StartPgcdc(config);
  ASSERT_TRUE(WaitForLog(second, "resuming a snapshot from its journal", 60000))
      << second.ReadLog();
  ASSERT_TRUE(
      WaitForLog(second, "snapshot \"resume\": public.accounts read", 120000))
      << second.ReadLog();
  // Resumed, not restarted: from the rows the broker had acknowledged
  // (published rows run ahead of those by the in-flight window).
  const double second_rows = snapshot_rows();
  EXPECT_LT(second_rows, kIds * 0.85) << "read " << second_rows << " rows";
  EXPECT_GT(second_rows, 0);
  EXPECT_GE(ResumedRows(second.ReadLog()), kIds * 0.15) << second.ReadLog();
  EXPECT_THAT(second.ReadLog(),
              HasSubstr("snapshot \"resume\": public.accounts "));
  EXPECT_THAT(second.ReadLog(), HasSubstr("1 table(s) left;"));
  writer.Stop();
  EXPECT_EQ(writer.failed(), 0);
  WaitCaughtUp();
  StopPgcdc(second);
  ExpectTopicIsTable("accounts", ReadTopic("public.accounts"),
                     /*in_order=*/false);
}

// A new slot's snapshot stopped (SIGTERM) and then, while resuming, killed
// (SIGKILL), with writes racing it all along: each start resumes from the
// journal in the WAL rather than from the first row, and the topic ends up
// rebuilding the table.
TEST_F(SnapshotTest, InterruptedInitialSnapshotResumesFromItsJournal) {
  constexpr int kIds = 60000;
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)");
  Sql(
      absl::StrCat("INSERT INTO accounts SELECT g, g, repeat('y', 60) FROM "
                   "generate_series(1, ",
                   kIds, ") g"));
  const int metrics_port = FreePort();
  std::string config = WriteConfig(
      {"public.accounts"}, "  max_inflight_bytes: 65536\n",
      absl::StrCat("snapshot:\n  chunk_rows: 1000\n", MetricsOn(metrics_port)));
  auto snapshot_rows = [&] {
    return MetricValue(HttpGet(metrics_port, "/metrics"),
                       "pgcdc_snapshot_rows_total{table=\"public.accounts\"}");
  };
  auto wait_rows = [&](Subprocess& p, double rows) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (snapshot_rows() < rows && p.Running() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return snapshot_rows();
  };
  Load writer(cluster_->Dsn(db_), AccountsChanges(kIds + 2000), 2);
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 30);

  ++runs_;
  absl::StatusOr<Subprocess> first =
      Subprocess::Start({PGCDC_BINARY, "run", "--config", config},
                        absl::StrCat(dir_, "/pgcdc-", runs_, ".log"));
  ASSERT_TRUE(first.ok());
  EXPECT_GE(wait_rows(*first, kIds * 0.3), kIds * 0.3) << first->ReadLog();
  StopPgcdc(*first);
  EXPECT_TRUE(SlotExists());

  Subprocess second = StartPgcdc(config);
  ASSERT_TRUE(WaitForLog(second, "resuming a snapshot from its journal", 60000))
      << second.ReadLog();
  EXPECT_GE(wait_rows(second, kIds * 0.2), kIds * 0.2) << second.ReadLog();
  second.Signal(SIGKILL);
  ASSERT_EQ(second.Wait(10000), std::optional<int>(128 + SIGKILL));

  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 0);
  Subprocess third = StartPgcdc(config);
  ASSERT_TRUE(WaitForLog(third, "public.accounts read", 120000))
      << third.ReadLog();
  const double third_rows = snapshot_rows();
  EXPECT_LT(third_rows, kIds * 0.75) << "resumed, not restarted";
  EXPECT_GE(ResumedRows(third.ReadLog()), kIds * 0.25) << third.ReadLog();
  writer.Stop();
  EXPECT_EQ(writer.failed(), 0);
  WaitCaughtUp(60000);
  StopPgcdc(third);
  ExpectTopicIsTable("accounts", ReadTopic("public.accounts"),
                     /*in_order=*/false);
}

// A table added to source.tables of a running setup: on the next start
// pgcdc asks for an incremental snapshot of it (in the WAL), adds it to the
// publication and publishes its existing rows while it streams.
TEST_F(SnapshotTest, TableAddedToTheConfigIsSnapshottedWhileStreaming) {
  Sql("CREATE TABLE a (id int PRIMARY KEY, v text)");
  Sql("CREATE TABLE b (id int PRIMARY KEY, v text)");
  Sql("INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 100) g");
  Sql("INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 3000) g");
  std::string only_a = WriteConfig({"public.a"});
  Subprocess first = StartPgcdc(only_a);
  WaitCaughtUp();
  StopPgcdc(first);
  Sql("UPDATE b SET v = 'before' WHERE id <= 10");  // not published yet

  std::string both = WriteConfig({"public.a", "public.b"});
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", both}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("lacks public.b: run will add them"));
  Subprocess second = StartPgcdc(both);
  Sql("UPDATE b SET v = 'during' WHERE id BETWEEN 5 AND 20");
  Sql("DELETE FROM b WHERE id > 2990");
  ASSERT_TRUE(WaitForLog(second, "public.b read", 60000)) << second.ReadLog();
  EXPECT_THAT(second.ReadLog(), HasSubstr("adding public.b to publication"));
  Sql("INSERT INTO b VALUES (5000, 'after')");
  WaitCaughtUp();
  StopPgcdc(second);
  std::vector<ReadEvent> events = ReadTopic("public.b");
  // Every row but those the racing UPDATE (16 rows) and DELETE (10) changed
  // while, or before, their chunk was read: how many of those 26 are read
  // depends on the timing.
  EXPECT_GE(WithOp(events, v1::READ).size(), 3000u - 16u - 10u);
  EXPECT_LE(WithOp(events, v1::READ).size(), 3000u);
  ExpectTopicIsTable("b", events);
  // Table a was not read again.
  EXPECT_EQ(WithOp(ReadTopic("public.a"), v1::READ).size(), 100u);
}

}  // namespace
}  // namespace cdc::testing
