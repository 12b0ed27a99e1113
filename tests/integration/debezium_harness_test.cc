// The Debezium reference harness itself (harness/debezium_capture.h): the
// real Debezium PostgreSQL connector, run on a test cluster, captures an
// initial snapshot and then inserts, updates and deletes from the stream,
// as Kafka Connect's default converters write them. The debezium-json
// comparison tests build on it; this test says it works, and fails (never
// skips) when Debezium's jars cannot be had.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/debezium_capture.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// The `payload` of a JsonConverter text with schemas, or the text's object.
Struct Payload(const std::string& json) {
  absl::StatusOr<Struct> object = ParseJsonObject(json);
  EXPECT_TRUE(object.ok()) << object.status();
  if (!object.ok()) return Struct();
  auto it = object->fields().find("payload");
  if (it == object->fields().end()) return *object;
  return it->second.struct_value();
}

const Value& Field(const Struct& s, const std::string& name) {
  static const Value* const kNull = new Value();
  auto it = s.fields().find(name);
  return it == s.fields().end() ? *kNull : it->second;
}

// "op id name" for a change, "tombstone id" for a tombstone: what a test
// can compare in order.
std::string Summary(const DebeziumRecord& r) {
  const Struct key = Payload(r.key.value_or("{}"));
  const std::string id = absl::StrCat(Field(key, "id").number_value());
  if (!r.value.has_value()) return absl::StrCat("tombstone ", id);
  const Struct value = Payload(*r.value);
  const std::string op = Field(value, "op").string_value();
  const Value& row = Field(value, op == "d" ? "before" : "after");
  std::string out = absl::StrCat(op, " ", id);
  if (op != "d") {
    absl::StrAppend(&out, " ",
                    Field(row.struct_value(), "name").string_value());
  }
  return out;
}

class DebeziumHarnessTest : public PgcdcTest {};

TEST_F(DebeziumHarnessTest, CapturesSnapshotThenStream) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
  // The sentinel: its one row, written last, ends the capture.
  Sql("CREATE TABLE zz_stop (id int PRIMARY KEY)");
  Sql("CREATE PUBLICATION dbz_pub FOR TABLE items, zz_stop");
  Sql("INSERT INTO items VALUES (1, 'one'), (2, 'two')");

  DebeziumCapture::Options options;
  options.port = cluster_->port();
  options.database = db_;
  options.slot = "dbz_slot";
  options.publication = "dbz_pub";
  options.snapshot_mode = "initial";
  options.stop_topic = "dbz.public.zz_stop";
  absl::StatusOr<std::unique_ptr<DebeziumCapture>> capture =
      DebeziumCapture::Start(options, dir_);
  ASSERT_TRUE(capture.ok()) << capture.status();
  std::cerr << "Debezium polling after " << (*capture)->ready_ms() << " ms\n";

  Sql("INSERT INTO items VALUES (3, 'three')");
  Sql("UPDATE items SET name = 'uno' WHERE id = 1");
  Sql("DELETE FROM items WHERE id = 2");
  Sql("INSERT INTO zz_stop VALUES (1)");
  absl::StatusOr<std::vector<DebeziumRecord>> records = (*capture)->Finish();
  ASSERT_TRUE(records.ok()) << records.status();

  std::vector<std::string> items;
  int stops = 0;
  for (const DebeziumRecord& r : *records) {
    if (r.topic == "dbz.public.zz_stop") {
      ++stops;
      continue;
    }
    ASSERT_EQ(r.topic, "dbz.public.items");
    items.push_back(Summary(r));
    if (!r.value.has_value()) continue;
    // Snapshot reads say which part of the snapshot they are; streamed
    // changes say "false".
    const Struct source = Field(Payload(*r.value), "source").struct_value();
    const std::string snapshot = Field(source, "snapshot").string_value();
    if (Field(Payload(*r.value), "op").string_value() == "r") {
      EXPECT_NE(snapshot, "false") << *r.value;
    } else {
      EXPECT_EQ(snapshot, "false") << *r.value;
    }
    EXPECT_EQ(Field(source, "table").string_value(), "items");
    // Debezium 3.3+ context headers, as SimpleHeaderConverter writes them.
    ASSERT_FALSE(r.headers.empty());
    EXPECT_EQ(r.headers[0].first, "__debezium.context.connectorLogicalName");
    EXPECT_EQ(r.headers[0].second, "dbz");
  }
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(items, (std::vector<std::string>{"r 1 one", "r 2 two", "c 3 three",
                                             "u 1 uno", "d 2", "tombstone 2"}));
}

}  // namespace
}  // namespace cdc::testing
