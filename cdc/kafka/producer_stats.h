// ProducerStats: what pgcdc takes from librdkafka's statistics (the JSON
// document its stats_cb receives every statistics.interval.ms): the produce
// requests retried, summed over the brokers ("brokers": {name: {"txretries":
// N}}), and a counter that turns that cumulative sum into increments.
//
// The document is read by a small iterative scanner, not a general JSON
// library: it validates the whole document's syntax (depth at most
// kMaxDepth), and looks only at numbers whose path is
// brokers.<any>.txretries. Malformed text is an error, never a crash.
//
// Pure; SumBrokerTxRetries is thread-safe, RetryDelta thread-compatible.
#ifndef CDC_KAFKA_PRODUCER_STATS_H_
#define CDC_KAFKA_PRODUCER_STATS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdc::kafka {

inline constexpr int kMaxDepth = 64;

// The sum of every broker's "txretries" in a librdkafka statistics
// document; 0 when it lists no brokers. kInvalidArgument for text that is
// not a JSON object, nested deeper than kMaxDepth, or whose txretries is not
// a non-negative integer (or overflows the sum).
absl::StatusOr<uint64_t> SumBrokerTxRetries(std::string_view json);

// The increments of a cumulative count: Update returns how much it grew
// since the last call. A count that went down (a broker removed from the
// cluster takes its retries along) restarts from the new value: nothing is
// counted twice, and retries of the missing broker are not subtracted.
class RetryDelta {
 public:
  uint64_t Update(uint64_t total) {
    const uint64_t delta = total >= last_ ? total - last_ : 0;
    last_ = total;
    return delta;
  }

 private:
  uint64_t last_ = 0;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_PRODUCER_STATS_H_
