#include <gtest/gtest.h>
#include "cdc/common/lsn.h"
TEST(LsnTest, RoundTrips) { auto l = cdc::ParseLsn("16/B374D848"); ASSERT_TRUE(l.ok()); EXPECT_EQ(cdc::FormatLsn(*l), "16/B374D848"); EXPECT_EQ(*l, 0x16B374D848ull); EXPECT_EQ(cdc::ParseLsn("zz").status().code(), absl::StatusCode::kInvalidArgument); }
