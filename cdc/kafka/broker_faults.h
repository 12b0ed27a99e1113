// BrokerFault: one fault-injection command for the dev broker, as a person
// or a test types it, e.g.
//
//   down            every broker stops answering (connections refused/closed)
//   down 2          broker 2 only
//   up              every broker back
//   rtt 250         every broker delays each response by 250 ms (rtt 0: off)
//   rtt 250 1       broker 1 only
//   errors 5 produce NOT_LEADER_FOR_PARTITION
//                   the next 5 Produce requests fail with that error (any
//                   Kafka error name, as librdkafka spells it without the
//                   RD_KAFKA_RESP_ERR_ prefix); API names: produce, fetch,
//                   metadata, or a numeric ApiKey
//
// ParseBrokerFault is pure (no librdkafka calls beyond its error-name table)
// and reports a malformed command as kInvalidArgument saying what was
// expected; DevBroker::Apply carries a command out.
//
// Plain values; thread-compatible.
#ifndef CDC_KAFKA_BROKER_FAULTS_H_
#define CDC_KAFKA_BROKER_FAULTS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdc::kafka {

struct BrokerFault {
  enum class Kind { kDown, kUp, kRtt, kErrors };
  Kind kind = Kind::kDown;
  int broker = 0;       // 0: every broker
  int rtt_ms = 0;       // kRtt
  int count = 0;        // kErrors: how many requests fail
  int16_t api_key = 0;  // kErrors: Kafka ApiKey (0 Produce, 1 Fetch, ...)
  int error_code = 0;   // kErrors: Kafka error code
  std::string error_name;

  // A one-line description for logs ("broker 2 down").
  std::string Describe() const;
};

absl::StatusOr<BrokerFault> ParseBrokerFault(std::string_view line);

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_BROKER_FAULTS_H_
