#include "cdc/common/lsn.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
TEST(LsnTest, RoundTrips) {
  auto l = cdc::ParseLsn("16/B374D848");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(cdc::FormatLsn(*l), "16/B374D848");
  EXPECT_EQ(*l, 0x16B374D848ull);
  EXPECT_EQ(cdc::ParseLsn("zz").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LsnTest, TimestampConversionsSaturate) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(cdc::PostgresToUnixMicros(0), 946684800000000);
  EXPECT_EQ(cdc::UnixToPostgresMicros(946684800000000), 0);
  // A Begin's commit_ts from a corrupt stream (caught by stream_fuzz under
  // UBSan): these used to overflow, which is undefined behaviour.
  EXPECT_EQ(cdc::PostgresToUnixMicros(kMax), kMax);
  EXPECT_EQ(cdc::PostgresToUnixMicros(kMax - 946684800000000), kMax);
  EXPECT_EQ(cdc::PostgresToUnixMicros(kMin), kMin + 946684800000000);
  EXPECT_EQ(cdc::UnixToPostgresMicros(kMin), kMin);
  EXPECT_EQ(cdc::UnixToPostgresMicros(kMax), kMax - 946684800000000);
}
