#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cdc/metrics/metrics.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::metrics {
namespace {

// The value of the pgcdc_events_total series for `table` and `op` in
// `text`; -1 when absent.
double Events(const std::string& text, const std::string& table,
              const std::string& op) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, "pgcdc_events_total{") ||
        !absl::StrContains(line, "table=\"" + table + "\"") ||
        !absl::StrContains(line, "op=\"" + op + "\"")) {
      continue;
    }
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) return v;
  }
  return -1;
}

// CountEvent(schema, table, op) keeps the last table's counters: runs of
// one table, switches between tables (and back), a table whose name
// another's schema and name concatenate to, and a logical message (no
// table) all land in their own series.
TEST(EventMetricsTest, CountsPerTableAndOpAcrossRunsAndSwitches) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create("");
  ASSERT_TRUE(m.ok()) << m.status();
  Metrics& metrics = **m;
  for (int i = 0; i < 3; ++i) metrics.CountEvent("public", "a", v1::CREATE);
  metrics.CountEvent("public", "b", v1::CREATE);
  metrics.CountEvent("public", "a", v1::DELETE);
  metrics.CountEvent("public", "a", v1::CREATE);
  metrics.CountEvent("publ", "ic.a", v1::CREATE);  // "publ.ic.a"
  metrics.CountEvent("other", "a", v1::CREATE);
  metrics.CountEvent("", "", v1::MESSAGE);
  metrics.CountEvent("", "", v1::MESSAGE);
  metrics.CountEvent(std::string("public.b"), v1::CREATE);
  metrics.CountEvent("public", "b", v1::CREATE);

  const std::string text = metrics.Render();
  EXPECT_EQ(Events(text, "public.a", "create"), 4);
  EXPECT_EQ(Events(text, "public.a", "delete"), 1);
  EXPECT_EQ(Events(text, "public.b", "create"), 3);
  EXPECT_EQ(Events(text, "publ.ic.a", "create"), 1);
  EXPECT_EQ(Events(text, "other.a", "create"), 1);
  EXPECT_EQ(Events(text, "", "message"), 2);
}

}  // namespace
}  // namespace cdc::metrics
