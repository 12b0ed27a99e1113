// End-to-end tests of `pgcdc run`: a real PostgreSQL 15, the real Kafka
// protocol (librdkafka's mock cluster) and a real consumer reading back.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
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

double Metric(int port, const std::string& name) {
  return MetricValue(HttpGet(port, "/metrics"), name);
}

// The position pgcdc logged last as confirmed to the slot ("confirmed
// 0/1A2B3C4 to slot ..." when it stops); kInvalidLsn when there is none.
Lsn LoggedConfirmed(const std::string& log) {
  Lsn lsn = kInvalidLsn;
  const std::regex confirmed(R"(confirmed ([0-9A-F]+/[0-9A-F]+) to slot)");
  for (std::sregex_iterator it(log.begin(), log.end(), confirmed), end;
       it != end; ++it) {
    absl::StatusOr<Lsn> parsed = ParseLsn((*it)[1].str());
    if (parsed.ok()) lsn = *parsed;
  }
  return lsn;
}

// What the server's WAL says of one committed transaction (pg_walinspect).
struct WalTxn {
  Lsn change = kInvalidLsn;  // start of its (only) heap record of `kind`
  Lsn commit = kInvalidLsn;  // start of its commit record
  Lsn end = kInvalidLsn;     // end of its commit record
  int64_t commit_ts_us = 0;  // its commit timestamp, Unix microseconds
};

TEST_F(PgcdcTest, InsertUpdateDeleteWithPrimaryKey) {
  // pg_walinspect reads back the WAL records, so that LSNs, xids and commit
  // timestamps can be checked exactly.
  Sql("CREATE EXTENSION pg_walinspect");
  Sql("CREATE TABLE customers (id int PRIMARY KEY, name text, "
      "balance numeric(10,2), active bool, photo bytea)");
  int metrics_port = FreePort();
  // No snapshot (the table is empty anyway): the snapshot's journal is
  // written as transactions of pgcdc's own, some of them while the stream
  // runs, which would make what pgcdc receives, and the metrics below,
  // depend on timing.
  std::string config =
      WriteConfig({"public.customers"}, "",
                  absl::StrCat("metrics:\n  listen: \"127.0.0.1:", metrics_port,
                               "\"\nsnapshot:\n  mode: never\n"));
  Subprocess p = StartPgcdc(config);
  const Lsn from = WalLsn();
  Sql("INSERT INTO customers VALUES (1, 'Ada', 12.50, true, '\\x00ff'), "
      "(2, 'Bob', NULL, false, NULL)");
  const auto before_stream = std::chrono::system_clock::now();
  std::vector<pg::SqlRow> update_xid = Rows(
      "UPDATE customers SET name = 'Ada L.', balance = 13.75 WHERE id = 1 "
      "RETURNING pg_current_xact_id()::xid");
  std::vector<pg::SqlRow> delete_xid = Rows(
      "DELETE FROM customers WHERE id = 2 RETURNING pg_current_xact_id()::xid");
  WaitCaughtUp();
  const auto after_stream = std::chrono::system_clock::now();
  ASSERT_EQ(update_xid.size(), 1u);
  ASSERT_EQ(delete_xid.size(), 1u);
  // The transaction `xid`'s heap record of type `kind` and commit record.
  auto wal_txn = [&](const std::string& xid, const std::string& kind) {
    WalTxn txn;
    const std::string records = absl::StrCat(
        "FROM pg_get_wal_records_info('", FormatLsn(from),
        "', pg_current_wal_flush_lsn()) WHERE xid = '", xid, "'::xid");
    std::vector<pg::SqlRow> change = Rows(absl::StrCat(
        "SELECT start_lsn ", records,
        " AND resource_manager = 'Heap' AND record_type LIKE '%", kind, "%'"));
    EXPECT_EQ(change.size(), 1u) << kind << " of " << xid;
    // The description of a commit record starts with its timestamp, printed
    // in the session's time zone.
    std::vector<pg::SqlRow> commit = Rows(absl::StrCat(
        "SET TimeZone = 'UTC'; SELECT start_lsn, end_lsn, (extract(epoch FROM "
        "split_part(description, ';', 1)::timestamptz) * 1000000)::int8 ",
        records,
        " AND resource_manager = 'Transaction' AND record_type = 'COMMIT'"));
    EXPECT_EQ(commit.size(), 1u) << "commit of " << xid;
    if (change.size() == 1 && commit.size() == 1) {
      txn.change = ParseLsn(change[0][0].value_or("")).value_or(kInvalidLsn);
      txn.commit = ParseLsn(commit[0][0].value_or("")).value_or(kInvalidLsn);
      txn.end = ParseLsn(commit[0][1].value_or("")).value_or(kInvalidLsn);
      txn.commit_ts_us = std::stoll(commit[0][2].value_or("0"));
    }
    return txn;
  };
  const std::string update_txid = update_xid[0][0].value_or("");
  const WalTxn updated = wal_txn(update_txid, "UPDATE");
  const WalTxn deleted = wal_txn(delete_xid[0][0].value_or(""), "DELETE");
  ASSERT_NE(updated.end, kInvalidLsn);
  ASSERT_NE(deleted.end, kInvalidLsn);

  std::vector<ReadEvent> events = ReadTopic("public.customers");
  ASSERT_EQ(events.size(), 4u);
  // Per key order: sort is unnecessary for a single key, but keys differ;
  // find events by op.
  std::vector<const ReadEvent*> creates, updates, deletes;
  for (const ReadEvent& e : events) {
    if (e.event.op() == v1::CREATE) creates.push_back(&e);
    if (e.event.op() == v1::UPDATE) updates.push_back(&e);
    if (e.event.op() == v1::DELETE) deletes.push_back(&e);
  }
  ASSERT_EQ(creates.size(), 2u);
  ASSERT_EQ(updates.size(), 1u);
  ASSERT_EQ(deletes.size(), 1u);

  const v1::ChangeEvent& up = updates[0]->event;
  EXPECT_EQ(up.source().connector(), "pgcdc");
  EXPECT_EQ(up.source().db(), db_);
  EXPECT_EQ(up.source().schema(), "public");
  EXPECT_EQ(up.source().table(), "customers");
  EXPECT_EQ(up.source().lsn(), updated.change);
  EXPECT_EQ(up.source().commit_lsn(), updated.commit);
  EXPECT_EQ(std::to_string(up.source().txid()), update_txid);
  EXPECT_EQ(up.source().commit_ts_us(), updated.commit_ts_us);
  EXPECT_EQ(up.source().seq(), 0u);
  EXPECT_FALSE(up.source().snapshot());
  // When pgcdc built the event, by this machine's clock: only bounds are
  // known.
  EXPECT_GE(up.ts_ms(), std::chrono::duration_cast<std::chrono::milliseconds>(
                            before_stream.time_since_epoch())
                            .count());
  EXPECT_LE(up.ts_ms(), std::chrono::duration_cast<std::chrono::milliseconds>(
                            after_stream.time_since_epoch())
                            .count());
  EXPECT_FALSE(up.has_before()) << "default replica identity: no old image "
                                   "unless the key changed";
  const v1::Column* name = FindColumn(up.after(), "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->value().text(), "Ada L.");
  EXPECT_EQ(name->type(), "text");
  const v1::Column* balance = FindColumn(up.after(), "balance");
  ASSERT_NE(balance, nullptr);
  EXPECT_EQ(balance->value().numeric_value().value(), "13.75");
  EXPECT_EQ(balance->value().numeric_value().scale(), 2);
  EXPECT_EQ(FindColumn(up.after(), "active")->value().bool_value(), true);
  EXPECT_EQ(FindColumn(up.after(), "photo")->value().bytes_value(),
            std::string("\x00\xff", 2));
  ASSERT_TRUE(updates[0]->key.has_value());
  ASSERT_EQ(updates[0]->key->columns_size(), 1);
  EXPECT_EQ(updates[0]->key->columns(0).name(), "id");
  EXPECT_EQ(updates[0]->key->columns(0).value().int_value(), 1);

  // Bob's NULLs are SQL NULL, not empty values.
  const ReadEvent* bob = creates[0]->key->columns(0).value().int_value() == 2
                             ? creates[0]
                             : creates[1];
  EXPECT_TRUE(FindColumn(bob->event.after(), "balance")->value().has_null());
  EXPECT_TRUE(FindColumn(bob->event.after(), "photo")->value().has_null());
  // Both inserts are one transaction: same commit_lsn, seq 0 and 1.
  EXPECT_EQ(creates[0]->event.source().commit_lsn(),
            creates[1]->event.source().commit_lsn());
  EXPECT_NE(creates[0]->event.source().seq(), creates[1]->event.source().seq());

  const v1::ChangeEvent& del = deletes[0]->event;
  EXPECT_EQ(del.source().lsn(), deleted.change);
  EXPECT_EQ(del.source().commit_lsn(), deleted.commit);
  EXPECT_FALSE(del.has_after());
  ASSERT_TRUE(del.has_before());
  EXPECT_EQ(FindColumn(del.before(), "id")->value().int_value(), 2);
  EXPECT_EQ(FindColumn(del.before(), "name"), nullptr)
      << "only key columns in a default-identity old image";
  EXPECT_EQ(deletes[0]->key->columns(0).value().int_value(), 2);
  // Same key → same partition.
  EXPECT_EQ(deletes[0]->partition, bob->partition);

  const std::string metrics = HttpGet(metrics_port, "/metrics");
  EXPECT_EQ(MetricValue(
                metrics,
                "pgcdc_events_total{op=\"create\",table=\"public.customers\"}"),
            2);
  EXPECT_EQ(MetricValue(
                metrics,
                "pgcdc_events_total{op=\"update\",table=\"public.customers\"}"),
            1);
  EXPECT_EQ(MetricValue(
                metrics,
                "pgcdc_events_total{op=\"delete\",table=\"public.customers\"}"),
            1);
  // The insert, the update and the delete. WaitCaughtUp's transaction
  // changes no published table and carries no message: the server does not
  // send it.
  EXPECT_EQ(MetricValue(metrics, "pgcdc_transactions_total"), 3);
  EXPECT_EQ(MetricValue(metrics, "pgcdc_connected"), 1);
  EXPECT_EQ(MetricValue(metrics, "pgcdc_inflight_events"), 0);
  EXPECT_EQ(MetricValue(metrics, "pgcdc_inflight_bytes"), 0);
  // The newest message received is the delete's Commit, which the server
  // sends at the end of its commit record.
  EXPECT_EQ(MetricValue(metrics, "pgcdc_received_lsn"),
            static_cast<double>(deleted.end))
      << "the delete's commit record ends at " << FormatLsn(deleted.end);
  // What pgcdc confirmed is what the slot says, once the status update that
  // carries it is sent (every status_interval_ms: 1 s here). Keepalives may
  // move both on meanwhile, not apart.
  double confirmed = -1;
  Lsn slot_confirmed = kInvalidLsn;
  EXPECT_TRUE(WaitFor(
      [&] {
        confirmed = Metric(metrics_port, "pgcdc_confirmed_lsn");
        slot_confirmed =
            cluster_->ConfirmedFlush(db_, slot_).value_or(kInvalidLsn);
        return confirmed == static_cast<double>(slot_confirmed);
      },
      10000))
      << "pgcdc_confirmed_lsn " << confirmed << ", slot confirmed_flush_lsn "
      << FormatLsn(slot_confirmed) << " (" << slot_confirmed << ")";
  EXPECT_GE(confirmed, static_cast<double>(deleted.end));
  StopPgcdc(p);
  // After a clean stop the slot holds exactly what pgcdc last confirmed.
  absl::StatusOr<Lsn> stopped_at = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(stopped_at.ok()) << stopped_at.status();
  EXPECT_EQ(*stopped_at, LoggedConfirmed(p.ReadLog())) << p.ReadLog();
  EXPECT_GE(*stopped_at, slot_confirmed);
}

// Events of several partitions in commit order.
void SortByCommit(std::vector<ReadEvent>* events) {
  std::sort(events->begin(), events->end(),
            [](const ReadEvent& x, const ReadEvent& y) {
              return std::make_pair(x.event.source().commit_lsn(),
                                    x.event.source().seq()) <
                     std::make_pair(y.event.source().commit_lsn(),
                                    y.event.source().seq());
            });
}

TEST_F(PgcdcTest, ReplicaIdentityFullGivesWholeOldRow) {
  Sql("CREATE TABLE orders (id int PRIMARY KEY, status text, qty int)");
  Sql("ALTER TABLE orders REPLICA IDENTITY FULL");
  Subprocess p = StartPgcdc(WriteConfig({"public.orders"}));
  Sql("INSERT INTO orders VALUES (7, 'new', 3)");
  Sql("UPDATE orders SET status = 'paid' WHERE id = 7");
  Sql("UPDATE orders SET id = 8 WHERE id = 7");
  Sql("DELETE FROM orders WHERE id = 8");
  WaitCaughtUp();
  std::vector<ReadEvent> events = ReadTopic("public.orders");
  // The key change is a DELETE of 7 and a CREATE of 8.
  ASSERT_EQ(events.size(), 5u);
  SortByCommit(&events);
  const v1::ChangeEvent& up = events[1].event;
  ASSERT_EQ(up.op(), v1::UPDATE);
  ASSERT_TRUE(up.has_before());
  EXPECT_EQ(FindColumn(up.before(), "status")->value().text(), "new");
  EXPECT_EQ(FindColumn(up.before(), "qty")->value().int_value(), 3);
  EXPECT_EQ(FindColumn(up.after(), "status")->value().text(), "paid");
  // Key is the primary key, not every column FULL flags.
  ASSERT_TRUE(events[1].key.has_value());
  EXPECT_EQ(events[1].key->columns_size(), 1);
  ASSERT_EQ(events[2].event.op(), v1::DELETE);
  EXPECT_EQ(FindColumn(events[2].event.before(), "status")->value().text(),
            "paid");
  EXPECT_EQ(events[2].key->columns(0).value().int_value(), 7);
  ASSERT_EQ(events[3].event.op(), v1::CREATE);
  EXPECT_EQ(events[3].key->columns(0).value().int_value(), 8);
  EXPECT_EQ(events[2].event.source().commit_lsn(),
            events[3].event.source().commit_lsn());
  const v1::ChangeEvent& del = events[4].event;
  ASSERT_EQ(del.op(), v1::DELETE);
  EXPECT_EQ(FindColumn(del.before(), "status")->value().text(), "paid");
  EXPECT_EQ(FindColumn(del.before(), "id")->value().int_value(), 8);
  StopPgcdc(p);
}

TEST_F(PgcdcTest, SchemaChangesWhileStreaming) {
  Sql("CREATE TABLE evolving (id int PRIMARY KEY, a text, b int)");
  Subprocess p = StartPgcdc(WriteConfig({"public.evolving"}));
  Sql("INSERT INTO evolving VALUES (1, 'one', 1)");
  Sql("ALTER TABLE evolving ADD COLUMN c numeric(6,2) DEFAULT 0");
  Sql("INSERT INTO evolving VALUES (2, 'two', 2, 2.50)");
  Sql("ALTER TABLE evolving RENAME COLUMN a TO label");
  Sql("UPDATE evolving SET label = 'uno' WHERE id = 1");
  Sql("ALTER TABLE evolving DROP COLUMN b");
  Sql("INSERT INTO evolving VALUES (3, 'three', 3.75)");
  Sql("ALTER TABLE evolving ALTER COLUMN c TYPE text");
  // In one transaction: a change before and after the DDL.
  Sql("BEGIN; INSERT INTO evolving VALUES (4, 'four', 'x'); "
      "ALTER TABLE evolving ADD COLUMN d bool; "
      "INSERT INTO evolving VALUES (5, 'five', 'y', true); COMMIT");
  WaitCaughtUp();
  std::vector<ReadEvent> events = ReadTopic("public.evolving");
  ASSERT_EQ(events.size(), 6u);
  SortByCommit(&events);
  auto names = [](const v1::Row& row) {
    std::vector<std::string> out;
    for (const v1::Column& c : row.columns()) out.push_back(c.name());
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(events[0].event.after()), (Names{"id", "a", "b"}));
  EXPECT_EQ(names(events[1].event.after()), (Names{"id", "a", "b", "c"}));
  EXPECT_EQ(
      FindColumn(events[1].event.after(), "c")->value().numeric_value().value(),
      "2.50");
  EXPECT_EQ(names(events[2].event.after()), (Names{"id", "label", "b", "c"}));
  EXPECT_EQ(FindColumn(events[2].event.after(), "label")->value().text(),
            "uno");
  EXPECT_EQ(names(events[3].event.after()), (Names{"id", "label", "c"}));
  EXPECT_EQ(FindColumn(events[4].event.after(), "c")->value().text(), "x");
  EXPECT_EQ(FindColumn(events[4].event.after(), "c")->type(), "text");
  EXPECT_EQ(names(events[5].event.after()), (Names{"id", "label", "c", "d"}));
  // Every shape its own id; the same shape keeps its id.
  std::set<uint64_t> ids;
  for (const ReadEvent& e : events) ids.insert(e.event.source().shape_id());
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids.count(0), 0u);
  // Rebuilding from the topic gives the table as it is now.
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok());
  absl::StatusOr<TableImage> source = SelectTable(**conn, "evolving", {"id"});
  ASSERT_TRUE(source.ok());
  TableImage rebuilt = Rebuild(events);
  // A row last written before a column was added lacks that column (the
  // event said what the row was then); every column it has matches.
  EXPECT_EQ(rebuilt.size(), source->size());
  EXPECT_EQ(rebuilt["id=5"], (*source)["id=5"]);
  for (const auto& [column, value] : rebuilt["id=4"]) {
    EXPECT_EQ(value, (*source)["id=4"][column]) << column;
  }
  StopPgcdc(p);
}

TEST_F(PgcdcTest, PartitionedTablePublishesThroughItsRoot) {
  Sql("CREATE TABLE measurements (id int, day date, v int, "
      "PRIMARY KEY (id, day)) PARTITION BY RANGE (day)");
  Sql("CREATE TABLE measurements_2025 PARTITION OF measurements "
      "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')");
  Sql("CREATE TABLE measurements_2026 PARTITION OF measurements "
      "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')");
  Subprocess p = StartPgcdc(WriteConfig({"public.measurements"}));
  Sql("INSERT INTO measurements VALUES (1, '2025-06-01', 10), "
      "(2, '2026-06-01', 20)");
  Sql("UPDATE measurements SET day = '2026-07-01' WHERE id = 1");
  WaitCaughtUp();
  std::vector<ReadEvent> events = ReadTopic("public.measurements");
  // Two inserts, and the update that moved a row between partitions (a
  // key change: DELETE + CREATE).
  ASSERT_EQ(events.size(), 4u);
  for (const ReadEvent& e : events) {
    EXPECT_EQ(e.event.source().table(), "measurements");
    ASSERT_TRUE(e.key.has_value());
    EXPECT_EQ(e.key->columns_size(), 2);
  }
  std::vector<pg::SqlRow> via_root =
      Rows("SELECT pubviaroot FROM pg_publication");
  ASSERT_EQ(via_root.size(), 1u);
  EXPECT_EQ(*via_root[0][0], "t");
  StopPgcdc(p);
}

TEST_F(PgcdcTest, PreparedTransactionsArePublishedOnlyOnceCommitted) {
  UseCluster("-c max_prepared_transactions=10");
  Sql("CREATE TABLE ledger (id int PRIMARY KEY, v text)");
  Subprocess p = StartPgcdc(WriteConfig({"public.ledger"}));
  Sql("BEGIN; INSERT INTO ledger VALUES (1, 'kept'); "
      "PREPARE TRANSACTION 'keep'");
  Sql("BEGIN; INSERT INTO ledger VALUES (2, 'dropped'); "
      "PREPARE TRANSACTION 'drop'");
  Sql("INSERT INTO ledger VALUES (3, 'plain')");
  WaitCaughtUp();
  // Prepared but not committed: nothing of either is published yet.
  std::vector<ReadEvent> events = ReadTopic("public.ledger");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key->columns(0).value().int_value(), 3);
  Sql("COMMIT PREPARED 'keep'");
  Sql("ROLLBACK PREPARED 'drop'");
  WaitCaughtUp();
  events = ReadTopic("public.ledger");
  std::set<int64_t> ids;
  for (const ReadEvent& e : events) {
    ids.insert(e.key->columns(0).value().int_value());
  }
  EXPECT_EQ(ids, (std::set<int64_t>{1, 3}));
  StopPgcdc(p);
}

TEST_F(PgcdcTest, KeyChangeAsOneUpdateWhenConfigured) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
  Subprocess p = StartPgcdc(
      WriteConfig({"public.items"}, "", "events:\n  key_change: update\n"));
  Sql("INSERT INTO items VALUES (1, 'a')");
  Sql("UPDATE items SET id = 2 WHERE id = 1");
  WaitCaughtUp();
  std::vector<ReadEvent> events = ReadTopic("public.items");
  ASSERT_EQ(events.size(), 2u);
  SortByCommit(&events);
  const v1::ChangeEvent& up = events[1].event;
  ASSERT_EQ(up.op(), v1::UPDATE);
  // Default identity sends the old key when the key changes.
  ASSERT_TRUE(up.has_before());
  EXPECT_EQ(FindColumn(up.before(), "id")->value().int_value(), 1);
  EXPECT_EQ(FindColumn(up.after(), "id")->value().int_value(), 2);
  EXPECT_EQ(events[1].key->columns(0).value().int_value(), 2);
  StopPgcdc(p);
}

TEST_F(PgcdcTest, MultiTableTransactionKeepsCommitOrderAndSeq) {
  Sql("CREATE TABLE a (id int PRIMARY KEY, v text)");
  Sql("CREATE TABLE b (id int PRIMARY KEY, v text)");
  Subprocess p = StartPgcdc(WriteConfig({"public.a", "public.b"}));
  Sql("BEGIN; INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 'y'); "
      "INSERT INTO a VALUES (2, 'z'); UPDATE b SET v = 'w' WHERE id = 1; "
      "COMMIT");
  Sql("INSERT INTO b VALUES (2, 'later')");
  WaitCaughtUp();
  std::vector<ReadEvent> a = ReadTopic("public.a");
  std::vector<ReadEvent> b = ReadTopic("public.b");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 3u);
  uint64_t commit = a[0].event.source().commit_lsn();
  std::set<uint32_t> seqs;
  for (const auto* list : {&a, &b}) {
    for (const ReadEvent& e : *list) {
      if (e.event.source().commit_lsn() == commit) {
        EXPECT_TRUE(seqs.insert(e.event.source().seq()).second);
      }
    }
  }
  EXPECT_EQ(seqs, (std::set<uint32_t>{0, 1, 2, 3}));
  // The later transaction commits later.
  for (const ReadEvent& e : b) {
    if (e.key->columns(0).value().int_value() == 2) {
      EXPECT_GT(e.event.source().commit_lsn(), commit);
      EXPECT_EQ(e.event.source().seq(), 0u);
    }
  }
  StopPgcdc(p);
}

TEST_F(PgcdcTest, HundredThousandRowTransaction) {
  Sql("CREATE TABLE big (id int PRIMARY KEY, payload text)");
  Subprocess p = StartPgcdc(WriteConfig({"public.big"}));
  // The consumer reads while pgcdc produces: the mock broker keeps only about
  // 5 MB per partition.
  std::thread insert([&] {
    Sql("INSERT INTO big SELECT g, 'row ' || g "
        "FROM generate_series(1, 100000) g");
  });
  absl::StatusOr<std::unique_ptr<TopicCollector>> collector =
      TopicCollector::Start(broker_->bootstrap_servers(), Topic("public.big"));
  insert.join();
  ASSERT_TRUE(collector.ok()) << collector.status();
  WaitCaughtUp(120000);
  ASSERT_TRUE((*collector)->WaitFor(100000, 60000))
      << (*collector)->size() << " " << (*collector)->error();
  std::vector<ReadEvent> events = (*collector)->events();
  EXPECT_EQ(events.size(), 100000u);
  EXPECT_EQ(CheckOrderAndDuplicates(events), "");
  std::set<uint32_t> seqs;
  for (const ReadEvent& e : events) seqs.insert(e.event.source().seq());
  EXPECT_EQ(seqs.size(), 100000u);
  EXPECT_EQ(*seqs.rbegin(), 99999u);
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok());
  absl::StatusOr<TableImage> source = SelectTable(**conn, "big", {"id"});
  ASSERT_TRUE(source.ok());
  EXPECT_TRUE(RebuildsTo(events, *source));
  StopPgcdc(p);
}

TEST_F(PgcdcTest, QuietPublicationStillConfirmsKeepalivePosition) {
  Sql("CREATE TABLE watched (id int PRIMARY KEY)");
  Sql("CREATE TABLE other (id int PRIMARY KEY, v text)");
  Subprocess p = StartPgcdc(WriteConfig({"public.watched"}));
  Sql("INSERT INTO other SELECT g, repeat('x', 200) FROM "
      "generate_series(1, 20000) g");
  // Nothing published, yet the slot follows the server.
  WaitCaughtUp();
  StopPgcdc(p);
}

// The commit-to-ack histogram and pgcdc_behind_source_ms follow the stream
// after an initial snapshot too: a table's snapshot transaction, once
// confirmed, must not hide every later transaction from them.
TEST_F(PgcdcTest, CommitToAckIsMeasuredAfterAnInitialSnapshot) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, note text)");
  Sql("INSERT INTO items SELECT g, 'before' FROM generate_series(1, 10) g");
  const int port = FreePort();
  Subprocess p = StartPgcdc(WriteConfig({"public.items"}, "", MetricsOn(port)));
  for (int i = 11; i <= 30; ++i) {
    Sql(absl::StrCat("INSERT INTO items VALUES (", i, ", 'after')"));
  }
  WaitCaughtUp();
  const std::string metrics = HttpGet(port, "/metrics");
  // One observation per transaction committed while streaming (there may
  // be more: pgcdc's own journal and heartbeat messages).
  EXPECT_GE(MetricValue(metrics, "pgcdc_commit_to_ack_seconds_count"), 20);
  // Produced with a 2 ms linger: never acknowledged within the millisecond.
  EXPECT_GT(MetricValue(metrics, "pgcdc_behind_source_ms"), 0);
  StopPgcdc(p);
}

TEST_F(PgcdcTest, PermanentProduceErrorLeavesSlotWhereItWas) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
  std::string config = WriteConfig({"public.t"});
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO t VALUES (1, 'first')");
  WaitCaughtUp();
  absl::StatusOr<Lsn> before = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(before.ok());

  // Every produce request fails with a non-retriable error from now on.
  std::vector<rd_kafka_resp_err_t> errors(
      50, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  rd_kafka_mock_push_request_errors_array(broker_->mock(), /*Produce=*/0,
                                          errors.size(), errors.data());
  Sql("INSERT INTO t VALUES (2, 'second')");
  Lsn after_insert = WalLsn();
  std::optional<int> code = p.Wait(60000);
  ASSERT_TRUE(code.has_value()) << "pgcdc kept running after a permanent "
                                   "delivery failure";
  EXPECT_NE(*code, 0);
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr("delivery to topic test.public.t failed"));
  // It names the failed transaction's commit LSN.
  std::smatch named;
  ASSERT_TRUE(std::regex_search(
      log, named, std::regex("transaction committed at ([0-9A-F]+/[0-9A-F]+)")))
      << log;
  absl::StatusOr<Lsn> commit_lsn = ParseLsn(named[1].str());
  ASSERT_TRUE(commit_lsn.ok()) << commit_lsn.status();
  EXPECT_GT(*commit_lsn, *before);
  EXPECT_LT(*commit_lsn, after_insert);
  absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok());
  // Where exactly the slot stands is not known (a keepalive may have moved
  // it into the failed transaction's WAL, before its commit), only that it
  // did not pass the transaction nor go back.
  EXPECT_LT(*confirmed, after_insert)
      << "confirmed past an unacknowledged event";
  EXPECT_GE(*confirmed, *before);

  // With the broker healthy again, the next start replays the transaction.
  rd_kafka_mock_clear_request_errors(broker_->mock(), 0);
  Subprocess again = StartPgcdc(config);
  WaitCaughtUp();
  std::vector<ReadEvent> events = ReadTopic("public.t");
  std::set<int64_t> ids;
  for (const ReadEvent& e : events)
    ids.insert(e.key->columns(0).value().int_value());
  EXPECT_EQ(ids, (std::set<int64_t>{1, 2}));
  StopPgcdc(again);
}

// pgcdc killed (SIGKILL) five times while a load writes, each kill landing
// while the load is still writing and pgcdc holds events the broker has not
// acknowledged — which the test makes sure of rather than hopes for: just
// before each kill the broker stops answering, and the kill waits until
// pgcdc has produced events since (none of which can be acknowledged). The
// load runs throughout and stops only after the last kill.
TEST_F(PgcdcTest, KillNineUnderLoadLosesNothing) {
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)");
  const int port = FreePort();
  std::string config = WriteConfig({"public.accounts"}, "", MetricsOn(port));
  absl::StatusOr<std::unique_ptr<TopicCollector>> collector;
  // Slow acknowledgements between the kills, so that events are also
  // acknowledged but not yet confirmed at times.
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 30);
  Load load(
      cluster_->Dsn(db_),
      [](std::mt19937& rng, int i) {
        return RandomAccountsChange(rng, i, 200);
      },
      5);
  std::mt19937 rng(7);
  for (int kill = 0; kill < 5; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill + 1));
    Subprocess p = StartPgcdc(config);
    if (kill == 0) {
      collector = TopicCollector::Start(broker_->bootstrap_servers(),
                                        Topic("public.accounts"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
    // From here on nothing pgcdc produces is acknowledged before the kill.
    ASSERT_NO_FATAL_FAILURE(BrokerDown());
    const int committed_before = load.committed();
    ASSERT_TRUE(WaitFor(
        [&] {
          return load.committed() > committed_before &&
                 Metric(port, "pgcdc_inflight_events") > 0;
        },
        20000))
        << "the load committed " << load.committed() - committed_before
        << " statement(s) since the broker went down; pgcdc has "
        << Metric(port, "pgcdc_inflight_events") << " event(s) in flight\n"
        << p.ReadLog();
    const Lsn wal_at_kill = WalLsn();
    const int committed_at_kill = load.committed();
    p.Signal(SIGKILL);
    ASSERT_EQ(p.Wait(10000), std::optional<int>(128 + SIGKILL));
    // Nothing confirms the slot's position after the kill: at the kill it
    // was behind the WAL the load had written.
    absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
    ASSERT_TRUE(confirmed.ok()) << confirmed.status();
    EXPECT_LT(*confirmed, wal_at_kill);
    ASSERT_NO_FATAL_FAILURE(BrokerUp());
    // The load was writing across the kill.
    ASSERT_TRUE(
        WaitFor([&] { return load.committed() > committed_at_kill; }, 20000));
  }
  load.Stop();
  EXPECT_EQ(load.failed(), 0);
  Subprocess last = StartPgcdc(config);
  WaitCaughtUp(60000);
  StopPgcdc(last);
  ASSERT_TRUE(collector.ok()) << collector.status();
  absl::Status all = (*collector)->WaitForEnd(30000);
  ASSERT_TRUE(all.ok()) << all;
  std::vector<ReadEvent> events = (*collector)->events();
  EXPECT_EQ((*collector)->error(), "");
  EXPECT_EQ(CheckOrderAndDuplicates(events), "");
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok());
  absl::StatusOr<TableImage> source = SelectTable(**conn, "accounts", {"id"});
  ASSERT_TRUE(source.ok());
  TableImage rebuilt = Rebuild(events);
  EXPECT_EQ(rebuilt.size(), source->size());
  EXPECT_TRUE(RebuildsTo(events, *source));
}

TEST_F(PgcdcTest, ConfigErrorsExitTwoNamingKeyAndLine) {
  std::string path = dir_ + "/bad.yaml";
  {
    std::ofstream out(path);
    out << "source:\n  dsn: x\n  slot: s\n  publication: p\n  tables: [t]\n"
           "kafka:\n  bootstrap_servers: b\n  topic_prefix: x\n  bogus: 1\n";
  }
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", path}, &output), 2);
  EXPECT_THAT(output, HasSubstr("kafka.bogus"));
  EXPECT_THAT(output, HasSubstr(":9"));
}

// At start, a broker nobody answers for is an environment error (exit 3)
// naming the address, before any slot is made; outages later are waited
// out (faults_test.cc).
TEST_F(PgcdcTest, UnreachableBrokerAtStartIsAnEnvironmentError) {
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  std::string config =
      WriteConfig({"public.t"}, "  startup_timeout_ms: 1500\n");
  EditConfig(config, "bootstrap_servers: \"[^\"]*\"",
             "bootstrap_servers: \"127.0.0.1:1\"");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3);
  EXPECT_THAT(output, HasSubstr("Kafka at 127.0.0.1:1"));
  EXPECT_THAT(output, HasSubstr("kafka.startup_timeout_ms"));
  EXPECT_TRUE(Rows("SELECT 1 FROM pg_replication_slots").empty());
}

TEST_F(PgcdcTest, MissingTableIsAnEnvironmentError) {
  std::string output;
  EXPECT_EQ(
      RunPgcdc({"run", "--config", WriteConfig({"public.nope"})}, &output), 3);
  EXPECT_THAT(output, HasSubstr("public.nope"));
}

// A publication that carries a table the configuration does not list is
// someone else's (or a mistake): refused, naming both sides. (One that only
// lacks configured tables is extended: SnapshotTest.TableAddedToTheConfig...)
TEST_F(PgcdcTest, ExistingPublicationMustMatchTables) {
  Sql("CREATE TABLE x (id int PRIMARY KEY)");
  Sql("CREATE TABLE y (id int PRIMARY KEY)");
  Sql("CREATE TABLE z (id int PRIMARY KEY)");
  Sql("CREATE PUBLICATION pgcdc_pub FOR TABLE x, z");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", WriteConfig({"public.x", "public.y"})},
                     &output),
            3);
  EXPECT_THAT(output, HasSubstr("not published: public.y"));
  EXPECT_THAT(output, HasSubstr("published but not configured: public.z"));
}

TEST_F(PgcdcTest, StaysConnectedWithAShortWalSenderTimeout) {
  UseCluster("-c wal_sender_timeout=2s");
  Sql("CREATE TABLE q (id int PRIMARY KEY)");
  std::string config = WriteConfig({"public.q"});
  // An interval far beyond the server's timeout: pgcdc must cap it.
  EditConfig(config, "status_interval_ms: 1000", "status_interval_ms: 60000");
  Subprocess p = StartPgcdc(config);
  std::this_thread::sleep_for(std::chrono::seconds(6));  // three timeouts
  ASSERT_TRUE(p.Running()) << p.ReadLog();
  absl::StatusOr<bool> active = cluster_->SlotActive(db_, slot_);
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(*active);
  Sql("INSERT INTO q VALUES (1)");
  WaitCaughtUp();
  EXPECT_EQ(ReadTopic("public.q").size(), 1u);
  EXPECT_THAT(p.ReadLog(), HasSubstr("status updates every 500 ms"));
  EXPECT_THAT(p.ReadLog(), ::testing::Not(HasSubstr("ERROR")));
  StopPgcdc(p);
}

TEST_F(PgcdcTest, OddIdentifiersAreQuotedNotInjected) {
  Sql("CREATE SCHEMA \"Sales\"");
  Sql("CREATE TABLE \"Sales\".\"Order Items\" (\"Id\" int PRIMARY KEY, "
      "\"Note; DROP TABLE x\" text)");
  std::string config = WriteConfig({"\"Sales.Order Items\""});
  EditConfig(config, "publication: pgcdc_pub",
             "publication: \"pub \\\"odd\\\" 'name'\"");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO \"Sales\".\"Order Items\" VALUES (1, 'it''s')");
  WaitCaughtUp();
  std::vector<pg::SqlRow> pubs = Rows("SELECT pubname FROM pg_publication");
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(*pubs[0][0], "pub \"odd\" 'name'");
  // Characters Kafka does not allow in topic names become '_'.
  std::vector<ReadEvent> events = ReadTopic("Sales.Order_Items");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.source().schema(), "Sales");
  EXPECT_EQ(events[0].event.source().table(), "Order Items");
  EXPECT_EQ(
      FindColumn(events[0].event.after(), "Note; DROP TABLE x")->value().text(),
      "it's");
  StopPgcdc(p);
}

TEST_F(PgcdcTest, LogicalMessagesArePublishedByPrefix) {
  Sql("CREATE TABLE outbox_owner (id int PRIMARY KEY)");
  std::string config = WriteConfig({"public.outbox_owner"}, "",
                                   "messages:\n  prefixes: [outbox, audit]\n");
  Subprocess p = StartPgcdc(config);
  Sql("BEGIN; INSERT INTO outbox_owner VALUES (1); "
      "SELECT pg_logical_emit_message(true, 'outbox', 'order 1 placed'); "
      "SELECT pg_logical_emit_message(true, 'ignored', 'not published'); "
      "COMMIT");
  Sql("SELECT pg_logical_emit_message(false, 'audit', 'right away')");
  // A transactional message of a rolled-back transaction never happened;
  // a non-transactional one did.
  Sql("BEGIN; SELECT pg_logical_emit_message(true, 'outbox', 'rolled back'); "
      "SELECT pg_logical_emit_message(false, 'audit', 'despite rollback'); "
      "ROLLBACK");
  WaitCaughtUp();
  absl::StatusOr<std::vector<ReadEvent>> messages =
      ReadAll(broker_->bootstrap_servers(), "test.messages");
  ASSERT_TRUE(messages.ok()) << messages.status();
  std::map<std::string, const ReadEvent*> by_content;
  for (const ReadEvent& e : *messages) {
    EXPECT_EQ(e.event.op(), v1::MESSAGE);
    by_content[e.event.message().content()] = &e;
  }
  ASSERT_EQ(by_content.size(), 3u) << messages->size();
  ASSERT_TRUE(by_content.count("order 1 placed"));
  ASSERT_TRUE(by_content.count("right away"));
  ASSERT_TRUE(by_content.count("despite rollback"));
  const ReadEvent& placed = *by_content["order 1 placed"];
  EXPECT_TRUE(placed.event.message().transactional());
  EXPECT_EQ(placed.event.message().prefix(), "outbox");
  EXPECT_EQ(placed.key->columns(0).value().text(), "outbox");
  // It shares its transaction with the insert: same commit, next seq.
  std::vector<ReadEvent> rows = ReadTopic("public.outbox_owner");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(placed.event.source().commit_lsn(),
            rows[0].event.source().commit_lsn());
  EXPECT_EQ(placed.event.source().seq(), 1u);
  const ReadEvent& now = *by_content["right away"];
  EXPECT_FALSE(now.event.message().transactional());
  EXPECT_EQ(now.event.source().seq(), 0u);
  EXPECT_NE(now.event.source().commit_lsn(),
            by_content["despite rollback"]->event.source().commit_lsn());
  StopPgcdc(p);

  // Confirmed means sent: a restart publishes none of them again.
  Subprocess again = StartPgcdc(config);
  Sql("SELECT pg_logical_emit_message(false, 'audit', 'after restart')");
  WaitCaughtUp();
  StopPgcdc(again);
  absl::StatusOr<std::vector<ReadEvent>> all =
      ReadAll(broker_->bootstrap_servers(), "test.messages");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 4u);
}

TEST_F(PgcdcTest, RoleWithoutReplicationIsRefused) {
  Sql("CREATE TABLE r (id int PRIMARY KEY)");
  Sql("CREATE ROLE app LOGIN");
  Sql("GRANT SELECT ON r TO app");
  std::string config = WriteConfig({"public.r"});
  EditConfig(config, "user=postgres", "user=app");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3);
  EXPECT_THAT(output, HasSubstr("role \"app\" may not use replication"));
  EXPECT_THAT(output, HasSubstr("WITH REPLICATION"));
}

TEST_F(PgcdcTest, WalLevelNotLogicalIsRefused) {
  UseCluster("-c wal_level=replica");
  Sql("CREATE TABLE w (id int PRIMARY KEY)");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", WriteConfig({"public.w"})}, &output),
            3);
  EXPECT_THAT(output, HasSubstr("wal_level is 'replica'"));
  EXPECT_THAT(output, HasSubstr("wal_level = logical"));
}

}  // namespace
}  // namespace cdc::testing
