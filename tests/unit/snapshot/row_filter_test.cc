#include "cdc/snapshot/row_filter.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::snapshot {
namespace {

using ::testing::HasSubstr;

void ExpectAccepted(const std::string& filter) {
  absl::Status s = CheckRowFilter(filter);
  EXPECT_TRUE(s.ok()) << filter << ": " << s;
}

void ExpectRefused(const std::string& filter, const std::string& why) {
  absl::Status s = CheckRowFilter(filter);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << filter;
  EXPECT_THAT(s.message(), HasSubstr(why)) << filter;
}

TEST(RowFilterTest, ConditionsOnTheTableAreAccepted) {
  ExpectAccepted("");
  ExpectAccepted("region = 'eu'");
  ExpectAccepted("name = 'O''Brien' AND id > 10");
  ExpectAccepted("\"weird)col\" > 3 AND \"a\"\"b\" IS NULL");
  ExpectAccepted("tags[1] = 'x' AND (a < 2 OR (b > 3))");
  ExpectAccepted("a /* ) nested /* ( */ */ = 1");
  ExpectAccepted("a = 1 -- ) a comment to the end");
  ExpectAccepted("id IN (SELECT id FROM other WHERE x)");
  ExpectAccepted("path = E'C:\\\\dir'");    // an escaped backslash
  ExpectAccepted("pg_sleep(1e9) IS NULL");  // statement_timeout's to stop
}

// The attacks of issue 14, written into a request's "where".
TEST(RowFilterTest, FiltersThatLeaveTheirParenthesesAreRefused) {
  ExpectRefused("false) UNION ALL (SELECT 4242, 'forged'",
                "closes a \")\" it did not open");
  ExpectRefused(
      "true) LIMIT 0) TO STDOUT; COMMIT; CREATE TABLE public.pwned(x int); "
      "COMMIT; COPY (SELECT 1 AS id, null::text AS v WHERE (true",
      "closes a \")\"");
  ExpectRefused("true; DROP TABLE t", "\";\"");
  ExpectRefused("(a = 1", "leaves a \"(\" open");
  ExpectRefused("a[1 = 2", "leaves a \"[\" open");
  ExpectRefused("a = (1]", "closes a \"]\"");
  ExpectRefused("a = 'open", "string constant open");
  ExpectRefused("\"open = 1", "quoted identifier open");
  ExpectRefused("a = 1 /* open", "comment open");
  ExpectRefused(std::string("a = 1\0 )", 8), "NUL");
  ExpectRefused(std::string(kMaxRowFilterBytes + 1, ' '), "longer than");
}

TEST(RowFilterTest, WhatNeedsMoreContextThanAFilterIsRefused) {
  // '\'' ends a standard string at the second quote but continues E'...'.
  ExpectRefused("a = E'\\') OR (true'", "quote after a backslash");
  ExpectRefused("a = '\\'", "quote after a backslash");
  ExpectRefused("a = $x$ ) $x$", "\"$\"");
  ExpectRefused("1.5e3$x$ $x$ ) UNION SELECT 1 -- $x$", "\"$\"");
  ExpectRefused("a = $1", "\"$\"");
}

TEST(RowFilterTest, ATrailingCommentCannotSwallowWhatFollows) {
  EXPECT_EQ(RowFilterCondition("a = 1 -- note"), "(a = 1 -- note\n)");
}

}  // namespace
}  // namespace cdc::snapshot
