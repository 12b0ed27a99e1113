#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cdc/metrics/metrics.h"

namespace cdc::metrics {
namespace {

// The value of the unlabelled metric `name` in `text`; -1 when absent.
double Value(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, name + " ")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(name.size() + 1), &v)) return v;
    }
  }
  return -1;
}

// LSNs past 4 GiB of WAL (as 3/1A2B3C4D) must come out whole: a double holds
// integers up to 2^53 exactly.
constexpr uint64_t kReceived = (uint64_t{3} << 32) | 0x1A2B3C4D;
constexpr uint64_t kConfirmed = (uint64_t{3} << 32) | 0x1A2B0000;
constexpr uint64_t kServer = (uint64_t{3} << 32) | 0x1A2C0000;

TEST(LsnMetricsTest, ReceivedConfirmedServerAndLag) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create("");
  ASSERT_TRUE(m.ok()) << m.status();
  std::string text = (*m)->Render();
  EXPECT_EQ(Value(text, "pgcdc_received_lsn"), 0);
  (*m)->SetReceivedLsn(kReceived);
  (*m)->SetConfirmedLsn(kConfirmed);
  (*m)->SetServerLsn(kServer);
  text = (*m)->Render();
  EXPECT_EQ(Value(text, "pgcdc_received_lsn"), static_cast<double>(kReceived));
  EXPECT_EQ(Value(text, "pgcdc_confirmed_lsn"),
            static_cast<double>(kConfirmed));
  EXPECT_EQ(Value(text, "pgcdc_server_lsn"), static_cast<double>(kServer));
  // The lag is the server's position minus the confirmed one; what was
  // received does not enter it.
  EXPECT_EQ(Value(text, "pgcdc_lag_bytes"),
            static_cast<double>(kServer - kConfirmed));
  // The gauge shows the last value set.
  (*m)->SetReceivedLsn(kReceived + 8);
  EXPECT_EQ(Value((*m)->Render(), "pgcdc_received_lsn"),
            static_cast<double>(kReceived + 8));
}

}  // namespace
}  // namespace cdc::metrics
