// ProducerStats: what pgcdc takes from librdkafka's statistics (the JSON
// document its stats_cb receives every statistics.interval.ms): retries,
// brokers connected, and a counter that turns cumulative figures into
// increments.
//
// Two kinds of retry are in the document:
//   - requests sent again: brokers.<b>.txretries, summed over the brokers;
//   - messages sent again: per partition, txmsgs (messages transmitted,
//     each retransmission included) minus the messages that ever left the
//     partition's queues (msgs - msgq_cnt - xmit_msgq_cnt), summed over the
//     partitions but the unassigned one (-1).
// The idempotent producer pgcdc runs retries a produce request that failed
// (a retriable error, a timeout, a lost connection) by building a new one
// from its message queue, so txretries stays 0 while messages are sent
// again (measured with librdkafka 2.8's mock cluster: three produce
// errors, txretries 0, txmsgs 4 for one message). pgcdc therefore counts
// both.
//
// The document is read by a small iterative scanner, not a general JSON
// library: it validates the whole document's syntax (depth at most
// kMaxDepth), and looks only at the numbers on those paths. Malformed text
// is an error, never a crash.
//
// Pure; ParseProducerStats is thread-safe, RetryDelta thread-compatible.
#ifndef CDC_KAFKA_PRODUCER_STATS_H_
#define CDC_KAFKA_PRODUCER_STATS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdc::kafka {

inline constexpr int kMaxDepth = 64;

struct ProducerStats {
  uint64_t request_retries = 0;          // sum of brokers' txretries
  uint64_t message_retransmissions = 0;  // see the top
  uint64_t total() const { return request_retries + message_retransmissions; }
  // Brokers whose connection is up (brokers.<b>.state "UP"), librdkafka's
  // internal one (source "internal") left out: a sign Kafka answers again
  // after an outage when nothing is in flight to be acknowledged.
  int brokers_up = 0;
};

// Both counts from a librdkafka statistics document; 0 for what it does
// not list. kInvalidArgument for text that is not a JSON object, nested
// deeper than kMaxDepth, or whose counters on those paths are not
// non-negative integers (or overflow their sums).
absl::StatusOr<ProducerStats> ParseProducerStats(std::string_view json);

// The increments of a cumulative count: Update returns how much it rose
// above the highest value seen before. A count that went down (figures read
// a moment apart, or a broker gone with its txretries) counts nothing until
// it passes that mark again: a retry may go uncounted, none is counted
// twice.
class RetryDelta {
 public:
  uint64_t Update(uint64_t total) {
    if (total <= high_) return 0;
    const uint64_t delta = total - high_;
    high_ = total;
    return delta;
  }

 private:
  uint64_t high_ = 0;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_PRODUCER_STATS_H_
