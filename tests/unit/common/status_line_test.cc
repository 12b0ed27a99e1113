#include "cdc/common/status_line.h"

#include <gtest/gtest.h>

namespace cdc {
namespace {

TEST(StatusLineTest, RedrawsInPlaceAndWritesLogLinesAboveIt) {
  StatusLine status;
  EXPECT_FALSE(status.shown());
  // Nothing shown: log lines pass through as they are, clearing writes
  // nothing.
  EXPECT_EQ(status.Log("INFO a\n"), "INFO a\n");
  EXPECT_EQ(status.Clear(), "");

  EXPECT_EQ(status.Show("10%"), "\r10%\x1b[K");
  EXPECT_TRUE(status.shown());
  EXPECT_EQ(status.Show("20%"), "\r20%\x1b[K") << "drawn over the old one";
  // A log line clears the status, takes its place and ends in a newline;
  // the status is drawn again on the line below.
  EXPECT_EQ(status.Log("INFO b\n"), "\r\x1b[KINFO b\n20%");
  EXPECT_EQ(status.Clear(), "\r\x1b[K");
  EXPECT_FALSE(status.shown());
  EXPECT_EQ(status.Log("INFO c\n"), "INFO c\n");
  EXPECT_EQ(status.Clear(), "") << "cleared once";
}

TEST(StatusLineTest, ShowingNothingClears) {
  StatusLine status;
  status.Show("x");
  EXPECT_EQ(status.Show(""), "\r\x1b[K");
  EXPECT_FALSE(status.shown());
}

TEST(FitToColumnsTest, CutsAtTheWidthWithoutSplittingACharacter) {
  EXPECT_EQ(FitToColumns("abcdef", 4), "abcd");
  EXPECT_EQ(FitToColumns("abc", 4), "abc");
  EXPECT_EQ(FitToColumns("abc", 0), "");
  // "é" and "ü" are two bytes each, one column each.
  EXPECT_EQ(FitToColumns("h\xC3\xA9ll\xC3\xBC", 5), "h\xC3\xA9ll\xC3\xBC");
  EXPECT_EQ(FitToColumns("h\xC3\xA9ll\xC3\xBC", 2), "h\xC3\xA9");
}

TEST(FitToColumnsTest, ControlCharactersCannotMoveTheCursor) {
  EXPECT_EQ(FitToColumns("a\nb\rc\td\x1b[2Je", 80), "a b c d [2Je");
}

}  // namespace
}  // namespace cdc
