// Running pgcdc as an operator sees it: the health endpoints through the
// phases of a run (streaming, a broker outage, a standby waiting for the
// slot), the logs (JSON lines, the start-up summary with its secrets
// masked, the progress line, a broker outage told in three lines instead
// of librdkafka's stream of errors).
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class OperationsTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    Sql("CREATE TABLE items (id int PRIMARY KEY, body text)");
  }

  // The status line and body of GET `path`.
  static std::string Answer(int port, const std::string& path) {
    const std::string response = HttpGet(port, path);
    const size_t eol = response.find("\r\n");
    const size_t body = response.find("\r\n\r\n");
    if (eol == std::string::npos || body == std::string::npos) return response;
    return absl::StrCat(response.substr(0, eol), " | ",
                        response.substr(body + 4));
  }

  // Waits until GET `path` answers something starting with `prefix`.
  static bool WaitAnswer(int port, const std::string& path,
                         const std::string& prefix, int timeout_ms,
                         std::string* last) {
    return WaitFor(
        [&] {
          *last = Answer(port, path);
          return absl::StartsWith(*last, prefix);
        },
        timeout_ms);
  }
};

TEST_F(OperationsTest, ReadinessFollowsTheSlotAndTheBroker) {
  const int port = FreePort();
  // A broker that stops answering on an open connection is noticed when a
  // request times out (socket.timeout.ms, 60 s by default): the dev broker's
  // "down" is such a broker.
  const std::string config = WriteConfig(
      {"public.items"}, "  properties:\n    socket.timeout.ms: 3000\n",
      MetricsOn(port));
  Subprocess p = StartPgcdc(config);
  std::string last;
  EXPECT_EQ(Answer(port, "/healthz"), "HTTP/1.1 200 OK | ok\n");
  ASSERT_TRUE(WaitAnswer(port, "/readyz", "HTTP/1.1 200 OK", 10000, &last))
      << last;
  EXPECT_THAT(last, HasSubstr("ready: streaming (slot \""));

  // A standby on the same slot is alive but not ready.
  const int standby_port = FreePort();
  const std::string standby_config =
      WriteConfig({"public.items"}, "", MetricsOn(standby_port));
  Subprocess standby = LaunchPgcdc(standby_config);
  ASSERT_TRUE(WaitAnswer(standby_port, "/readyz", "HTTP/1.1 503", 30000, &last))
      << last << standby.ReadLog();
  ASSERT_TRUE(WaitAnswer(standby_port, "/readyz",
                         "HTTP/1.1 503 Service Unavailable | not ready: "
                         "waiting for the replication slot",
                         30000, &last))
      << last << standby.ReadLog();
  EXPECT_EQ(Answer(standby_port, "/healthz"), "HTTP/1.1 200 OK | ok\n");

  // All brokers down, with a change in flight: not ready, and told once.
  ASSERT_NO_FATAL_FAILURE(BrokerDown());
  Sql("INSERT INTO items VALUES (1, 'during the outage')");
  ASSERT_TRUE(WaitAnswer(port, "/readyz",
                         "HTTP/1.1 503 Service Unavailable | not ready: Kafka "
                         "unreachable while streaming",
                         60000, &last))
      << last << p.ReadLog();
  EXPECT_EQ(Answer(port, "/healthz"), "HTTP/1.1 200 OK | ok\n");
  // Several seconds of librdkafka's reconnection attempts.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ASSERT_NO_FATAL_FAILURE(BrokerUp());
  ASSERT_TRUE(WaitAnswer(port, "/readyz", "HTTP/1.1 200 OK", 60000, &last))
      << last << p.ReadLog();
  WaitCaughtUp();

  const std::string log = p.ReadLog();
  // Told when it began (a request timed out, or a connection refused), when
  // librdkafka found every broker down, and when it ended.
  EXPECT_THAT(log, HasSubstr("WARN Kafka connection trouble: "));
  EXPECT_THAT(log, HasSubstr("WARN Kafka unreachable: all brokers are down"));
  EXPECT_THAT(log, HasSubstr("INFO Kafka reachable again (acknowledgements "
                             "resumed) after "));
  // No line of librdkafka's own about the connections it lost.
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    EXPECT_THAT(std::string(line), Not(HasSubstr("ERROR librdkafka"))) << log;
  }
  // The standby takes over once the first is gone, and becomes ready.
  StopPgcdc(p);
  ASSERT_TRUE(
      WaitAnswer(standby_port, "/readyz", "HTTP/1.1 200 OK", 60000, &last))
      << last << standby.ReadLog();
  StopPgcdc(standby);
}

TEST_F(OperationsTest, JsonLogsWithTheStartSummaryAndProgressLines) {
  const std::string secret = "Hunter2-not-for-logs";
  const std::string config = WriteConfig(
      {"public.items"},
      absl::StrCat("  properties:\n    ssl.key.password: ", secret,
                   "\n    client.id: ops-test\n"),
      "log:\n  format: json\n  level: info\n  progress_interval_s: 1\n");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO items SELECT g, 'row' FROM generate_series(1, 100) g");
  WaitCaughtUp();
  ASSERT_TRUE(WaitForLog(p, "\"msg\":\"progress: ", 10000)) << p.ReadLog();
  StopPgcdc(p);

  const std::string log = p.ReadLog();
  EXPECT_THAT(log, Not(HasSubstr(secret)));
  int lines = 0;
  bool summary = false;
  bool progress = false;
  bool streaming = false;
  bool snapshot = false;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    ++lines;
    const std::string l(line);
    // Every line is one object with a time, a level, a message and the slot.
    EXPECT_THAT(l, StartsWith("{\"time\":\"")) << l;
    EXPECT_TRUE(absl::EndsWith(l, "}")) << l;
    EXPECT_THAT(l, HasSubstr("\",\"level\":\"")) << l;
    EXPECT_THAT(l, HasSubstr("\",\"msg\":\"")) << l;
    EXPECT_THAT(l, HasSubstr(",\"slot\":\"")) << l;
    if (absl::StrContains(l, "\"msg\":\"configuration: ")) {
      summary = true;
      EXPECT_THAT(l, HasSubstr("properties client.id ssl.key.password "
                               "(values not shown)"));
      EXPECT_THAT(l, Not(HasSubstr("ops-test")));
      EXPECT_THAT(l, HasSubstr("1 table(s) (public.items)"));
      EXPECT_THAT(l, HasSubstr("; log json at info"));
    }
    if (absl::StrContains(l, "\"msg\":\"progress: ")) {
      progress = true;
      EXPECT_THAT(l, HasSubstr("/s), "));
      EXPECT_THAT(l, HasSubstr("bytes behind the server"));
      EXPECT_THAT(l, HasSubstr("\"confirmed_lsn\":\""));
      EXPECT_THAT(l, HasSubstr("\"lag_bytes\":\""));
      EXPECT_THAT(l, HasSubstr("\"inflight_bytes\":\""));
    }
    if (absl::StrContains(l, "\"msg\":\"snapshot: reading public.items")) {
      snapshot = true;
      EXPECT_THAT(l, HasSubstr(",\"table\":\"public.items\"}"));
    }
    if (absl::StrContains(l, "\"msg\":\"streaming slot ")) {
      streaming = true;
      EXPECT_THAT(l, HasSubstr("\"start_lsn\":\""));
      EXPECT_THAT(l, HasSubstr("\"protocol_version\":\""));
      EXPECT_THAT(l, HasSubstr("\"server_version\":\""));
    }
  }
  EXPECT_GT(lines, 3);
  EXPECT_TRUE(summary) << log;
  EXPECT_TRUE(progress) << log;
  EXPECT_TRUE(streaming) << log;
  EXPECT_TRUE(snapshot) << log;
}

TEST_F(OperationsTest, LevelWarnKeepsOnlyWarningsAndErrors) {
  const std::string config =
      WriteConfig({"public.items"}, "", "log:\n  level: warn\n");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO items VALUES (1, 'x')");
  WaitCaughtUp();
  StopPgcdc(p);
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, Not(HasSubstr(" INFO "))) << log;
}

}  // namespace
}  // namespace cdc::testing
