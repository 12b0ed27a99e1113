// The Kafka error code a Status carries, and the record-too-large predicate
// the pipeline routes to the dead-letter topic by.
#include "cdc/kafka/kafka_error.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "cdc/common/status.h"

namespace cdc::kafka {
namespace {

TEST(KafkaErrorTest, CarriesItsCode) {
  absl::Status s = KafkaError(absl::StatusCode::kUnavailable,
                              RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, "no");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "no");
  EXPECT_EQ(KafkaErrorOf(s), RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  EXPECT_EQ(KafkaErrorOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(KafkaErrorOf(absl::UnavailableError("no")), std::nullopt);
  // librdkafka's local errors are negative.
  EXPECT_EQ(KafkaErrorOf(KafkaError(absl::StatusCode::kDeadlineExceeded,
                                    RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "late")),
            RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
}

TEST(KafkaErrorTest, RecordTooLargeIsRecognisedByItsCode) {
  EXPECT_TRUE(IsRecordTooLarge(KafkaError(absl::StatusCode::kOutOfRange,
                                          RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                          "a record of 2000000 bytes")));
  EXPECT_TRUE(IsRecordTooLarge(
      WithPrefix(KafkaError(absl::StatusCode::kOutOfRange,
                            RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "big"),
                 "producing: ")));
  // Neither the status code nor the text make it so.
  EXPECT_FALSE(IsRecordTooLarge(
      absl::OutOfRangeError("a record too large (message.max.bytes)")));
  EXPECT_FALSE(
      IsRecordTooLarge(KafkaError(absl::StatusCode::kOutOfRange,
                                  RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, "big")));
  EXPECT_FALSE(IsRecordTooLarge(absl::OkStatus()));
}

}  // namespace
}  // namespace cdc::kafka
