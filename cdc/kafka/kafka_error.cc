#include "cdc/kafka/kafka_error.h"

#include <librdkafka/rdkafka.h>

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc::kafka {

absl::Status KafkaError(absl::StatusCode code, int kafka_error,
                        std::string_view message) {
  absl::Status status(code, AsAbsl(message));
  status.SetPayload(kKafkaErrorPayloadUrl,
                    absl::Cord(absl::StrCat(kafka_error)));
  return status;
}

std::optional<int> KafkaErrorOf(const absl::Status& status) {
  auto payload = status.GetPayload(kKafkaErrorPayloadUrl);
  int code = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &code)) {
    return std::nullopt;
  }
  return code;
}

bool IsRecordTooLarge(const absl::Status& status) {
  return KafkaErrorOf(status) == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
}

}  // namespace cdc::kafka
