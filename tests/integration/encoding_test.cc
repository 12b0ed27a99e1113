// Encodings end to end. pgcdc's sessions run with client_encoding UTF8, so
// a database or role default cannot change the bytes it reads; and in a
// SQL_ASCII database, where the server converts nothing and text may be any
// bytes (pgcdc reads it with client_encoding SQL_ASCII, as stored), values
// that are not UTF-8 arrive as text_bytes (exactly as stored) in events
// every protobuf library parses, while names that are not UTF-8 stop pgcdc
// with a data-loss error.
//
// Non-ASCII test data is written with escapes the server decodes (U&'' in
// the UTF8 database, E'\xNN' in the SQL_ASCII one), so that what is stored
// does not depend on the encoding of the session that writes it.
#include <signal.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cdc/envelope/value_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

class EncodingTest : public PgcdcTest {
 protected:
  // Swaps the test's database for a SQL_ASCII one (template0, C locale, as
  // PostgreSQL requires for an encoding other than the template's).
  void UseSqlAsciiDatabase() {
    const std::string name = "sqlascii";
    absl::Status s = cluster_->Exec(
        "postgres", absl::StrCat("CREATE DATABASE ", name,
                                 " ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
                                 "LC_CTYPE 'C' TEMPLATE template0"));
    ASSERT_TRUE(s.ok()) << s;
    db_ = name;
  }
};

// The database's and the role's default client_encoding, and the dsn's own
// options, all say LATIN1: the walsender (and the snapshot's session) would
// convert every value and name to Latin-1, and pgcdc would publish bytes
// that are not UTF-8, or fail on characters Latin-1 lacks. pgcdc's
// client_encoding wins, so the events hold the text's UTF-8.
TEST_F(EncodingTest, DefaultClientEncodingDoesNotChangeWhatPgcdcReads) {
  Sql(absl::StrCat("ALTER DATABASE ", db_,
                   " SET client_encoding = 'LATIN1'; "
                   "ALTER ROLE postgres IN DATABASE ",
                   db_, " SET client_encoding = 'LATIN1'"));
  Sql("CREATE TABLE menu (id int PRIMARY KEY, name text, label varchar(40), "
      "tags text[], U&\"ann\\00E9e\" int)");
  // Row 1 is read by the initial snapshot, rows 2 and 3 streamed; row 3
  // holds characters Latin-1 has no byte for.
  Sql("INSERT INTO menu VALUES (1, U&'caf\\00E9', U&'na\\00EFve Z\\00FCrich', "
      "ARRAY[U&'cr\\00E8me', U&'br\\00FBl\\00E9e'], 2024)");
  std::string config = WriteConfig({"public.menu"});
  EditConfig(config, "dsn: \"([^\"]*)\"",
             absl::StrCat("dsn: \"", cluster_->Dsn(db_),
                          " options='-c client_encoding=LATIN1'\""));
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO menu VALUES (2, U&'caf\\00E9', U&'na\\00EFve Z\\00FCrich', "
      "ARRAY[U&'cr\\00E8me', U&'br\\00FBl\\00E9e'], 2024)");
  Sql("INSERT INTO menu VALUES (3, U&'\\20AC 5', U&'\\+01F600 \\4E2D\\6587', "
      "ARRAY[U&'\\0416'], 1)");
  WaitCaughtUp();
  StopPgcdc(p);

  std::vector<ReadEvent> events = ReadTopic("public.menu");
  ASSERT_EQ(events.size(), 3u);
  std::vector<const v1::Row*> rows(4, nullptr);
  for (const ReadEvent& e : events) {
    const int64_t id = e.key->columns(0).value().int_value();
    ASSERT_TRUE(id >= 1 && id <= 3) << id;
    rows[id] = &e.event.after();
    EXPECT_EQ(e.event.op(), id == 1 ? v1::READ : v1::CREATE);
  }
  for (int id : {1, 2}) {
    SCOPED_TRACE(id);
    const v1::Row& row = *rows[id];
    EXPECT_EQ(FindColumn(row, "name")->value().text(), "caf\xc3\xa9");
    EXPECT_EQ(FindColumn(row, "label")->value().text(),
              "na\xc3\xafve Z\xc3\xbcrich");
    const v1::ArrayValue& tags = FindColumn(row, "tags")->value().array_value();
    ASSERT_EQ(tags.elements_size(), 2);
    EXPECT_EQ(tags.elements(0).text(), "cr\xc3\xa8me");
    EXPECT_EQ(tags.elements(1).text(),
              "br\xc3\xbbl\xc3\xa9"
              "e");
    ASSERT_NE(FindColumn(row,
                         "ann\xc3\xa9"
                         "e"),
              nullptr)
        << row.ShortDebugString();
    EXPECT_EQ(FindColumn(row,
                         "ann\xc3\xa9"
                         "e")
                  ->value()
                  .int_value(),
              2024);
  }
  EXPECT_EQ(FindColumn(*rows[3], "name")->value().text(), "\xe2\x82\xac 5");
  EXPECT_EQ(FindColumn(*rows[3], "label")->value().text(),
            "\xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87");
  EXPECT_EQ(
      FindColumn(*rows[3], "tags")->value().array_value().elements(0).text(),
      "\xd0\x96");
}

// A SQL_ASCII database holding text that is not UTF-8 in every place a
// text value travels: text, varchar, an enum label, json, array elements, a
// composite's attribute, and the primary key. Snapshot and stream give
// events that parse, with text_bytes holding exactly the stored bytes; text
// that is UTF-8 in the same database is still text.
TEST_F(EncodingTest, SqlAsciiTextThatIsNotUtf8ArrivesAsTextBytes) {
  UseSqlAsciiDatabase();
  Sql("CREATE TYPE pair AS (n int, label text)");
  Sql("CREATE TYPE mood AS ENUM ('ok', E'caf\\xe9')");
  Sql("CREATE TABLE notes (k text PRIMARY KEY, t text, v varchar(20), "
      "arr text[], p pair, m mood, j json, fine text)");
  auto row = [](const std::string& key) {
    return absl::StrCat(
        "INSERT INTO notes VALUES (", key,
        ", E'caf\\xe9', E'\\xc3', ARRAY[E'\\xff', 'plain', NULL], "
        "ROW(1, E'\\xed\\xa0\\x80')::pair, E'caf\\xe9', "
        "E'{\"a\": \"caf\\xe9\"}', E'caf\\xc3\\xa9')");
  };
  Sql(row("E'k1\\xe9'"));  // read by the snapshot
  std::string config = WriteConfig({"public.notes"});
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("warn  the database encoding is SQL_ASCII"));
  EXPECT_THAT(output, HasSubstr("text_bytes"));

  Subprocess p = StartPgcdc(config);
  Sql(row("E'k2\\xe9'"));
  Sql("UPDATE notes SET t = E'\\xfe\\xfe', fine = 'still fine' "
      "WHERE k = E'k2\\xe9'");
  Sql("DELETE FROM notes WHERE k = E'k1\\xe9'");
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr("the database encoding is SQL_ASCII"));

  // ReadTopic fails the test on any value or key protobuf cannot parse.
  std::vector<ReadEvent> events = ReadTopic("public.notes");
  ASSERT_EQ(events.size(), 4u);
  std::vector<v1::Op> ops;
  for (const ReadEvent& e : events) ops.push_back(e.event.op());
  EXPECT_THAT(ops, ::testing::UnorderedElementsAre(v1::READ, v1::CREATE,
                                                   v1::UPDATE, v1::DELETE));
  for (const ReadEvent& e : events) {
    SCOPED_TRACE(v1::Op_Name(e.event.op()));
    ASSERT_TRUE(e.key.has_value());
    ASSERT_EQ(e.key->columns(0).value().kind_case(), v1::Value::kTextBytes);
    const std::string& key = e.key->columns(0).value().text_bytes();
    EXPECT_TRUE(key == "k1\xe9" || key == "k2\xe9") << key;
    if (e.event.op() == v1::DELETE) {
      EXPECT_EQ(key, "k1\xe9");
      EXPECT_EQ(FindColumn(e.event.before(), "k")->value().text_bytes(),
                "k1\xe9");
      continue;
    }
    const v1::Row& after = e.event.after();
    EXPECT_EQ(FindColumn(after, "k")->value().text_bytes(), key);
    EXPECT_EQ(FindColumn(after, "t")->value().text_bytes(),
              e.event.op() == v1::UPDATE ? "\xfe\xfe" : "caf\xe9");
    EXPECT_EQ(FindColumn(after, "v")->value().text_bytes(), "\xc3");
    const v1::ArrayValue& arr = FindColumn(after, "arr")->value().array_value();
    ASSERT_EQ(arr.elements_size(), 3);
    EXPECT_EQ(arr.elements(0).text_bytes(), "\xff");
    EXPECT_EQ(arr.elements(1).text(), "plain");
    EXPECT_TRUE(arr.elements(2).has_null());
    const v1::Row& pair = FindColumn(after, "p")->value().composite_value();
    EXPECT_EQ(pair.columns(0).value().int_value(), 1);
    EXPECT_EQ(pair.columns(1).value().text_bytes(), "\xed\xa0\x80");
    EXPECT_EQ(FindColumn(after, "m")->value().text_bytes(), "caf\xe9");
    EXPECT_EQ(FindColumn(after, "j")->value().text_bytes(),
              "{\"a\": \"caf\xe9\"}");
    EXPECT_EQ(FindColumn(after, "fine")->value().text(),
              e.event.op() == v1::UPDATE ? "still fine" : "caf\xc3\xa9");
  }
  // Rendered back, every value of the remaining row is the server's text.
  std::vector<pg::SqlRow> server = Rows(
      "SELECT k, t, v, arr::text, p::text, m::text, j::text, fine "
      "FROM notes");
  ASSERT_EQ(server.size(), 1u);
  const std::vector<std::string> names = {"k", "t", "v", "arr",
                                          "p", "m", "j", "fine"};
  for (const ReadEvent& e : events) {
    if (e.event.op() != v1::UPDATE) continue;
    for (size_t i = 0; i < names.size(); ++i) {
      const v1::Column* c = FindColumn(e.event.after(), names[i]);
      EXPECT_EQ(envelope::ValueToPgText(c->value(), c->type()), server[0][i])
          << names[i];
    }
  }

  // `pgcdc tail` shows text_bytes as protobuf's JSON mapping does: base64.
  EXPECT_EQ(
      RunPgcdc({"tail", "--bootstrap-servers", broker_->bootstrap_servers(),
                "--topic", Topic("public.notes"), "--from-beginning",
                "--max-messages", "4", "--idle-exit-ms", "20000"},
               &output),
      0)
      << output;
  EXPECT_THAT(output, HasSubstr("\"text_bytes\":\"Y2Fm6Q==\""));  // caf\xe9
  EXPECT_THAT(output, HasSubstr("\"text\":\"plain\""));
}

// Names have no fallback: a column renamed to bytes that are not UTF-8
// stops pgcdc — streaming, at the first change made with that name, and in
// a snapshot, before it reads the table — with an error naming the
// relation and the LSN, and nothing of it is published or confirmed.
TEST_F(EncodingTest, SqlAsciiNameThatIsNotUtf8StopsPgcdc) {
  UseSqlAsciiDatabase();
  Sql("CREATE TABLE t (id int PRIMARY KEY, x int)");
  std::vector<pg::SqlRow> oid_row = Rows("SELECT 'public.t'::regclass::oid");
  ASSERT_EQ(oid_row.size(), 1u);
  const std::string oid = oid_row[0][0].value_or("?");
  Subprocess p = StartPgcdc(WriteConfig({"public.t"}));
  Sql("INSERT INTO t VALUES (1, 1)");
  WaitCaughtUp();
  // Through dynamic SQL: a statement from the client must be UTF-8 itself.
  Sql("DO $$BEGIN EXECUTE format('ALTER TABLE t RENAME COLUMN x TO %I', "
      "E'caf\\xe9'); END$$");
  Sql("INSERT INTO t VALUES (2, 2)");
  const Lsn after_insert = WalLsn();
  std::optional<int> code = p.Wait(60000);
  ASSERT_TRUE(code.has_value()) << "pgcdc did not stop:\n" << p.ReadLog();
  EXPECT_EQ(*code, 1);
  std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr(absl::StrCat("relation ", oid,
                                          " \"public\".\"t\": the name of "
                                          "column 2 \"caf\\xe9\" is not "
                                          "valid UTF-8")));
  EXPECT_THAT(log, HasSubstr("at LSN "));
  std::vector<ReadEvent> events = ReadTopic("public.t");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key->columns(0).value().int_value(), 1);
  absl::StatusOr<Lsn> confirmed = cluster_->ConfirmedFlush(db_, slot_);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_LT(*confirmed, after_insert) << "confirmed past the failed change";

  // A new slot's snapshot meets the name before it reads the table.
  slot_ = "pgcdc_snapshot";
  Subprocess snapshot = LaunchPgcdc(WriteConfig({"public.t"}));
  code = snapshot.Wait(60000);
  ASSERT_TRUE(code.has_value()) << "pgcdc did not stop:\n"
                                << snapshot.ReadLog();
  EXPECT_EQ(*code, 1);
  log = snapshot.ReadLog();
  EXPECT_THAT(log, HasSubstr("snapshot of public.t: at LSN "));
  EXPECT_THAT(log, HasSubstr(absl::StrCat("relation ", oid)));
  EXPECT_THAT(log, HasSubstr("\"caf\\xe9\" is not valid UTF-8"));
  EXPECT_EQ(ReadTopic("public.t").size(), 1u) << "a READ was published";
}

// An incremental snapshot reads chunk after chunk, each after the last key
// of the one before: keys that are not UTF-8 go back to the server in the
// chunk's query, byte for byte (a UTF8 session would be refused them), so
// no row is skipped or read twice.
TEST_F(EncodingTest, SqlAsciiIncrementalSnapshotPagesPastKeysThatAreNotUtf8) {
  UseSqlAsciiDatabase();
  Sql("CREATE TABLE k (k text PRIMARY KEY, v int)");
  Sql("INSERT INTO k VALUES (E'a\\xe9', 1), (E'b\\xff', 2), (E'c\\xc3', 3), "
      "('d', 4), (E'e\\xe9\\xe9', 5), (E'f\\x27\\x5c\\xe9', 6)");
  std::string config = WriteConfig({"public.k"}, "",
                                   "snapshot:\n  mode: never\n"
                                   "  chunk_rows: 2\n");
  Subprocess p = StartPgcdc(config);
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "k", "--id",
                      "bytes"},
                     &output),
            0)
      << output;
  ASSERT_TRUE(WaitForLog(p, "snapshot \"bytes\": public.k read", 60000))
      << p.ReadLog();
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), ::testing::Not(HasSubstr("skipped")));

  std::multiset<std::string> keys;
  for (const ReadEvent& e : ReadTopic("public.k")) {
    ASSERT_EQ(e.event.op(), v1::READ);
    const v1::Value& key = e.key->columns(0).value();
    keys.insert(key.kind_case() == v1::Value::kTextBytes ? key.text_bytes()
                                                         : key.text());
  }
  EXPECT_EQ(keys, (std::multiset<std::string>{"a\xe9", "b\xff", "c\xc3", "d",
                                              "e\xe9\xe9", "f'\\\xe9"}));
}

// kill -9 in the middle of an incremental snapshot of a table whose keys
// all start with a byte that is not UTF-8: the journal keeps the last key
// exactly (after_key_bytes), so the next start resumes after it. A JSON
// string would have dropped that byte, and the key left ("000123") sorts
// before every row: the snapshot would have started over.
TEST_F(EncodingTest, SqlAsciiIncrementalSnapshotResumesAfterAKeyThatIsNotUtf8) {
  constexpr int kRows = 30000;
  UseSqlAsciiDatabase();
  Sql("CREATE TABLE k (k text PRIMARY KEY, v int)");
  Sql(
      absl::StrCat("INSERT INTO k SELECT E'\\xff' || lpad(g::text, 6, '0'), g "
                   "FROM generate_series(1, ",
                   kRows, ") g"));
  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 10);
  const int metrics_port = FreePort();
  std::string config =
      WriteConfig({"public.k"}, "",
                  absl::StrCat("snapshot:\n  mode: never\n  chunk_rows: 300\n",
                               MetricsOn(metrics_port)));
  auto snapshot_rows = [&] {
    return MetricValue(HttpGet(metrics_port, "/metrics"),
                       "pgcdc_snapshot_rows_total{table=\"public.k\"}");
  };
  Subprocess first = StartPgcdc(config);
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "k", "--id",
                      "resume"},
                     &output),
            0)
      << output;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (snapshot_rows() < kRows * 0.4 &&
         std::chrono::steady_clock::now() < deadline && first.Running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(snapshot_rows(), kRows * 0.4) << first.ReadLog();
  first.Signal(SIGKILL);
  first.Wait(10000);

  rd_kafka_mock_broker_set_rtt(broker_->mock(), 1, 0);
  Subprocess second = StartPgcdc(config);
  ASSERT_TRUE(WaitForLog(second, "resuming a snapshot from its journal", 60000))
      << second.ReadLog();
  ASSERT_TRUE(WaitForLog(second, "snapshot \"resume\": public.k read", 120000))
      << second.ReadLog();
  const double second_rows = snapshot_rows();
  EXPECT_GT(second_rows, 0);
  EXPECT_LT(second_rows, kRows * 0.85) << "started over instead of resuming";
  WaitCaughtUp();
  StopPgcdc(second);

  std::set<std::string> keys;
  for (const ReadEvent& e : ReadTopic("public.k")) {
    ASSERT_EQ(e.event.op(), v1::READ);
    const v1::Value& key = e.key->columns(0).value();
    ASSERT_EQ(key.kind_case(), v1::Value::kTextBytes) << key.ShortDebugString();
    keys.insert(key.text_bytes());
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(kRows)) << "rows were skipped";
  EXPECT_EQ(keys.count(std::string("\xff") + "000001"), 1u);
  EXPECT_EQ(keys.count(std::string("\xff") + "030000"), 1u);
}

}  // namespace
}  // namespace cdc::testing
