#include "cdc/pg/copy_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace cdc::pg {
namespace {

using ::testing::HasSubstr;

TupleValue Text(std::string s) {
  return {TupleValue::Kind::kText, std::move(s)};
}
TupleValue Null() { return {TupleValue::Kind::kNull, ""}; }

TupleData Parse(std::string_view row, size_t columns) {
  TupleData out;
  absl::Status s = ParseCopyTextRow(row, columns, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(CopyTextTest, SplitsColumnsAtTabsAndDropsTheNewline) {
  TupleData row = Parse("1\tAda\t12.50\n", 3);
  EXPECT_EQ(row.values,
            (std::vector<TupleValue>{Text("1"), Text("Ada"), Text("12.50")}));
  // The final newline is optional.
  EXPECT_EQ(Parse("1\tAda", 2).values,
            (std::vector<TupleValue>{Text("1"), Text("Ada")}));
}

TEST(CopyTextTest, BackslashNIsNullOnlyAsTheWholeColumn) {
  EXPECT_EQ(
      Parse("\\N\t\\\\N\t\\Nx\t\n", 4).values,
      (std::vector<TupleValue>{Null(), Text("\\N"), Text("Nx"), Text("")}));
}

TEST(CopyTextTest, EmptyColumnsAreEmptyStringsNotNull) {
  EXPECT_EQ(Parse("\t\n", 2).values,
            (std::vector<TupleValue>{Text(""), Text("")}));
  EXPECT_EQ(Parse("\n", 1).values, (std::vector<TupleValue>{Text("")}));
}

TEST(CopyTextTest, EveryControlCharacterEscape) {
  EXPECT_EQ(Parse("a\\bb\\fc\\nd\\re\\tf\\vg\\\\h\n", 1).values[0].data,
            "a\bb\fc\nd\re\tf\vg\\h");
}

TEST(CopyTextTest, OctalEscapesTakeOneToThreeDigits) {
  EXPECT_EQ(Parse("\\0\\7\\101\\1018\\0777", 1).values[0].data,
            std::string("\0\7AA8?7", 7));
  // Three digits beyond a byte keep the low byte, as COPY FROM does.
  EXPECT_EQ(Parse("\\777", 1).values[0].data, std::string("\xff", 1));
  EXPECT_EQ(Parse("\\08", 1).values[0].data, std::string("\0"
                                                         "8",
                                                         2));
}

TEST(CopyTextTest, HexEscapesTakeOneOrTwoDigits) {
  EXPECT_EQ(Parse("\\x41\\x4a\\xF\\x4g\\x414", 1).values[0].data,
            "AJ\x0f\x04gA4");
  // Without a hex digit, \x is a plain x.
  EXPECT_EQ(Parse("\\xg\\x", 1).values[0].data, "xgx");
}

TEST(CopyTextTest, AnyOtherEscapedCharacterIsItself) {
  EXPECT_EQ(Parse("\\a\\.\\N\\\"\\'\\ ", 1).values[0].data, "a.N\"' ");
}

TEST(CopyTextTest, MultibyteTextPassesThrough) {
  EXPECT_EQ(Parse("Zoë\t日本\n", 2).values,
            (std::vector<TupleValue>{Text("Zoë"), Text("日本")}));
}

TEST(CopyTextTest, ReusesTheOutputAcrossRows) {
  TupleData row;
  ASSERT_TRUE(ParseCopyTextRow("1\tlong value here\n", 2, &row).ok());
  ASSERT_TRUE(ParseCopyTextRow("\\N\tx\n", 2, &row).ok());
  EXPECT_EQ(row.values, (std::vector<TupleValue>{Null(), Text("x")}));
}

TEST(CopyTextTest, TableWithoutColumns) {
  TupleData row;
  EXPECT_TRUE(ParseCopyTextRow("\n", 0, &row).ok());
  EXPECT_TRUE(row.values.empty());
}

// Every malformed row is kDataLoss saying what was expected and where.
TEST(CopyTextTest, MalformedRowsAreDataLossNamingWhatWasExpected) {
  struct Case {
    std::string_view row;
    size_t columns;
    std::string_view message;
  };
  const Case kCases[] = {
      {"1\t2\n", 3, "expected 3 columns but found 2"},
      {"1\t2\t3\n", 2, "expected 2 columns but found more (a tab at byte 3)"},
      {"abc\\\n", 1,
       "column 1 (byte 3) ends in a lone backslash; expected an escaped "
       "character after it"},
      {"abc\\", 1, "lone backslash"},
      {"x\tabc\\", 2, "column 2 (byte 5) ends in a lone backslash"},
      // A backslash before the column's tab is just as lone.
      {"abc\\\tx\n", 2, "column 1 (byte 3) ends in a lone backslash"},
      {"a\nb\n", 1, "column 1 holds a raw line break"},
      {"a\rb\n", 1, "raw line break"},
      {"a\tb\r\n", 2, "column 2 holds a raw line break"},
      {"x\n", 0, "expected an empty row for a table without columns"},
  };
  TupleData row;
  for (const Case& c : kCases) {
    absl::Status s = ParseCopyTextRow(c.row, c.columns, &row);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.row;
    EXPECT_THAT(s.message(), HasSubstr(std::string(c.message))) << c.row;
  }
}

// What COPY TO writes for a value (CopyAttributeOutText): the control
// characters and the backslash escaped, everything else as it is. With
// `numeric`, every byte is written as an octal or hex escape instead, as
// COPY FROM accepts.
std::string Escape(const std::string& value, bool numeric, std::mt19937* rng) {
  std::string out;
  for (char c : value) {
    const unsigned char b = static_cast<unsigned char>(c);
    if (numeric) {
      out += (*rng)() % 2 ? absl::StrFormat("\\%03o", b)
                          : absl::StrFormat("\\x%02x", b);
      continue;
    }
    switch (c) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
    }
  }
  return out;
}

TEST(CopyTextTest, RandomRowsRoundTrip) {
  std::mt19937 rng(20261123);
  const std::string alphabet = std::string("ab\\N\t\n\r\b\f\v x01\xff\0", 16);
  TupleData parsed;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    const size_t columns = 1 + rng() % 6;
    const bool numeric = rng() % 4 == 0;
    std::vector<TupleValue> expected;
    std::string row;
    for (size_t i = 0; i < columns; ++i) {
      if (i > 0) row += '\t';
      if (rng() % 5 == 0) {
        expected.push_back(Null());
        row += "\\N";
        continue;
      }
      std::string value;
      for (size_t n = rng() % 12; n > 0; --n) {
        value += alphabet[rng() % alphabet.size()];
      }
      row += Escape(value, numeric, &rng);
      expected.push_back(Text(value));
    }
    row += '\n';
    ASSERT_TRUE(ParseCopyTextRow(row, columns, &parsed).ok()) << row;
    ASSERT_EQ(parsed.values, expected) << row;
  }
}

}  // namespace
}  // namespace cdc::pg
