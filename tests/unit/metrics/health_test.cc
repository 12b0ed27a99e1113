#include "cdc/metrics/health.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(HealthTest, ReadyOnlyWhileStreamingOrSnapshottingWithKafkaReachable) {
  Health health;
  EXPECT_FALSE(health.Ready().ready);
  EXPECT_EQ(health.Ready().text, "not ready: starting");

  health.SetPhase(Phase::kSnapshotting);
  EXPECT_TRUE(health.Ready().ready);
  EXPECT_EQ(health.Ready().text, "ready: snapshotting");

  health.SetPhase(Phase::kStreaming, "slot \"s\"");
  EXPECT_TRUE(health.Ready().ready);
  EXPECT_EQ(health.Ready().text, "ready: streaming (slot \"s\")");

  health.SetKafkaReachable(false);
  EXPECT_FALSE(health.Ready().ready);
  EXPECT_EQ(health.Ready().text,
            "not ready: Kafka unreachable while streaming (slot \"s\")");
  health.SetKafkaReachable(true);
  EXPECT_TRUE(health.Ready().ready);

  for (Phase phase : {Phase::kWaitingForSlot, Phase::kReconnecting,
                      Phase::kStopping, Phase::kStarting}) {
    health.SetPhase(phase, "why");
    const Readiness r = health.Ready();
    EXPECT_FALSE(r.ready) << PhaseName(phase);
    EXPECT_THAT(r.text, StartsWith("not ready: "));
    EXPECT_THAT(r.text, HasSubstr(PhaseName(phase)));
    EXPECT_THAT(r.text, HasSubstr("(why)"));
  }
  EXPECT_EQ(health.phase(), Phase::kStarting);
}

}  // namespace
}  // namespace cdc::metrics
