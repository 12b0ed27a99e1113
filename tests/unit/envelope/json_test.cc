#include "cdc/envelope/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace cdc::envelope {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::Row KeyRow() {
  v1::Row row;
  v1::Column* id = row.add_columns();
  id->set_name("id");
  id->set_type("int4");
  id->set_type_oid(23);
  id->set_key(true);
  id->mutable_value()->set_int_value(7);
  return row;
}

v1::ChangeEvent SampleEvent() {
  v1::ChangeEvent event;
  event.set_op(v1::CREATE);
  *event.mutable_after() = KeyRow();
  v1::Column* note = event.mutable_after()->add_columns();
  note->set_name("note");
  note->set_type("text");
  note->mutable_value()->set_text("line1\nline2 \"quoted\"");
  event.mutable_after()->add_columns()->mutable_value()->mutable_null();
  event.mutable_source()->set_table("orders");
  event.mutable_source()->set_commit_lsn(42);
  event.set_ts_ms(5);
  return event;
}

TEST(JsonTest, RowToJsonUsesProtoFieldNamesOnOneLine) {
  EXPECT_EQ(RowToJson(KeyRow()),
            "{\"columns\":[{\"name\":\"id\",\"type\":\"int4\",\"value\":{"
            "\"int_value\":\"7\"},\"type_oid\":23,\"key\":true}]}");
}

TEST(JsonTest, ChangeEventToJson) {
  const std::string json = ChangeEventToJson(SampleEvent());
  EXPECT_THAT(json, Not(HasSubstr("\n")));
  EXPECT_THAT(json, HasSubstr("\"op\":\"CREATE\""));
  EXPECT_THAT(json, HasSubstr("\"commit_lsn\":\"42\""));
  EXPECT_THAT(json, HasSubstr("\"ts_ms\":\"5\""));
  EXPECT_THAT(json, HasSubstr("\"text\":\"line1\\nline2 \\\"quoted\\\"\""));
  EXPECT_THAT(json, HasSubstr("\"value\":{\"null\":{}}"));
  // Default-valued fields are left out.
  EXPECT_THAT(json, Not(HasSubstr("\"snapshot\"")));
  EXPECT_THAT(json, Not(HasSubstr("\"before\"")));
  EXPECT_EQ(ChangeEventToJson(v1::ChangeEvent()), "{}");
}

TEST(JsonTest, RecordToJsonLineWithKey) {
  auto line = RecordToJsonLine(KeyRow().SerializeAsString(),
                               SampleEvent().SerializeAsString());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "{\"key\":" + RowToJson(KeyRow()) +
                       ",\"event\":" + ChangeEventToJson(SampleEvent()) + "}");
}

TEST(JsonTest, RecordToJsonLineWithNullKey) {
  v1::ChangeEvent event;
  event.set_op(v1::TRUNCATE);
  auto line = RecordToJsonLine(std::nullopt, event.SerializeAsString());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "{\"key\":null,\"event\":{\"op\":\"TRUNCATE\"}}");
}

TEST(JsonTest, RecordToJsonLineWithEmptyKeyAndValue) {
  // An empty byte string is a valid (empty) message, not a null key.
  auto line = RecordToJsonLine(std::string(), std::string());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "{\"key\":{},\"event\":{}}");
}

TEST(JsonTest, RecordToJsonLineUnparseableIsDataLoss) {
  const std::string garbage("\xff\xff\xff\xff", 4);
  EXPECT_EQ(RecordToJsonLine(garbage, std::string()).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(RecordToJsonLine(std::nullopt, garbage).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cdc::envelope
