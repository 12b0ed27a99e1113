// kafka.format json end to end: pgcdc's records, read back from the broker,
// are the cdc.v1 envelope in protobuf's canonical JSON mapping, which any
// protobuf runtime parses into the same messages: keys, snapshot rows and
// streamed changes alike. (debezium-json has debezium_compat_test.cc.)
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cdc/kafka/topic_reader.h"
#include "cdc/v1/change_event.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace cdc::testing
