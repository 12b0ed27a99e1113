// librdkafka's statistics → the retries pgcdc counts: a real-shaped sample,
// and hostile documents that must fail cleanly.
#include "cdc/kafka/producer_stats.h"

#include <gtest/gtest.h>

#include <string>

namespace cdc::kafka {
namespace {

// Trimmed from a librdkafka 2.8 producer's statistics: the same nesting,
// the same neighbours of txretries (and a "txretries"-like key elsewhere).
constexpr char kSample[] = R"({
  "name": "rdkafka#producer-1", "client_id": "rdkafka", "type": "producer",
  "ts": 5016483227792, "time": 1527060869, "replyq": 0, "msg_cnt": 22710,
  "txretries": 999,
  "brokers": {
    "localhost:36457/2": {
      "name": "localhost:36457/2", "nodeid": 2, "state": "UP",
      "stateage": 9057234, "outbuf_cnt": 0, "tx": 320, "txbytes": 84283332,
      "txerrs": 0, "txretries": 3, "txidle": 0, "req_timeouts": 0,
      "rx": 320, "rxbytes": 15708, "rxerrs": 0, "rxcorriderrs": 0,
      "int_latency": {"min": 49, "max": 8, "avg": 1.5e2, "p99": 0},
      "req": {"Produce": 320, "Metadata": 2},
      "toppars": {"test-0": {"topic": "test", "partition": 0,
                             "txretries": 1000}}
    },
    "localhost:36458/3": {"name": "localhost:36458/3", "txretries": 40,
                          "source": "learned", "nodeid": -1,
                          "wakeups": [1, 2, {"x": null}], "up": true}
  },
  "topics": {"test": {"topic": "test", "partitions": {
    "0": {"partition": 0, "msgq_cnt": 3, "xmit_msgq_cnt": 1, "txmsgs": 9,
          "msgs": 10, "msgs_inflight": 2, "next_ack_seq": 4},
    "1": {"partition": 1, "msgq_cnt": 0, "xmit_msgq_cnt": 0, "txmsgs": 5,
          "msgs": 5},
    "-1": {"partition": -1, "msgq_cnt": 0, "xmit_msgq_cnt": 0, "txmsgs": 0,
           "msgs": 7}}}},
  "eos": {"idemp_state": "Assigned"}
})";

TEST(ProducerStatsTest, RequestAndMessageRetries) {
  absl::StatusOr<ProducerStats> r = ParseProducerStats(kSample);
  ASSERT_TRUE(r.ok()) << r.status();
  // The brokers' txretries, not the top-level 999 nor the toppar's 1000.
  EXPECT_EQ(r->request_retries, 43u);
  // Partition 0: 9 sent for 6 that left the queues (10 - 3 - 1); partition
  // 1: none again; the unassigned partition (-1) is not counted.
  EXPECT_EQ(r->message_retransmissions, 3u);
  EXPECT_EQ(r->total(), 46u);
}

TEST(ProducerStatsTest, BrokersUpButTheInternalOne) {
  // The sample: one broker UP, the other without a state.
  absl::StatusOr<ProducerStats> r = ParseProducerStats(kSample);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->brokers_up, 1);
  r = ParseProducerStats(
      R"({"brokers":{":0/internal":{"source":"internal","state":"UP"},)"
      R"("a:1/bootstrap":{"source":"configured","state":"CONNECT"},)"
      R"("a:1/1":{"source":"learned","state":"DOWN"}}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->brokers_up, 0);
  r = ParseProducerStats(
      R"({"brokers":{"a:1/1":{"state":"UP","source":"learned"},)"
      R"("b:1/2":{"source":"learned","state":"UP"}},"state":"UP"})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->brokers_up, 2);
}

TEST(ProducerStatsTest, NothingListedIsZero) {
  for (const char* json : {R"({"brokers":{}})", R"({"name":"x"})",
                           R"({"topics":{"t":{"partitions":{}}}})"}) {
    absl::StatusOr<ProducerStats> r = ParseProducerStats(json);
    ASSERT_TRUE(r.ok()) << json;
    EXPECT_EQ(r->total(), 0u) << json;
  }
  // Messages still queued were not sent again, whatever txmsgs says.
  absl::StatusOr<ProducerStats> r = ParseProducerStats(
      R"({"topics":{"t":{"partitions":{"0":{"txmsgs":2,"msgs":5,)"
      R"("msgq_cnt":2,"xmit_msgq_cnt":1}}}}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message_retransmissions, 0u);
}

TEST(ProducerStatsTest, MalformedDocumentsAreErrorsNotCrashes) {
  const std::string deep = std::string(100000, '[');
  const std::string deep_object = "{\"a\":" + std::string(kMaxDepth + 1, '[') +
                                  std::string(kMaxDepth + 1, ']') + "}";
  for (const std::string& bad : std::initializer_list<std::string>{
           "",
           "   ",
           "[]",
           "\"brokers\"",
           "{",
           "}",
           "{\"brokers\"",
           "{\"brokers\":",
           "{\"brokers\":{\"b\":{\"txretries\":}}}",
           "{\"brokers\":{\"b\":{\"txretries\":-1}}}",
           "{\"brokers\":{\"b\":{\"txretries\":1.5}}}",
           "{\"brokers\":{\"b\":{\"txretries\":1e3}}}",
           "{\"brokers\":{\"b\":{\"txretries\":99999999999999999999999}}}",
           "{\"brokers\":{\"a\":{\"txretries\":18446744073709551615},"
           "\"b\":{\"txretries\":1}}}",
           "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"msgs\":-1}}}}}",
           "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"txmsgs\":"
           "9223372036854775807},\"1\":{\"txmsgs\":1}}}}}",
           "{\"a\":1,}",
           "{\"a\" 1}",
           "{\"a\":01}",
           "{\"a\":tru}",
           "{\"a\":\"unterminated}",
           "{\"a\":\"bad \\x escape\"}",
           "{\"a\":\"ctl \x01\"}",
           "{\"a\":[1,2}",
           "{} {}",
           "{}x",
           std::string("{\"a\":\"\0\"}", 9),
           deep,
           deep_object}) {
    absl::StatusOr<ProducerStats> sum = ParseProducerStats(bad);
    EXPECT_FALSE(sum.ok()) << bad.substr(0, 80);
    if (!sum.ok()) {
      EXPECT_EQ(sum.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(ProducerStatsTest, EveryPrefixOfTheSampleFailsCleanly) {
  const std::string sample = kSample;
  for (size_t n = 0; n < sample.size(); ++n) {
    // Only the whole document (and it plus whitespace) parses.
    const bool ok = ParseProducerStats(sample.substr(0, n)).ok();
    EXPECT_FALSE(ok) << n;
  }
}

TEST(RetryDeltaTest, IncrementsOfACumulativeCount) {
  RetryDelta d;
  EXPECT_EQ(d.Update(0), 0u);
  EXPECT_EQ(d.Update(5), 5u);
  EXPECT_EQ(d.Update(5), 0u);
  EXPECT_EQ(d.Update(12), 7u);
  EXPECT_EQ(d.Update(2), 0u);  // went down: nothing until it passes 12
  EXPECT_EQ(d.Update(11), 0u);
  EXPECT_EQ(d.Update(14), 2u);
}

}  // namespace
}  // namespace cdc::kafka
