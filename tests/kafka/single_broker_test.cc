// pgcdc against one real Apache Kafka 4.x broker (PLAINTEXT, no topic
// auto-creation: pgcdc creates its topics): killed with SIGKILL ten times at
// random moments under a mixed load on three tables (inserts, updates, deletes,
// key moves and transactions over all three), it loses nothing — each table
// rebuilds exactly from its topic — keeps every key's events in order, and the
// only duplicates in the topics are replays of unconfirmed transactions.
//
// With kafka.format debezium-json, what the mock cluster cannot prove: the
// broker keeps the record headers (context headers, __debezium.oldkey and
// newkey) and the tombstones (null values) as pgcdc wrote them, a restart
// resumes where the last run stopped, and on a compacted topic the
// tombstones outlive the records they delete.
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cdc/kafka/topic_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/real_kafka_fixture.h"
#include "tests/integration/harness/three_tables.h"

namespace cdc::testing {
namespace {

using SingleBrokerTest = RealKafkaTest;

TEST_F(SingleBrokerTest, TenKillsUnderAMixedLoadLoseNothing) {
  Sql(kAccounts);
  Sql(kOrdersAndItems);
  const int port = FreePort();
  const std::string config =
      RealConfig({"public.accounts", "public.orders", "public.items"}, "",
                 MetricsOn(port));
  const KillRun run =
      KillsUnderThreeTablesLoad(config, port, 10, kafka().bootstrap(), prefix_,
                                /*min_statements=*/500);
  // The kills came while events were in flight: some were published again.
  // How many depends on where the random kills fell: bounds, not values.
  EXPECT_GT(run.counts.replays, 0);
  EXPECT_GE(run.kills_with_inflight, 5);
}

// The value that follows `"field":` in the compact JSON `json`: an object
// (up to its matching brace) or a scalar (up to the next comma or brace);
// "" when the field is not there. Enough for the records these tests make:
// no string of theirs holds a quote.
std::string JsonField(const std::string& json, const std::string& field) {
  const std::string needle = absl::StrCat("\"", field, "\":");
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  if (json[at] != '{') {
    return json.substr(at, json.find_first_of(",}", at) - at);
  }
  int depth = 0;
  bool in_string = false;
  for (size_t i = at; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      in_string = c != '"';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return json.substr(at, i + 1 - at);
    }
  }
  return "";
}

// What a debezium-json topic of a table (id int PRIMARY KEY, name text)
// holds, by key (the key's payload, `{"id":1}`), each key's records in
// order as "c {after}", "u {after}", "d ID" or "tombstone", then their
// headers: the four context headers as "ctx@RUN" when they hold what they
// must (RUN numbers the runIds in the order first seen), other headers as
// NAME=VALUE.
struct DebeziumTopic {
  std::map<std::string, std::vector<std::string>> by_key;
  std::vector<std::string> run_ids;
  int records = 0;
};

DebeziumTopic ReadDebeziumTopic(const std::string& bootstrap,
                                const std::string& topic,
                                const std::string& prefix) {
  DebeziumTopic out;
  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(bootstrap, topic, /*from_beginning=*/true);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> messages =
      (*reader)->ReadToEnd();
  EXPECT_TRUE(messages.ok()) << messages.status();
  if (!messages.ok()) return out;
  static const std::regex kUuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  // Each key's raw bytes, which every record of the key (its tombstone
  // too) must repeat exactly.
  std::map<std::string, std::string> raw_keys;
  for (const kafka::ConsumedMessage& m : *messages) {
    ++out.records;
    EXPECT_TRUE(m.key.has_value()) << "a record without a key at " << m.offset;
    const std::string key = JsonField(m.key.value_or(""), "payload");
    auto [it, fresh] = raw_keys.emplace(key, m.key.value_or(""));
    EXPECT_EQ(it->second, m.key.value_or("")) << "key " << key;
    std::string text;
    if (m.null_value) {
      EXPECT_EQ(m.value, "");
      text = "tombstone";
    } else {
      const std::string payload = JsonField(m.value, "payload");
      std::string op = JsonField(payload, "op");
      if (op.size() >= 2) op = op.substr(1, op.size() - 2);
      text = op == "d"
                 ? absl::StrCat("d ",
                                JsonField(JsonField(payload, "before"), "id"))
                 : absl::StrCat(op, " ", JsonField(payload, "after"));
    }
    std::vector<std::pair<std::string, std::string>> rest;
    std::vector<std::pair<std::string, std::string>> context;
    for (const auto& header : m.headers) {
      (header.first.rfind("__debezium.context.", 0) == 0 ? context : rest)
          .push_back(header);
    }
    for (const auto& [name, value] : rest) {
      absl::StrAppend(&text, " ", name, "=", value);
    }
    if (context.size() == 4 &&
        context[0] == std::pair<std::string, std::string>(
                          "__debezium.context.connectorLogicalName", prefix) &&
        context[1] == std::pair<std::string, std::string>(
                          "__debezium.context.taskId", "0") &&
        context[2] == std::pair<std::string, std::string>(
                          "__debezium.context.connectorName", "postgresql") &&
        context[3].first == "__debezium.context.runId" &&
        std::regex_match(context[3].second, kUuid)) {
      size_t run = 0;
      while (run < out.run_ids.size() &&
             out.run_ids[run] != context[3].second) {
        ++run;
      }
      if (run == out.run_ids.size()) out.run_ids.push_back(context[3].second);
      absl::StrAppend(&text, " ctx@", run + 1);
    } else {
      for (const auto& [name, value] : context) {
        absl::StrAppend(&text, " ", name, "=", value);
      }
    }
    out.by_key[key].push_back(text);
  }
  return out;
}

// debezium-json on the real broker: the records of inserts, updates, a
// delete (its record, then a tombstone of the same key) and a key change
// (the old key's delete and tombstone naming the new key, the new key's
// create naming the old one), with the context headers on each, and a
// restart after SIGKILL that publishes what was committed while no pgcdc
// ran, under a new runId, without losing or repeating a record.
TEST_F(SingleBrokerTest, DebeziumJsonHeadersTombstonesAndRestart) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, name text)");
  const std::string config =
      RealConfig({"public.t"}, "  format: debezium-json\n");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO t VALUES (1, 'a')");
  Sql("INSERT INTO t VALUES (2, 'b')");
  Sql("INSERT INTO t VALUES (3, 'c')");
  Sql("UPDATE t SET name = 'a2' WHERE id = 1");
  Sql("DELETE FROM t WHERE id = 2");
  Sql("UPDATE t SET id = 30 WHERE id = 3");
  WaitCaughtUp();
  // SIGKILL: no clean shutdown to lean on. The slot confirmed everything
  // published so far, so the next run starts right after it: a repeat
  // would be a record seen twice, a loss one missing.
  ASSERT_NO_FATAL_FAILURE(KillPgcdc(p));
  Sql("INSERT INTO t VALUES (4, 'd')");
  Sql("UPDATE t SET name = 'c2' WHERE id = 30");
  Sql("DELETE FROM t WHERE id = 1");
  p = StartPgcdc(config);
  Sql("INSERT INTO t VALUES (5, 'e')");
  WaitCaughtUp();
  StopPgcdc(p);

  const DebeziumTopic topic =
      ReadDebeziumTopic(kafka().bootstrap(), TopicOf("public.t"), prefix_);
  using ::testing::ElementsAre;
  using ::testing::Pair;
  using ::testing::UnorderedElementsAre;
  EXPECT_THAT(
      topic.by_key,
      UnorderedElementsAre(
          Pair(R"({"id":1})", ElementsAre(R"(c {"id":1,"name":"a"} ctx@1)",
                                          R"(u {"id":1,"name":"a2"} ctx@1)",
                                          "d 1 ctx@2", "tombstone ctx@2")),
          Pair(R"({"id":2})", ElementsAre(R"(c {"id":2,"name":"b"} ctx@1)",
                                          "d 2 ctx@1", "tombstone ctx@1")),
          Pair(R"({"id":30})",
               ElementsAre(
                   R"(c {"id":30,"name":"c"} __debezium.oldkey={"id":3} ctx@1)",
                   R"(u {"id":30,"name":"c2"} ctx@2)")),
          Pair(R"({"id":3})",
               ElementsAre(R"(c {"id":3,"name":"c"} ctx@1)",
                           R"(d 3 __debezium.newkey={"id":30} ctx@1)",
                           R"(tombstone __debezium.newkey={"id":30} ctx@1)")),
          Pair(R"({"id":4})", ElementsAre(R"(c {"id":4,"name":"d"} ctx@2)")),
          Pair(R"({"id":5})", ElementsAre(R"(c {"id":5,"name":"e"} ctx@2)"))));
  // Two runs, two runIds: ctx@1 and ctx@2 are different UUIDs.
  EXPECT_EQ(topic.run_ids.size(), 2u);
  std::cout << "debezium-json on Kafka: " << topic.records << " records, "
            << topic.by_key.size() << " keys checked\n";
}

// On a topic pgcdc creates compacted (kafka.topics.configs), compaction
// keeps each key's last record: for a deleted key that is its tombstone,
// which outlives the records it deletes (delete.retention.ms, a day by
// default), so a consumer that reads the topic from the start learns the
// key is gone. The segments roll every 100 ms and the cleaner takes any
// dirty share, so that it compacts within the test.
TEST_F(SingleBrokerTest, DebeziumJsonTombstonesSurviveCompaction) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, name text)");
  const std::string config =
      RealConfig({"public.t"},
                 "  format: debezium-json\n"
                 "  topics:\n"
                 "    configs: {cleanup.policy: compact, segment.ms: \"100\","
                 " min.cleanable.dirty.ratio: \"0.01\"}\n");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO t VALUES (1, 'a')");
  Sql("INSERT INTO t VALUES (2, 'b')");
  Sql("UPDATE t SET name = 'a2' WHERE id = 1");
  Sql("DELETE FROM t WHERE id = 2");
  Sql("UPDATE t SET id = 3 WHERE id = 1");
  WaitCaughtUp();
  // The active segment is never compacted: a later record, past
  // segment.ms, rolls the one holding the records above. Once more after a
  // while, in case the first landed in the same segment.
  for (int id = 100; id < 103; ++id) {
    absl::SleepFor(absl::Milliseconds(300));
    Sql(absl::StrCat("INSERT INTO t VALUES (", id, ", 'x')"));
  }
  WaitCaughtUp();
  StopPgcdc(p);

  using ::testing::ElementsAre;
  using ::testing::Pair;
  using ::testing::UnorderedElementsAre;
  // The cleaner looks for work every log.cleaner.backoff.ms (15 s).
  DebeziumTopic topic;
  const bool compacted = WaitFor(
      [&] {
        topic = ReadDebeziumTopic(kafka().bootstrap(), TopicOf("public.t"),
                                  prefix_);
        return topic.by_key[R"({"id":2})"].size() == 1;
      },
      120000);
  ASSERT_TRUE(compacted) << "no compaction within 120 s";
  EXPECT_THAT(
      topic.by_key,
      UnorderedElementsAre(
          Pair(R"({"id":100})",
               ElementsAre(R"(c {"id":100,"name":"x"} ctx@1)")),
          Pair(R"({"id":101})",
               ElementsAre(R"(c {"id":101,"name":"x"} ctx@1)")),
          Pair(R"({"id":102})",
               ElementsAre(R"(c {"id":102,"name":"x"} ctx@1)")),
          Pair(R"({"id":1})",
               ElementsAre(R"(tombstone __debezium.newkey={"id":3} ctx@1)")),
          Pair(R"({"id":2})", ElementsAre("tombstone ctx@1")),
          Pair(
              R"({"id":3})",
              ElementsAre(
                  R"(c {"id":3,"name":"a2"} __debezium.oldkey={"id":1} ctx@1)"))));
  std::cout << "compacted: " << topic.records << " records left\n";
}

}  // namespace
}  // namespace cdc::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cdc::testing::RealKafka::Options options;
  options.auto_create = false;
  ::testing::AddGlobalTestEnvironment(
      new cdc::testing::RealKafkaEnvironment(options));
  return RUN_ALL_TESTS();
}
