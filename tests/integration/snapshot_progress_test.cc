// The live snapshot status line: on a terminal (a pty from util-linux
// `script`) pgcdc redraws one status line in place, writes its log lines
// above it without garbling either, and clears it when the snapshot ends;
// elsewhere (a file) it writes plain log lines only.
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kScript[] = "/usr/bin/script";

class SnapshotProgressLineTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    Sql("CREATE TABLE t (id int PRIMARY KEY, v text)");
    Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5000) g");
    Sql("CREATE TABLE u (id int PRIMARY KEY, v text)");
    Sql("INSERT INTO u SELECT g, 'v' || g FROM generate_series(1, 3000) g");
    Sql("ANALYZE t, u");
    config_ = WriteConfig({"public.t", "public.u"}, "",
                          "snapshot:\n  mode: initial_only\n");
  }
  std::string config_;
};

// What a terminal shows of `output`: per line, what the last carriage
// return left (each redraw clears to the line's end), escapes dropped.
std::vector<std::string> Screen(const std::string& output) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    // The pty's line discipline turns "\n" into "\r\n".
    absl::ConsumeSuffix(&line, "\r");
    const size_t cr = line.rfind('\r');
    if (cr != absl::string_view::npos) line.remove_prefix(cr + 1);
    std::string shown(line);
    for (size_t at; (at = shown.find("\x1b[K")) != std::string::npos;) {
      shown.erase(at, 3);
    }
    lines.push_back(shown);
  }
  return lines;
}

TEST_F(SnapshotProgressLineTest, ShownOnATerminalAndNeverGarblesTheLog) {
  if (access(kScript, X_OK) != 0) GTEST_SKIP() << "no " << kScript;
  // -e: script exits with pgcdc's code; -f: flush as it comes; -q: no
  // banner of its own.
  const std::string log = absl::StrCat(dir_, "/pgcdc-script.log");
  absl::StatusOr<Subprocess> p = Subprocess::Start(
      {kScript, "-qfec",
       absl::StrCat("'", PGCDC_BINARY, "' run --config '", config_, "'"),
       "/dev/null"},
      log);
  ASSERT_TRUE(p.ok()) << p.status();
  std::optional<int> code = p->Wait(60000);
  const std::string output = p->ReadLog();
  ASSERT_EQ(code, 0) << output;

  // Drawn in place, with the table, counts, percent and rate.
  EXPECT_THAT(output, HasSubstr("\rsnapshot public.t "));
  EXPECT_THAT(output, HasSubstr("/~5000 rows "));
  EXPECT_THAT(output, HasSubstr("rows/s"));
  EXPECT_THAT(output, HasSubstr("| table 2 of 2"));
  // Every line the terminal ends up showing is a whole log line: the status
  // was cleared before each one was written and at the end.
  std::vector<std::string> screen = Screen(output);
  int log_lines = 0;
  for (const std::string& line : screen) {
    if (line.empty()) continue;
    EXPECT_THAT(line, ::testing::MatchesRegex("^[0-9]{4}-[0-9]{2}-.* (INFO|WARN"
                                              "|ERROR) .*"))
        << "garbled or left over: " << line;
    EXPECT_THAT(line, Not(HasSubstr("rows/s |")));
    ++log_lines;
  }
  // How many lines pgcdc logs is not this test's business; enough of them
  // that the status line had to make way several times.
  EXPECT_GT(log_lines, 3);
  EXPECT_THAT(output, HasSubstr("snapshot done: 8000 row(s)"));
}

TEST_F(SnapshotProgressLineTest, NotWrittenToAFile) {
  std::string output;
  ASSERT_EQ(RunPgcdc({"run", "--config", config_}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("snapshot done: 8000 row(s)"));
  EXPECT_THAT(output, Not(HasSubstr("\r")));
  EXPECT_THAT(output, Not(HasSubstr("\x1b")));
}

}  // namespace
}  // namespace cdc::testing
