#include "cdc/pg/pgoutput_options.h"

#include <gtest/gtest.h>

namespace cdc::pg {
namespace {

TEST(PgOutputOptionsTest, NegotiatesTheHighestSharedVersion) {
  struct Case {
    int server;
    int version;
  };
  for (Case c :
       {Case{100000, 1}, Case{130011, 1}, Case{140000, 2}, Case{140010, 2},
        Case{150004, 3}, Case{160002, 3}, Case{170000, 3}}) {
    absl::StatusOr<PgOutputOptions> o =
        NegotiatePgOutput(c.server, 0, true, false, "p");
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->protocol_version, c.version) << c.server;
    EXPECT_EQ(o->streaming, c.version >= 2) << c.server;
  }
}

TEST(PgOutputOptionsTest, HonoursARequestedVersion) {
  absl::StatusOr<PgOutputOptions> one =
      NegotiatePgOutput(150004, 1, true, false, "p");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->protocol_version, 1);
  EXPECT_FALSE(one->streaming);  // version 1 has no streaming
  absl::StatusOr<PgOutputOptions> two =
      NegotiatePgOutput(150004, 2, false, false, "p");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->protocol_version, 2);
  EXPECT_FALSE(two->streaming);  // not wanted
}

TEST(PgOutputOptionsTest, RefusesAVersionTheServerLacks) {
  absl::StatusOr<PgOutputOptions> o =
      NegotiatePgOutput(140005, 3, true, false, "p");
  EXPECT_EQ(o.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(o.status().message().find("protocol 1 to 2"), std::string::npos)
      << o.status();
}

TEST(PgOutputOptionsTest, FormatsTheStartOptions) {
  absl::StatusOr<PgOutputOptions> o =
      NegotiatePgOutput(150004, 0, true, true, "my \"pub's\"");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(FormatPgOutputOptions(*o),
            "proto_version '3', publication_names '\"my \"\"pub''s\"\"\"', "
            "messages 'true', streaming 'on'");
  o = NegotiatePgOutput(130000, 0, true, false, "p");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(FormatPgOutputOptions(*o),
            "proto_version '1', publication_names '\"p\"'");
}

}  // namespace
}  // namespace cdc::pg
