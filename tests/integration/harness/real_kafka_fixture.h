// RealKafkaTest: PgcdcTest against the real Kafka cluster a test binary
// started (RealKafkaEnvironment) instead of the dev broker. Each test writes
// to topics of its own (its name as the topic prefix), so the tests of a
// binary share the cluster without seeing each other's events.
//
// Thread-compatible, like PgcdcTest.
#ifndef TESTS_INTEGRATION_HARNESS_REAL_KAFKA_FIXTURE_H_
#define TESTS_INTEGRATION_HARNESS_REAL_KAFKA_FIXTURE_H_

#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/real_kafka.h"

namespace cdc::testing {

class RealKafkaTest : public PgcdcTest {
 protected:
  void SetUp() override;

  RealKafka& kafka() { return *RealKafkaEnvironment::kafka(); }
  std::string TopicOf(const std::string& table) const {
    return prefix_ + "." + table;
  }
  // WriteConfig for `tables`, pointed at the real cluster with this test's
  // topic prefix.
  std::string RealConfig(const std::vector<std::string>& tables,
                         const std::string& kafka_extra = "",
                         const std::string& extra = "");
  // ExpectTopicEqualsTable for each public.`table` from its topic on the
  // real cluster.
  void ExpectTopicsEqualTables(const std::vector<std::string>& tables,
                               TopicCounts* counts);
  // The confirmed_flush_lsn of this test's slot, from pg_replication_slots.
  Lsn SlotConfirmed();

  std::string prefix_;
};

// The unlabelled metric `name` from pgcdc's /metrics on `port`; -1 when it
// does not answer.
double Metric(int port, const std::string& name);

// The resident set size of process `pid` in bytes (VmRSS in
// /proc/PID/status); nullopt once it is gone.
std::optional<int64_t> ResidentBytes(int pid);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_REAL_KAFKA_FIXTURE_H_
