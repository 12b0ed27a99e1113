#include "cdc/snapshot/signal.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::snapshot {
namespace {

using ::testing::HasSubstr;

TEST(SignalTest, ReadsARequestAPersonWrites) {
  absl::StatusOr<v1::SnapshotSignal> signal = ParseSignal(
      R"({"slot": "orders", "xid": 771, "request": {"id": "r1", "tables": ["public.t"],
          "where": "id > 10"}})");
  ASSERT_TRUE(signal.ok()) << signal.status();
  EXPECT_EQ(signal->slot(), "orders");
  ASSERT_TRUE(signal->has_request());
  EXPECT_EQ(signal->request().id(), "r1");
  ASSERT_EQ(signal->request().tables_size(), 1);
  EXPECT_EQ(signal->request().tables(0), "public.t");
  EXPECT_EQ(signal->request().where(), "id > 10");
  EXPECT_EQ(signal->xid(), 771u);
}

TEST(SignalTest, WriterAndReaderAgree) {
  v1::SnapshotSignal signal;
  signal.set_slot("s");
  signal.set_xid(4294967295u);
  signal.mutable_close()->set_nonce("n1");
  signal.mutable_close()->set_chunk(7);
  v1::SnapshotTask* task = signal.mutable_state()->add_tasks();
  task->set_request_id("r");
  task->set_table("public.t");
  task->add_after_key("42");
  task->add_after_key("it's \"quoted\"\n");
  task->set_rows(1000);
  signal.mutable_state()->add_finished("old");
  const std::string text = FormatSignal(signal);
  EXPECT_THAT(text, HasSubstr("\"after_key\""));
  absl::StatusOr<v1::SnapshotSignal> back = ParseSignal(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), signal.SerializeAsString());
}

// A key of a SQL_ASCII table may hold any bytes: JSON strings would drop
// those that are not UTF-8 (and resume after another key), so such a key
// travels in after_key_bytes, exactly.
TEST(SignalTest, AfterKeyKeepsBytesThatAreNotUtf8) {
  v1::SnapshotSignal signal;
  signal.set_slot("s");
  signal.set_xid(7);
  signal.mutable_progress()->set_nonce("n");
  v1::SnapshotTask* task = signal.mutable_state()->add_tasks();
  task->set_table("public.t");
  SetAfterKey({"42", "caf\xe9"}, task);
  EXPECT_TRUE(task->after_key().empty());
  const std::string text = FormatSignal(signal);
  EXPECT_THAT(text, HasSubstr("\"after_key_bytes\":[\"NDI=\",\"Y2Fm6Q==\"]"));
  absl::StatusOr<v1::SnapshotSignal> back = ParseSignal(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(AfterKey(back->state().tasks(0)),
            (std::vector<std::string>{"42", "caf\xe9"}));

  // UTF-8 keys stay where they always were (what older journals hold).
  SetAfterKey({"7", "caf\xc3\xa9"}, task);
  EXPECT_TRUE(task->after_key_bytes().empty());
  EXPECT_THAT(FormatSignal(signal), HasSubstr("\"after_key\":[\"7\""));
  back = ParseSignal(FormatSignal(signal));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(AfterKey(back->state().tasks(0)),
            (std::vector<std::string>{"7", "caf\xc3\xa9"}));
  SetAfterKey({}, task);
  EXPECT_TRUE(AfterKey(*task).empty());
}

TEST(SignalTest, RefusesWhatIsNotASignal) {
  struct Case {
    const char* content;
    const char* expected;
  };
  for (
      const Case& c : {
          Case{"", "not a SnapshotSignal"},
          Case{"not json", "not a SnapshotSignal"},
          Case{
              R"({"slot":"s","xid":1,"request":{"id":"r","tables":["t"]},"x":1})",
              "not a SnapshotSignal"},
          Case{R"({"xid":1,"request":{"id":"r","tables":["public.t"]}})",
               "no \"slot\""},
          Case{R"({"slot":"s","request":{"id":"r","tables":["public.t"]}})",
               "no \"xid\""},
          Case{R"({"slot":"s","xid":1})", "none of"},
          Case{R"({"slot":"s","xid":1,"request":{"tables":["public.t"]}})",
               "without an \"id\""},
          Case{R"({"slot":"s","xid":1,"request":{"id":"r"}})",
               "names no \"tables\""},
          Case{R"({"slot":"s","xid":1,"request":{"id":"r","tables":["t"]}})",
               "is not \"schema.table\""},
          Case{
              R"({"slot":"s","xid":1,"request":{"id":"r","tables":["public."]}})",
              "is not \"schema.table\""},
          Case{R"({"slot":"s","xid":1,"request":{"id":"r","tables":["public.t"],
                "where":"false) UNION ALL (SELECT 4242, 'forged'"}})",
               "closes a \")\" it did not open"},
          Case{R"({"slot":"s","xid":1,"open":{"chunk":1}})",
               "open without a nonce"},
          Case{R"({"slot":"s","xid":1,"close":{}})", "close without a nonce"},
          Case{R"({"slot":"s","xid":1,"progress":{}})",
               "progress without a nonce"},
          Case{
              R"({"slot":"s","xid":1,"progress":{"nonce":"n"},"state":{"tasks":[)"
              R"({"table":"public.t","after_key":["1"],)"
              R"("after_key_bytes":["MQ=="]}]}})",
              "has both after_key and after_key_bytes"},
      }) {
    absl::StatusOr<v1::SnapshotSignal> signal = ParseSignal(c.content);
    EXPECT_EQ(signal.status().code(), absl::StatusCode::kInvalidArgument)
        << c.content;
    EXPECT_THAT(signal.status().message(), HasSubstr(c.expected)) << c.content;
  }
}

}  // namespace
}  // namespace cdc::snapshot
