// pgcdc against one real Apache Kafka 4.x broker (PLAINTEXT, no topic
// auto-creation: pgcdc creates its topics): killed with SIGKILL ten times at random moments under a
// mixed load on three tables (inserts, updates, deletes, key moves and
// transactions over all three), it loses nothing — each table rebuilds
// exactly from its topic — keeps every key's events in order, and the only
// duplicates in the topics are replays of unconfirmed transactions.
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/harness/real_kafka_fixture.h"
#include "tests/integration/harness/three_tables.h"

namespace cdc::testing {
namespace {

using SingleBrokerTest = RealKafkaTest;

TEST_F(SingleBrokerTest, TenKillsUnderAMixedLoadLoseNothing) {
  Sql(kAccounts);
  Sql(kOrdersAndItems);
  const int port = FreePort();
  const std::string config =
      RealConfig({"public.accounts", "public.orders", "public.items"}, "",
                 MetricsOn(port));
  const KillRun run =
      KillsUnderThreeTablesLoad(config, port, 10, kafka().bootstrap(), prefix_,
                                /*min_statements=*/500);
  // The kills came while events were in flight: some were published again.
  // How many depends on where the random kills fell: bounds, not values.
  EXPECT_GT(run.counts.replays, 0);
  EXPECT_GE(run.kills_with_inflight, 5);
}

}  // namespace
}  // namespace cdc::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cdc::testing::RealKafka::Options options;
  options.auto_create = false;
  ::testing::AddGlobalTestEnvironment(
      new cdc::testing::RealKafkaEnvironment(options));
  return RUN_ALL_TESTS();
}
