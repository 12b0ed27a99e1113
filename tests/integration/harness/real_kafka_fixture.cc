#include "tests/integration/harness/real_kafka_fixture.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {

void RealKafkaTest::SetUp() {
  PgcdcTest::SetUp();
  ASSERT_NE(RealKafkaEnvironment::kafka(), nullptr) << "no Kafka cluster";
  prefix_ = absl::AsciiStrToLower(
      ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

std::string RealKafkaTest::RealConfig(const std::vector<std::string>& tables,
                                      const std::string& kafka_extra,
                                      const std::string& extra) {
  const std::string path = WriteConfig(tables, kafka_extra, extra);
  EditConfig(path, "bootstrap_servers: \"[^\"]*\"",
             "bootstrap_servers: \"" + kafka().bootstrap() + "\"");
  EditConfig(path, "topic_prefix: test", "topic_prefix: " + prefix_);
  return path;
}

void RealKafkaTest::ExpectTopicsEqualTables(
    const std::vector<std::string>& tables, TopicCounts* counts) {
  for (const std::string& table : tables) {
    ExpectTopicEqualsTable(kafka().bootstrap(), TopicOf("public." + table),
                           table, counts);
  }
}

Lsn RealKafkaTest::SlotConfirmed() {
  absl::StatusOr<Lsn> lsn = cluster_->ConfirmedFlush(db_, slot_);
  EXPECT_TRUE(lsn.ok()) << lsn.status();
  return lsn.value_or(0);
}

double Metric(int port, const std::string& name) {
  return MetricValue(HttpGet(port, "/metrics"), name);
}

std::optional<int64_t> ResidentBytes(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::string kb(absl::StripAsciiWhitespace(line.substr(6)));
    kb = kb.substr(0, kb.find(' '));
    int64_t value = 0;
    if (absl::SimpleAtoi(kb, &value)) return value * 1024;
  }
  return std::nullopt;
}

}  // namespace cdc::testing
