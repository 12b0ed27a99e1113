#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cdc/metrics/metrics.h"

namespace cdc::metrics {
namespace {

using ::testing::HasSubstr;

TEST(CommitToAckMetricsTest, MillisecondBucketsAndRunningMaximum) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create("");
  ASSERT_TRUE(m.ok()) << m.status();
  (*m)->ObserveCommitToAck(0.0034);
  (*m)->ObserveCommitToAck(0.0121);
  (*m)->ObserveCommitToAck(-0.001);  // clocks a little apart: counted as 0
  (*m)->ObserveCommitToAck(0.0052);
  std::string text = (*m)->Render();
  EXPECT_THAT(text, HasSubstr("pgcdc_commit_to_ack_seconds_count 4"));
  EXPECT_THAT(text,
              HasSubstr("pgcdc_commit_to_ack_seconds_bucket{le=\"0.0005\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("pgcdc_commit_to_ack_seconds_bucket{le=\"0.003\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("pgcdc_commit_to_ack_seconds_bucket{le=\"0.004\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("pgcdc_commit_to_ack_seconds_bucket{le=\"0.013\"} 4"));
  EXPECT_THAT(text, HasSubstr("pgcdc_commit_to_ack_max_seconds 0.0121"));
}

}  // namespace
}  // namespace cdc::metrics
