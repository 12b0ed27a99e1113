// The slot gauges (pgcdc_slot_*) and the producer retries counter as
// /metrics renders them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cdc/metrics/metrics.h"

namespace cdc::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SlotMetricsTest, RetainedSafeAndOneWalStatusSet) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create("");
  ASSERT_TRUE(m.ok()) << m.status();
  (*m)->SetSlotWal(123456, 654321, "extended");
  std::string text = (*m)->Render();
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_retained_wal_bytes 123456\n"));
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_safe_wal_size_bytes 654321\n"));
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_wal_status{status=\"extended\"} 1"));
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_wal_status{status=\"reserved\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("pgcdc_slot_wal_status{status=\"unreserved\"} 0"));
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_wal_status{status=\"lost\"} 0"));

  (*m)->SetSlotWal(-1, -1, "lost");
  text = (*m)->Render();
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_safe_wal_size_bytes -1\n"));
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_wal_status{status=\"lost\"} 1"));
  EXPECT_THAT(text, HasSubstr("pgcdc_slot_wal_status{status=\"extended\"} 0"));

  // NULL or a status this pgcdc does not know: every series 0.
  (*m)->SetSlotWal(0, -1, "something new");
  text = (*m)->Render();
  EXPECT_THAT(text, Not(HasSubstr("pgcdc_slot_wal_status{status=\"lost\"} 1")));
  EXPECT_THAT(text, Not(HasSubstr("\"something new\"")));
}

TEST(SlotMetricsTest, ProducerRetriesAccumulate) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create("");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT((*m)->Render(), HasSubstr("pgcdc_producer_retries_total 0\n"));
  (*m)->CountProducerRetries(3);
  (*m)->CountProducerRetries(0);
  (*m)->CountProducerRetries(4);
  EXPECT_THAT((*m)->Render(), HasSubstr("pgcdc_producer_retries_total 7\n"));
}

}  // namespace
}  // namespace cdc::metrics
