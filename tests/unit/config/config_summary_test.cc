#include "cdc/config/config_summary.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConfigSummaryTest, NamesWhatRunsAndNoValueOfAProperty) {
  Config c;
  c.source.slot = "s1";
  c.source.publication = "p1";
  for (int i = 0; i < 12; ++i) {
    c.source.tables.push_back({"public", absl::StrCat("t", i)});
  }
  c.kafka.bootstrap_servers = "k:9092";
  c.kafka.topic_prefix = "app";
  c.kafka.properties = {{"sasl.password", "Hunter2"},
                        {"sasl.oauthbearer.extensions", "token=Zz9"},
                        {"client.id", "mine"}};
  c.signals.secret = "0123456789abcdef-signal";
  c.metrics.listen = "0.0.0.0:9187";
  const std::string line =
      ConfigSummary(c, "host=db port=5432 dbname=app user=pgcdc");
  EXPECT_THAT(line, HasSubstr("configuration: source host=db port=5432 "
                              "dbname=app user=pgcdc, slot s1, publication p1, "
                              "12 table(s) (public.t0, public.t1"));
  EXPECT_THAT(line, HasSubstr("public.t9, and 2 more)"));
  EXPECT_THAT(line, Not(HasSubstr("public.t10")));
  EXPECT_THAT(line,
              HasSubstr("kafka k:9092, format protobuf, topic prefix app"));
  EXPECT_THAT(line,
              HasSubstr("properties client.id sasl.oauthbearer.extensions "
                        "sasl.password (values not shown)"));
  EXPECT_THAT(line, HasSubstr("; snapshot.mode initial; metrics 0.0.0.0:9187; "
                              "log text at info"));
  for (const char* secret : {"Hunter2", "Zz9", "mine", "signal"}) {
    EXPECT_THAT(line, Not(HasSubstr(secret))) << secret;
  }
}

}  // namespace
}  // namespace cdc::config
