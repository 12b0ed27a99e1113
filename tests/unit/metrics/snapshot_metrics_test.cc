#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cdc/metrics/metrics.h"

namespace cdc::metrics {
namespace {

using ::testing::HasSubstr;

TEST(SnapshotMetricsTest, RowsPerTableRunningRemainingAndDuration) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create("");
  ASSERT_TRUE(m.ok()) << m.status();
  (*m)->SetSnapshotRunning(true);
  (*m)->SetSnapshotTablesRemaining(2);
  (*m)->CountSnapshotRows("public.a", 1024);
  (*m)->CountSnapshotRows("public.a", 6);
  (*m)->CountSnapshotRows("public.b", 3);
  (*m)->SetSnapshotDurationSeconds(1.5);
  std::string text = (*m)->Render();
  EXPECT_THAT(text, HasSubstr("pgcdc_snapshot_rows_total{table=\"public.a\"} "
                              "1030"));
  EXPECT_THAT(text,
              HasSubstr("pgcdc_snapshot_rows_total{table=\"public.b\"} 3"));
  EXPECT_THAT(text, HasSubstr("pgcdc_snapshot_running 1"));
  EXPECT_THAT(text, HasSubstr("pgcdc_snapshot_tables_remaining 2"));
  EXPECT_THAT(text, HasSubstr("pgcdc_snapshot_duration_seconds 1.5"));
  (*m)->SetSnapshotRunning(false);
  EXPECT_THAT((*m)->Render(), HasSubstr("pgcdc_snapshot_running 0"));
}

}  // namespace
}  // namespace cdc::metrics
