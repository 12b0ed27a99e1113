#include "cdc/snapshot/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdc::snapshot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

SnapshotProgress TwoTables() {
  return SnapshotProgress(
      {{"public.a", 1000, 0, false}, {"public.b", 3000, 0, false}},
      /*start_seconds=*/100);
}

TEST(SnapshotProgressTest, RateAndTimeLeftFromRowsAndEstimates) {
  SnapshotProgress p = TwoTables();
  EXPECT_EQ(p.Rate(100), 0);
  EXPECT_EQ(p.SecondsLeft(100), -1) << "no rate yet";
  p.AddRows(0, 500);
  EXPECT_DOUBLE_EQ(p.Rate(110), 50);
  // 500 of a and 3000 of b left at 50 rows/s.
  EXPECT_DOUBLE_EQ(p.SecondsLeft(110), 70);
  EXPECT_EQ(p.Line(0, 110),
            "snapshot: public.a 500 of ~1000 rows (50%); 2 of 2 table(s) "
            "left; 50 rows/s; about 1 min 10 s left");
  p.AddRows(0, 500);
  p.Finish(0);
  EXPECT_EQ(p.tables_remaining(), 1u);
  EXPECT_EQ(p.total_rows(), 1000u);
  EXPECT_THAT(p.Line(0, 120), HasSubstr("1000 of ~1000 rows (100%); 1 of 2"));
  p.AddRows(1, 3000);
  p.Finish(1);
  // Done: no time left to tell.
  EXPECT_EQ(p.Line(1, 140),
            "snapshot: public.b 3000 of ~3000 rows (100%); 0 of 2 table(s) "
            "left; 100 rows/s");
}

TEST(SnapshotProgressTest, AStaleEstimateNeverShowsMoreThanDone) {
  SnapshotProgress p = TwoTables();
  p.AddRows(0, 1500);  // the table grew since ANALYZE
  EXPECT_THAT(p.Line(0, 101), HasSubstr("1500 of ~1000 rows (99%)"));
  // Its overshoot counts as nothing left, not as negative time.
  EXPECT_DOUBLE_EQ(p.SecondsLeft(101), 3000.0 / 1500.0);
  p.Finish(0);
  EXPECT_THAT(p.Line(0, 101), HasSubstr("(100%)"));
}

TEST(SnapshotProgressTest, UnknownEstimateHasNoPercentOrTimeLeft) {
  SnapshotProgress p({{"public.a", -1, 0, false}}, 0);
  p.AddRows(0, 10);
  EXPECT_EQ(p.SecondsLeft(5), -1);
  std::string line = p.Line(0, 5);
  EXPECT_THAT(line, HasSubstr("public.a 10 rows (total unknown)"));
  EXPECT_THAT(line, Not(HasSubstr("%")));
  EXPECT_THAT(line, Not(HasSubstr("about")));
  p.SetEstimate(0, 20);
  EXPECT_DOUBLE_EQ(p.SecondsLeft(5), 5);
}

TEST(SnapshotProgressTest, StatusTextIsTheLineShortened) {
  SnapshotProgress p = TwoTables();
  p.AddRows(0, 500);
  EXPECT_EQ(p.StatusText(0, 110),
            "snapshot public.a 500/~1000 rows 50% | 50 rows/s | about "
            "1 min 10 s left | table 1 of 2");
  p.AddRows(0, 700);  // outgrew its estimate
  EXPECT_THAT(p.StatusText(0, 112), HasSubstr("1200/~1000 rows 99% |"));
  p.Finish(0);
  p.AddRows(1, 3000);
  p.Finish(1);
  EXPECT_EQ(p.StatusText(1, 142),
            "snapshot public.b 3000/~3000 rows 100% | 100 rows/s | table 2 of "
            "2");

  // One table of unknown size: no percent, no time left, no table count.
  SnapshotProgress one({{"public.c", -1, 0, false}}, 0);
  one.AddRows(0, 10);
  EXPECT_EQ(one.StatusText(0, 5), "snapshot public.c 10 rows | 2 rows/s");
}

TEST(SnapshotProgressTest, FormatDuration) {
  EXPECT_EQ(FormatDuration(-3), "0.0 s");
  EXPECT_EQ(FormatDuration(0.74), "0.7 s");
  EXPECT_EQ(FormatDuration(9.96), "10 s");
  EXPECT_EQ(FormatDuration(42.4), "42 s");
  EXPECT_EQ(FormatDuration(200), "3 min 20 s");
  EXPECT_EQ(FormatDuration(7500), "2 h 05 min");
}

}  // namespace
}  // namespace cdc::snapshot
