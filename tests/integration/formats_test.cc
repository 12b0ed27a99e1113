// kafka.format json end to end: pgcdc's records, read back from the broker,
// are the cdc.v1 envelope in protobuf's canonical JSON mapping, which any
// protobuf runtime parses into the same messages: keys, snapshot rows and
// streamed changes alike. (debezium-json has debezium_compat_test.cc, which
// compares it with the real Debezium; here only what Debezium never does:
// the transaction metadata of a transaction the server streamed.)
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cdc/kafka/topic_reader.h"
#include "cdc/v1/change_event.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/debezium_capture.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

class FormatsTest : public PgcdcTest {};

TEST_F(FormatsTest, JsonIsTheEnvelopeInCanonicalJson) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric)");
  Sql("INSERT INTO items VALUES (1, 'one', 1.50)");
  const std::string config = WriteConfig({"public.items"}, "  format: json\n");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO items VALUES (2, 'two', 2)");
  Sql("UPDATE items SET name = 'uno' WHERE id = 1");
  Sql("DELETE FROM items WHERE id = 2");
  WaitCaughtUp();
  StopPgcdc(p);

  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(broker_->bootstrap_servers(),
                               Topic("public.items"), /*from_beginning=*/true);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> read =
      (*reader)->ReadToEnd();
  ASSERT_TRUE(read.ok()) << read.status();
  // By key, in order: the snapshot's READ, then the stream's changes.
  std::map<int64_t, std::vector<std::string>> ops_by_key;
  for (const kafka::ConsumedMessage& m : *read) {
    v1::ChangeEvent event;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(m.value, &event).ok())
        << m.value;
    ASSERT_TRUE(m.key.has_value());
    v1::Row key;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*m.key, &key).ok())
        << *m.key;
    ASSERT_EQ(key.columns_size(), 1);
    const int64_t id = key.columns(0).value().int_value();
    std::string op = v1::Op_Name(event.op());
    if (event.has_after()) {
      for (const v1::Column& c : event.after().columns()) {
        if (c.name() == "name") op += " " + c.value().text();
        if (c.name() == "price") {
          op += " " + c.value().numeric_value().value();
        }
      }
    }
    ops_by_key[id].push_back(op);
    EXPECT_EQ(event.source().table(), "items");
    EXPECT_NE(event.source().commit_lsn(), 0u);
  }
  EXPECT_EQ(ops_by_key[1],
            (std::vector<std::string>{"READ one 1.50", "UPDATE uno 1.50"}));
  EXPECT_EQ(ops_by_key[2],
            (std::vector<std::string>{"CREATE two 2", "DELETE"}));
}

// A transaction larger than logical_decoding_work_mem arrives in streamed
// chunks and is replayed at its Stream Commit: with Debezium's transaction
// metadata it still has one BEGIN, every event numbered in order, and one
// END that counts them.
TEST_F(FormatsTest, DebeziumTransactionMetadataOfAStreamedTransaction) {
  UseCluster("-c logical_decoding_work_mem=64kB");
  Sql("CREATE TABLE items (id int PRIMARY KEY, note text)");
  const std::string config =
      WriteConfig({"public.items"}, "  format: debezium-json\n",
                  "debezium:\n  schemas.enable: false\n"
                  "  provide.transaction.metadata: true\n");
  Subprocess p = StartPgcdc(config);
  constexpr int kRows = 3000;
  Sql(
      absl::StrCat("INSERT INTO items SELECT i, repeat('x', 100) FROM "
                   "generate_series(1, ",
                   kRows, ") i"));
  WaitCaughtUp();
  StopPgcdc(p);
  const std::vector<pg::SqlRow> streamed =
      Rows(absl::StrCat("SELECT stream_txns FROM pg_stat_replication_slots "
                        "WHERE slot_name = '",
                        slot_, "'"));
  ASSERT_EQ(streamed.size(), 1u);
  ASSERT_GT(std::stoll(*streamed[0][0]), 0) << "the server did not stream";

  auto read = [&](const std::string& topic) {
    std::vector<google::protobuf::Struct> out;
    absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
        kafka::TopicReader::Open(broker_->bootstrap_servers(), topic,
                                 /*from_beginning=*/true);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    absl::StatusOr<std::vector<kafka::ConsumedMessage>> read =
        (*reader)->ReadToEnd();
    EXPECT_TRUE(read.ok()) << read.status();
    if (!read.ok()) return out;
    for (const kafka::ConsumedMessage& m : *read) {
      absl::StatusOr<google::protobuf::Struct> v = ParseJsonObject(m.value);
      EXPECT_TRUE(v.ok()) << m.value;
      if (v.ok()) out.push_back(*std::move(v));
    }
    return out;
  };
  auto text = [](const google::protobuf::Struct& s, const char* field) {
    return s.fields().at(field).string_value();
  };
  auto number = [](const google::protobuf::Struct& s, const char* field) {
    return static_cast<int64_t>(s.fields().at(field).number_value());
  };

  // BEGIN and END are keyed by "<xid>:<lsn>" with their own LSNs, as
  // Debezium keys them, so they may lie in two partitions: found by status.
  std::vector<google::protobuf::Struct> boundaries = read("test.transaction");
  ASSERT_EQ(boundaries.size(), 2u);
  if (text(boundaries[0], "status") == "END") {
    std::swap(boundaries[0], boundaries[1]);
  }
  EXPECT_EQ(text(boundaries[0], "status"), "BEGIN");
  EXPECT_EQ(text(boundaries[1], "status"), "END");
  EXPECT_EQ(number(boundaries[1], "event_count"), kRows);
  const auto& collections =
      boundaries[1].fields().at("data_collections").list_value();
  ASSERT_EQ(collections.values_size(), 1);
  EXPECT_EQ(text(collections.values(0).struct_value(), "data_collection"),
            "public.items");
  EXPECT_EQ(number(collections.values(0).struct_value(), "event_count"), kRows);
  // "<xid>:<lsn>", the same xid in both.
  const std::string begin_id = text(boundaries[0], "id");
  const std::string xid = begin_id.substr(0, begin_id.find(':'));
  EXPECT_EQ(text(boundaries[1], "id").substr(0, xid.size() + 1), xid + ":");

  // In the order they were numbered (the topic's partitions each keep
  // their own order): 1 to kRows, in the order of their LSNs.
  std::map<int64_t, int64_t> lsn_by_order;
  for (const google::protobuf::Struct& event : read("test.public.items")) {
    const google::protobuf::Struct& block =
        event.fields().at("transaction").struct_value();
    const google::protobuf::Struct& source =
        event.fields().at("source").struct_value();
    EXPECT_EQ(number(block, "total_order"),
              number(block, "data_collection_order"));
    EXPECT_EQ(text(block, "id"), absl::StrCat(xid, ":", number(source, "lsn")));
    lsn_by_order[number(block, "total_order")] = number(source, "lsn");
  }
  ASSERT_EQ(lsn_by_order.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(lsn_by_order.begin()->first, 1);
  EXPECT_EQ(lsn_by_order.rbegin()->first, kRows);
  int64_t previous = 0;
  for (const auto& [order, lsn] : lsn_by_order) {
    EXPECT_GT(lsn, previous) << "event " << order;
    previous = lsn;
  }
}

}  // namespace
}  // namespace cdc::testing
