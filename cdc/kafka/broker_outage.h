// BrokerOutage: what pgcdc logs of Kafka connection trouble.
//
// librdkafka reports a connection error each time it fails to reach a
// broker: several a second while one is down, for as long as it is down.
// Logged one for one, an hour's outage is thousands of identical lines.
// BrokerOutage turns them into three kinds of line:
//   - when the trouble starts (the first error after a quiet spell): one
//     warning naming it;
//   - while it lasts, one summary every `summary_interval`: how long, how
//     many errors, which brokers, the last error, whether all were down;
//   - when it ends: when an acknowledgement arrives or a broker connection
//     is seen up (librdkafka's statistics) after all brokers were down, or
//     when a whole interval passed without an error (a single broker came
//     back).
// It also tells whether Kafka is reachable (for /readyz): not from the
// moment librdkafka says all brokers are down until the next
// acknowledgement or broker seen up.
//
// Pure: the caller passes the time and logs the lines it returns.
// Thread-compatible: one owner (the producer's poll thread).
#ifndef CDC_KAFKA_BROKER_OUTAGE_H_
#define CDC_KAFKA_BROKER_OUTAGE_H_

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace cdc::kafka {

inline constexpr absl::Duration kOutageSummaryInterval = absl::Seconds(30);

class BrokerOutage {
 public:
  explicit BrokerOutage(
      absl::Duration summary_interval = kOutageSummaryInterval)
      : interval_(summary_interval) {}

  // A connection error: `all_down` for librdkafka's _ALL_BROKERS_DOWN,
  // `broker` the broker named by the error ("host:port/id", "" if none),
  // `reason` librdkafka's text. Returns the warning to log when it starts
  // an outage, else "".
  std::string OnConnectionError(absl::Time now, bool all_down,
                                std::string_view broker,
                                std::string_view reason);
  // An acknowledgement came. Returns the line to log when it ends an
  // outage in which all brokers were down, else "".
  std::string OnAcknowledged(absl::Time now);
  // A broker's connection is up (librdkafka's statistics). Returns the line
  // to log when it ends an outage in which all brokers were down, else "".
  std::string OnBrokerUp(absl::Time now);
  // Returns the summary or the end line due at `now`, else "".
  std::string Tick(absl::Time now);

  bool in_outage() const { return in_outage_; }
  bool reachable() const { return !all_down_; }

 private:
  std::string End(absl::Time now, std::string_view how);

  absl::Duration interval_;
  bool in_outage_ = false;
  bool all_down_ = false;       // since _ALL_BROKERS_DOWN, until an ack
  bool ever_all_down_ = false;  // in this outage
  absl::Time started_;
  absl::Time last_error_;
  absl::Time next_summary_;
  int64_t errors_ = 0;  // in this outage
  int64_t errors_since_summary_ = 0;
  std::set<std::string> brokers_;  // named in this outage
  std::string last_reason_;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_BROKER_OUTAGE_H_
