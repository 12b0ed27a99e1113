// Kafka error codes carried by absl::Status.
//
// A failed produce call or delivery becomes a Status whose code says what a
// caller may do about it (kUnavailable: wait for the cluster, ...), and
// whose payload keeps librdkafka's error code (rd_kafka_resp_err_t), so that
// a caller that treats one condition apart — a record larger than the
// producer's message.max.bytes goes to the dead-letter topic — tests that
// condition rather than a status code other errors may share, or the text.
//
// Pure header (the code travels as an int, so that callers need not include
// librdkafka); stateless and thread-safe.
#ifndef CDC_KAFKA_KAFKA_ERROR_H_
#define CDC_KAFKA_KAFKA_ERROR_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace cdc::kafka {

// The type URL of the payload that holds a Status's Kafka error code.
inline constexpr char kKafkaErrorPayloadUrl[] = "pgcdc/kafka.error";

// An error with `code`, `message`, and `kafka_error` (an
// rd_kafka_resp_err_t) as its payload.
absl::Status KafkaError(absl::StatusCode code, int kafka_error,
                        std::string_view message);

// The Kafka error code a Status carries; nullopt when it carries none.
std::optional<int> KafkaErrorOf(const absl::Status& status);

// Whether `status` says a record was refused for its size
// (RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE): nothing of it was sent, and
// sending it again unchanged cannot succeed.
bool IsRecordTooLarge(const absl::Status& status);

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_KAFKA_ERROR_H_
