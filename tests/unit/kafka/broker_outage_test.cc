#include "cdc/kafka/broker_outage.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::kafka {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kRefused[] =
    "127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection "
    "refused";

TEST(BrokerOutageTest, AWholeClusterOutageIsToldAtItsStartEveryIntervalAndEnd) {
  BrokerOutage outage(absl::Seconds(30));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(outage.reachable());
  EXPECT_FALSE(outage.in_outage());
  EXPECT_THAT(outage.Tick(t0), IsEmpty());

  std::string line =
      outage.OnConnectionError(t0, false, "127.0.0.1:9092/1", kRefused);
  EXPECT_THAT(line, StartsWith("Kafka connection trouble: 127.0.0.1:9092/1"));
  EXPECT_THAT(line, HasSubstr("every 30 s"));
  EXPECT_TRUE(outage.reachable());  // another broker may still answer
  // Hundreds of errors a minute, none of them a line of its own but the
  // one that says all brokers are down.
  for (int i = 1; i <= 200; ++i) {
    line = outage.OnConnectionError(t0 + absl::Milliseconds(100 * i), i == 5,
                                    "127.0.0.1:9093/2",
                                    "all broker connections are down");
    if (i == 5) {
      EXPECT_EQ(line,
                "Kafka unreachable: all brokers are down, after 0 s of "
                "connection trouble");
    } else {
      EXPECT_THAT(line, IsEmpty()) << i;
    }
  }
  EXPECT_FALSE(outage.reachable());
  EXPECT_THAT(outage.Tick(t0 + absl::Seconds(29)), IsEmpty());
  line = outage.Tick(t0 + absl::Seconds(30));
  EXPECT_THAT(line, StartsWith("Kafka still unreachable after 30 s: 200 "
                               "connection error(s) in the last 30 s, 201 in "
                               "all; brokers: 127.0.0.1:9092/1, "
                               "127.0.0.1:9093/2; last: all broker "));
  EXPECT_THAT(outage.Tick(t0 + absl::Seconds(45)), IsEmpty());
  // Still down, though librdkafka went quiet (it suppresses repeats).
  line = outage.Tick(t0 + absl::Seconds(60));
  EXPECT_THAT(line, StartsWith("Kafka still unreachable after 1 min 0 s: 0 "));
  // The first acknowledgement ends it.
  line = outage.OnAcknowledged(t0 + absl::Seconds(75));
  EXPECT_EQ(line,
            "Kafka reachable again (acknowledgements resumed) after 1 min "
            "15 s, 201 connection error(s) in all");
  EXPECT_TRUE(outage.reachable());
  EXPECT_FALSE(outage.in_outage());
  EXPECT_THAT(outage.OnAcknowledged(t0 + absl::Seconds(76)), IsEmpty());
  EXPECT_THAT(outage.Tick(t0 + absl::Seconds(200)), IsEmpty());
}

TEST(BrokerOutageTest, ABrokerSeenUpEndsAnOutageWithNothingInFlight) {
  BrokerOutage outage(absl::Seconds(30));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_THAT(outage.OnBrokerUp(t0), IsEmpty());  // no outage
  outage.OnConnectionError(t0, true, "", "all down");
  EXPECT_FALSE(outage.reachable());
  EXPECT_EQ(outage.OnBrokerUp(t0 + absl::Seconds(12)),
            "Kafka reachable again (a broker connection is up) after 12 s, 1 "
            "connection error(s) in all");
  EXPECT_TRUE(outage.reachable());
  EXPECT_FALSE(outage.in_outage());
}

TEST(BrokerOutageTest, OneBrokerDownEndsAfterAQuietInterval) {
  BrokerOutage outage(absl::Seconds(30));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_THAT(outage.OnConnectionError(t0, false, "", "no broker named"),
              StartsWith("Kafka connection trouble: no broker named"));
  // Acknowledgements from the other brokers do not end it.
  EXPECT_THAT(outage.OnAcknowledged(t0 + absl::Seconds(1)), IsEmpty());
  EXPECT_THAT(outage.OnConnectionError(t0 + absl::Seconds(10), false, "b:1/2",
                                       kRefused),
              IsEmpty());
  EXPECT_THAT(outage.Tick(t0 + absl::Seconds(30)),
              StartsWith("Kafka connection trouble goes on after 30 s: 1 "
                         "connection error(s) in the last 30 s, 2 in all; "
                         "brokers: b:1/2; last: "));
  EXPECT_EQ(outage.Tick(t0 + absl::Seconds(60)),
            "Kafka connection trouble over (no connection error since) after "
            "10 s, 2 connection error(s) in all");
  EXPECT_FALSE(outage.in_outage());
  // The next error starts a new episode.
  EXPECT_THAT(
      outage.OnConnectionError(t0 + absl::Seconds(90), false, "", "again"),
      StartsWith("Kafka connection trouble: again"));
}

TEST(BrokerOutageTest, BrokersNamedAreBounded) {
  BrokerOutage outage(absl::Seconds(30));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 10000; ++i) {
    outage.OnConnectionError(t0, false, std::to_string(i) + ":1/1", "x");
  }
  const std::string line = outage.Tick(t0 + absl::Seconds(30));
  EXPECT_LT(line.size(), 400u) << line;
}

}  // namespace
}  // namespace cdc::kafka
