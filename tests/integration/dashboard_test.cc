// deploy/grafana/pgcdc.json against a running pgcdc: every metric its
// queries use is in a real /metrics scrape.
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/pg_cluster.h"

namespace cdc::testing {
namespace {

// The metric names a PromQL expression reads: identifiers that are not a
// function or aggregation (followed by "("), a keyword, a label name (in
// {...} or a by/without/on/ignoring/group_* list), a range or a string.
std::set<std::string> MetricNames(std::string expr) {
  static const std::regex strings(R"("([^"\\]|\\.)*"|'([^'\\]|\\.)*')");
  static const std::regex matchers(R"(\{[^}]*\}|\[[^\]]*\])");
  static const std::regex label_lists(
      R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))");
  static const std::regex identifier(R"([A-Za-z_:][A-Za-z0-9_:]*)");
  static const std::set<std::string> keywords = {
      "by",          "without", "on",  "ignoring", "group_left",
      "group_right", "bool",    "and", "or",       "unless",
      "offset",      "inf",     "nan"};
  expr = std::regex_replace(expr, strings, " ");
  expr = std::regex_replace(expr, matchers, " ");
  expr = std::regex_replace(expr, label_lists, " ");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), identifier);
       it != std::sregex_iterator(); ++it) {
    const size_t end = it->position() + it->length();
    // A digit before it: part of a number (1e3).
    if (it->position() > 0 &&
        std::isdigit(static_cast<unsigned char>(expr[it->position() - 1]))) {
      continue;
    }
    const size_t next = expr.find_first_not_of(" \t\n", end);
    if (next != std::string::npos && expr[next] == '(') continue;
    const std::string name = it->str();
    if (keywords.count(name) == 0) names.insert(name);
  }
  return names;
}

TEST(DashboardMetricNamesTest, ExtractsMetricsOnly) {
  EXPECT_EQ(MetricNames("sum by (table, op) (rate(pgcdc_events_total"
                        "{instance=~\"$instance\"}[1m]))"),
            (std::set<std::string>{"pgcdc_events_total"}));
  EXPECT_EQ(MetricNames("histogram_quantile(0.99, sum by (le) (rate("
                        "a_seconds_bucket[5m]))) / on (job) b_total"),
            (std::set<std::string>{"a_seconds_bucket", "b_total"}));
  EXPECT_EQ(MetricNames("max by (status) (x{status=\"lost\"}) == 1 or y"),
            (std::set<std::string>{"x", "y"}));
}

// Every metric the dashboard's panel queries and variables read.
std::set<std::string> DashboardMetrics() {
  const YAML::Node dashboard = YAML::LoadFile(std::string(PGCDC_SOURCE_DIR) +
                                              "/deploy/grafana/pgcdc.json");
  std::set<std::string> names;
  for (const YAML::Node& panel : dashboard["panels"]) {
    for (const YAML::Node& target : panel["targets"]) {
      for (const std::string& n :
           MetricNames(target["expr"].as<std::string>())) {
        names.insert(n);
      }
    }
  }
  static const std::regex label_values(
      R"(label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*))");
  for (const YAML::Node& variable : dashboard["templating"]["list"]) {
    std::smatch m;
    const std::string definition = variable["definition"].as<std::string>("");
    if (std::regex_search(definition, m, label_values)) names.insert(m[1]);
  }
  return names;
}

// The names missing from Prometheus text `scrape`: each must have a sample,
// and its family a # TYPE line (a histogram's, for _bucket, _sum, _count).
std::vector<std::string> MissingFrom(const std::string& scrape,
                                     const std::set<std::string>& names) {
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    const bool sample =
        std::regex_search(scrape, std::regex("(^|\n)" + name + "[{ ]"));
    std::string family = name;
    std::string type_line = "# TYPE " + name + " ";
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix)) {
        family = name.substr(0, name.size() - std::string(suffix).size());
        type_line = "# TYPE " + family + " histogram";
      }
    }
    if (!sample || !absl::StrContains(scrape, type_line)) {
      missing.push_back(name);
    }
  }
  return missing;
}

TEST_F(PgcdcTest, EveryMetricTheDashboardQueriesIsServed) {
  const std::set<std::string> names = DashboardMetrics();
  // What issue 18 asks the dashboard to show, among them.
  for (const char* wanted :
       {"pgcdc_events_total", "pgcdc_lag_bytes", "pgcdc_behind_source_ms",
        "pgcdc_commit_to_ack_seconds_bucket", "pgcdc_inflight_bytes",
        "pgcdc_inflight_events", "pgcdc_delivery_errors_total",
        "pgcdc_producer_retries_total", "pgcdc_snapshot_rows_total",
        "pgcdc_snapshot_tables_remaining", "pgcdc_snapshot_running",
        "pgcdc_connected", "pgcdc_reconnects_total",
        "pgcdc_slot_retained_wal_bytes", "pgcdc_slot_wal_status"}) {
    EXPECT_THAT(names, ::testing::Contains(wanted));
  }

  // A row before the start, so that the initial snapshot reads one (its
  // per-table family has a sample), and changes after it, so that the
  // events family has samples too.
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, note text)");
  Sql("INSERT INTO accounts VALUES (1, 'before')");
  const int port = FreePort();
  Subprocess p =
      StartPgcdc(WriteConfig({"public.accounts"}, "", MetricsOn(port)));
  Sql("INSERT INTO accounts VALUES (2, 'after')");
  Sql("UPDATE accounts SET note = 'changed' WHERE id = 1");
  Sql("DELETE FROM accounts WHERE id = 2");
  WaitCaughtUp();

  // Families set periodically (the slot's) may take a moment to appear.
  std::string scrape;
  WaitFor(
      [&] {
        scrape = HttpGet(port, "/metrics");
        return MissingFrom(scrape, names).empty();
      },
      20000);
  ASSERT_THAT(scrape, ::testing::StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(scrape, ::testing::HasSubstr(
                          "pgcdc_events_total{op=\"delete\",table=\"public."
                          "accounts\"} 1"));
  const std::vector<std::string> missing = MissingFrom(scrape, names);
  EXPECT_TRUE(missing.empty())
      << "deploy/grafana/pgcdc.json queries metrics pgcdc does not serve: "
      << absl::StrJoin(missing, ", ") << "\n--- /metrics:\n"
      << scrape;
  StopPgcdc(p);
}

}  // namespace
}  // namespace cdc::testing
