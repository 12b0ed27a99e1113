// What a publication publishes, snapshot and stream alike: its column list,
// its row filter, a partitioned table published through its root, a table in
// several publications, and generated columns (never on 15 and 16 nor when
// virtual; stored ones on 18 under publish_generated_columns = stored).
// Initial and incremental snapshots must read exactly the columns and rows
// the stream publishes: a column the publication leaves out (a password
// hash, say) must never reach a topic, and every READ of a table must have
// the shape (and so the shape_id) of its streamed events.
//
// Runs on the server PgCluster starts (15, or 18 with PGCDC_PG_BINDIR).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

constexpr char kSecret[] = "s3cr3t-snapshot";

class PublicationTest : public PgcdcTest {
 protected:
  // Table u: rows 1 and 2 carry the secret, row 500 lies outside the
  // filter. Published as (id, name) WHERE (id < 100). It is also in a second
  // publication with every column, which pgcdc does not stream.
  // Table parted: partitioned, published through its root as (id, name)
  // WHERE (id % 2 = 0); rows 1, 50, 150 and 700.
  void CreateTablesAndPublication() {
    Sql("CREATE TABLE u (id int PRIMARY KEY, name text, secret text)");
    Sql(absl::StrCat("INSERT INTO u VALUES (1, 'one', '", kSecret,
                     "'), (2, 'two', '", kSecret, "'), (500, 'big', '", kSecret,
                     "')"));
    Sql("CREATE TABLE parted (id int PRIMARY KEY, name text, secret text) "
        "PARTITION BY RANGE (id); "
        "CREATE TABLE parted_lo PARTITION OF parted FOR VALUES FROM (0) TO "
        "(100); CREATE TABLE parted_hi PARTITION OF parted FOR VALUES FROM "
        "(100) TO (1000)");
    Sql(absl::StrCat("INSERT INTO parted SELECT g, 'p' || g, '", kSecret,
                     "' FROM unnest(ARRAY[1, 50, 150, 700]) g"));
    Sql("CREATE PUBLICATION pgcdc_pub FOR TABLE public.u (id, name) "
        "WHERE (id < 100), public.parted (id, name) WHERE (id % 2 = 0) "
        "WITH (publish_via_partition_root = true)");
    Sql("CREATE PUBLICATION everything FOR TABLE public.u");
  }

  // The streamed changes of the same tables: rows 3 and 600 of u (600
  // filtered out), rows 2, 3 and 800 of parted (3 filtered out).
  void WriteStreamedRows() {
    Sql(absl::StrCat("INSERT INTO u VALUES (3, 'three', '", kSecret,
                     "'), (600, 'six hundred', '", kSecret, "')"));
    Sql(absl::StrCat("INSERT INTO parted SELECT g, 'p' || g, '", kSecret,
                     "' FROM unnest(ARRAY[2, 3, 800]) g"));
  }

  static int Id(const ReadEvent& e) {
    for (const v1::Column& c : e.event.after().columns()) {
      if (c.name() == "id") return static_cast<int>(c.value().int_value());
    }
    return -1;
  }

  static std::string Columns(const ReadEvent& e) {
    std::string out;
    for (const v1::Column& c : e.event.after().columns()) {
      absl::StrAppend(&out, out.empty() ? "" : ",", c.name());
    }
    return out;
  }

  // Checks that `table`'s topic holds READs of exactly `reads` and CREATEs
  // of exactly `creates`, every one with columns `columns` and one shape_id,
  // and that the secret appears nowhere in it.
  void ExpectTopic(const std::string& table, const std::set<int>& reads,
                   const std::set<int>& creates, const std::string& columns) {
    SCOPED_TRACE(table);
    std::vector<ReadEvent> events = ReadTopic(table);
    std::set<int> read_ids;
    std::set<int> create_ids;
    std::set<uint64_t> shapes;
    for (const ReadEvent& e : events) {
      EXPECT_EQ(Columns(e), columns) << "event of id " << Id(e);
      EXPECT_EQ(e.event.SerializeAsString().find(kSecret), std::string::npos)
          << "the secret column reached the topic in the event of id " << Id(e);
      shapes.insert(e.event.source().shape_id());
      if (e.event.op() == v1::READ) {
        read_ids.insert(Id(e));
      } else if (e.event.op() == v1::CREATE) {
        create_ids.insert(Id(e));
      } else {
        ADD_FAILURE() << "unexpected op " << e.event.op();
      }
    }
    EXPECT_EQ(read_ids, reads);
    EXPECT_EQ(create_ids, creates);
    EXPECT_EQ(shapes.size(), 1u)
        << "snapshot reads and streamed events differ in shape";
  }
};

TEST_F(PublicationTest, InitialSnapshotReadsOnlyWhatThePublicationPublishes) {
  CreateTablesAndPublication();
  std::string config = WriteConfig({"public.u", "public.parted"});
  Subprocess p = StartPgcdc(config);  // snapshot.mode: initial
  WriteStreamedRows();
  WaitCaughtUp();
  StopPgcdc(p);
  ExpectTopic("public.u", {1, 2}, {3}, "id,name");
  ExpectTopic("public.parted", {50, 150, 700}, {2, 800}, "id,name");
}

TEST_F(PublicationTest,
       IncrementalSnapshotReadsOnlyWhatThePublicationPublishes) {
  CreateTablesAndPublication();
  std::string config = WriteConfig({"public.u", "public.parted"}, "",
                                   "snapshot:\n  mode: never\n");
  Subprocess p = StartPgcdc(config);
  WriteStreamedRows();
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "u,parted",
                      "--id", "cols"},
                     &output),
            0)
      << output;
  ASSERT_TRUE(WaitForLog(p, "snapshot \"cols\": public.parted read", 60000))
      << p.ReadLog();
  // A request's own condition narrows the publication's rows further.
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "u", "--where",
                      "id > 1", "--id", "narrow"},
                     &output),
            0)
      << output;
  ASSERT_TRUE(WaitForLog(p, "snapshot \"narrow\": public.u read", 60000))
      << p.ReadLog();
  WaitCaughtUp();
  StopPgcdc(p);
  // Rows 1 and 2 from the first request; rows 2 and 3 (streamed before it)
  // from the second. 500 and 600 are outside the filter.
  std::vector<ReadEvent> events = ReadTopic("public.u");
  std::multiset<int> reads;
  for (const ReadEvent& e : events) {
    if (e.event.op() == v1::READ) reads.insert(Id(e));
  }
  EXPECT_EQ(reads, (std::multiset<int>{1, 2, 2, 3, 3}));
  ExpectTopic("public.u", {1, 2, 3}, {3}, "id,name");
  ExpectTopic("public.parted", {2, 50, 150, 700, 800}, {2, 800}, "id,name");
}

// A column list that leaves out the primary key (allowed when the
// publication publishes inserts only) cannot be read in chunks: refused with
// the reason, and the stream goes on.
TEST_F(PublicationTest, IncrementalSnapshotWithoutThePublishedKeyIsRefused) {
  Sql("CREATE TABLE k (id int PRIMARY KEY, name text, secret text)");
  Sql("INSERT INTO k VALUES (1, 'one', 'x')");
  Sql("CREATE PUBLICATION pgcdc_pub FOR TABLE public.k (name) "
      "WITH (publish = 'insert')");
  std::string config =
      WriteConfig({"public.k"}, "", "snapshot:\n  mode: never\n");
  Subprocess p = StartPgcdc(config);
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "k", "--id",
                      "nokey"},
                     &output),
            0)
      << output;
  EXPECT_TRUE(WaitForLog(p, "primary key column id is not published", 60000))
      << p.ReadLog();
  Sql("INSERT INTO k VALUES (2, 'two', 'y')");
  WaitCaughtUp();
  StopPgcdc(p);
  std::vector<ReadEvent> events = ReadTopic("public.k");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.op(), v1::CREATE);
  EXPECT_EQ(Columns(events[0]), "name");
}

// Generated columns as the server publishes them: on 15 to 17 never; on 18
// a stored one under publish_generated_columns = stored, a virtual one
// never. Snapshot (initial and incremental) and stream agree.
TEST_F(PublicationTest, GeneratedColumnsAsTheServerPublishesThem) {
  const int version = ServerVersionNum();
  const bool pg18 = version >= 180000;
  Sql(absl::StrCat(
      "CREATE TABLE g (id int PRIMARY KEY, a int, doubled int "
      "GENERATED ALWAYS AS (a * 2) STORED",
      pg18 ? ", tripled int GENERATED ALWAYS AS (a * 3) VIRTUAL" : "", ")"));
  Sql("INSERT INTO g (id, a) VALUES (1, 10), (2, 20)");
  Sql(absl::StrCat("CREATE PUBLICATION pgcdc_pub FOR TABLE public.g",
                   pg18 ? " WITH (publish_generated_columns = stored)" : ""));
  std::string config = WriteConfig({"public.g"});
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO g (id, a) VALUES (3, 30)");
  std::string output;
  ASSERT_EQ(
      RunPgcdc({"snapshot", "--config", config, "--table", "g", "--id", "gen"},
               &output),
      0)
      << output;
  ASSERT_TRUE(WaitForLog(p, "snapshot \"gen\": public.g read", 60000))
      << p.ReadLog();
  WaitCaughtUp();
  StopPgcdc(p);
  const std::string columns = pg18 ? "id,a,doubled" : "id,a";
  std::vector<ReadEvent> events = ReadTopic("public.g");
  std::multiset<int> reads;
  for (const ReadEvent& e : events) {
    if (e.event.op() == v1::READ) reads.insert(Id(e));
  }
  // 1 and 2 twice (initial, then incremental), 3 once (incremental).
  EXPECT_EQ(reads, (std::multiset<int>{1, 1, 2, 2, 3}));
  ExpectTopic("public.g", {1, 2, 3}, {3}, columns);
  if (pg18) {
    for (const ReadEvent& e : events) {
      for (const v1::Column& c : e.event.after().columns()) {
        if (c.name() == "doubled") {
          EXPECT_EQ(c.value().int_value(), 2 * 10 * Id(e));
        }
      }
    }
  }
}

}  // namespace
}  // namespace cdc::testing
