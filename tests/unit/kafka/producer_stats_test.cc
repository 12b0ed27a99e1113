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
  "topics": {"test": {"topic": "test", "partitions": {}}},
  "eos": {"idemp_state": "Assigned"}
})";

TEST(ProducerStatsTest, SumsTheBrokersTxretriesOnly) {
  absl::StatusOr<uint64_t> sum = SumBrokerTxRetries(kSample);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 43u);  // not the top-level 999 nor the toppar's 1000
}

TEST(ProducerStatsTest, NoBrokersIsZero) {
  EXPECT_EQ(SumBrokerTxRetries(R"({"brokers":{}})").value_or(7), 0u);
  EXPECT_EQ(SumBrokerTxRetries(R"({"name":"x"})").value_or(7), 0u);
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
    absl::StatusOr<uint64_t> sum = SumBrokerTxRetries(bad);
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
    const bool ok = SumBrokerTxRetries(sample.substr(0, n)).ok();
    EXPECT_FALSE(ok) << n;
  }
}

TEST(RetryDeltaTest, IncrementsOfACumulativeCount) {
  RetryDelta d;
  EXPECT_EQ(d.Update(0), 0u);
  EXPECT_EQ(d.Update(5), 5u);
  EXPECT_EQ(d.Update(5), 0u);
  EXPECT_EQ(d.Update(12), 7u);
  EXPECT_EQ(d.Update(2), 0u);  // a broker left: restart from 2
  EXPECT_EQ(d.Update(4), 2u);
}

}  // namespace
}  // namespace cdc::kafka
