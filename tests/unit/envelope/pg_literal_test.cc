#include "cdc/envelope/pg_literal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace cdc::envelope {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Elements = std::vector<std::optional<std::string>>;

ArrayLiteral Array(const std::string& text, char delimiter = ',') {
  ArrayLiteral out;
  absl::Status s = ParseArrayLiteral("_t", text, delimiter, &out);
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  return out;
}

TEST(PgLiteralTest, OneDimensionWithNullsAndQuoting) {
  ArrayLiteral a = Array(R"({1,NULL,"NULL","a b","",null,"q\"\\"})");
  EXPECT_THAT(a.dims, ElementsAre(7));
  EXPECT_THAT(a.lower_bounds, ElementsAre(1));
  EXPECT_EQ(a.elements, (Elements{"1", std::nullopt, "NULL", "a b", "",
                                  std::nullopt, "q\"\\"}));
}

TEST(PgLiteralTest, EmptyArray) {
  ArrayLiteral a = Array("{}");
  EXPECT_TRUE(a.dims.empty());
  EXPECT_TRUE(a.lower_bounds.empty());
  EXPECT_TRUE(a.elements.empty());
}

TEST(PgLiteralTest, SeveralDimensionsAndLowerBounds) {
  ArrayLiteral a = Array("{{1,2,3},{4,NULL,6}}");
  EXPECT_THAT(a.dims, ElementsAre(2, 3));
  EXPECT_THAT(a.lower_bounds, ElementsAre(1, 1));
  EXPECT_EQ(a.elements, (Elements{"1", "2", "3", "4", std::nullopt, "6"}));

  a = Array("[0:1][-2:-1]={{a,b},{c,d}}");
  EXPECT_THAT(a.dims, ElementsAre(2, 2));
  EXPECT_THAT(a.lower_bounds, ElementsAre(0, -2));
  EXPECT_EQ(a.elements, (Elements{"a", "b", "c", "d"}));

  a = Array("{{{1},{2}},{{3},{4}}}");
  EXPECT_THAT(a.dims, ElementsAre(2, 2, 1));
}

TEST(PgLiteralTest, OtherDelimiter) {
  ArrayLiteral a = Array("{(1,1),(0,0);(2,2),(1,1)}", ';');
  EXPECT_EQ(a.elements, (Elements{"(1,1),(0,0)", "(2,2),(1,1)"}));
}

TEST(PgLiteralTest, MalformedArraysAreDataLoss) {
  for (const char* bad : {"",
                          "{",
                          "}",
                          "{1,2",
                          "{1,,2}",
                          "{{1,2},{3}}",
                          "{{1,2},3}",
                          "{1,{2}}",
                          "{{}}",
                          "{1} ",
                          "[1:2]={1}",
                          "[1:1]{1}",
                          "[2:1]={}",
                          "[1:1]={}",
                          "{a b}",
                          "{\"a}",
                          "{\"a\"b}",
                          "{a\\b}",
                          "{1}{2}",
                          "[1:2",
                          "[a:b]={1,2}",
                          "{{{{{{{1}}}}}}}"}) {
    ArrayLiteral out;
    absl::Status s = ParseArrayLiteral("_int4", bad, ',', &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(s.message(), HasSubstr("_int4")) << bad;
  }
}

TEST(PgLiteralTest, Records) {
  std::vector<std::optional<std::string>> fields;
  ASSERT_TRUE(
      ParseRecordLiteral("r", R"x((1,,""," a""b\\",x))x", &fields).ok());
  EXPECT_EQ(fields, (Elements{"1", std::nullopt, "", " a\"b\\", "x"}));
  ASSERT_TRUE(ParseRecordLiteral("r", "()", &fields).ok());
  EXPECT_EQ(fields, (Elements{std::nullopt}));
  ASSERT_TRUE(ParseRecordLiteral("r", "(,)", &fields).ok());
  EXPECT_EQ(fields, (Elements{std::nullopt, std::nullopt}));
  ASSERT_TRUE(ParseRecordLiteral("r", R"x(("(1,2)",3))x", &fields).ok());
  EXPECT_EQ(fields, (Elements{"(1,2)", "3"}));
  for (const char* bad :
       {"", "(", "1,2", "(a b)", "(\"a)", "(\"a\"b)", "(a(b)", "(1,2)x"}) {
    absl::Status s = ParseRecordLiteral("public.pair", bad, &fields);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(s.message(), HasSubstr("public.pair"));
  }
}

TEST(PgLiteralTest, WritersQuoteAsTheServerDoes) {
  std::string out;
  AppendArrayElement("plain", ',', &out);
  AppendArrayElement("", ',', &out);
  AppendArrayElement("nUlL", ',', &out);
  AppendArrayElement("a b", ',', &out);
  AppendArrayElement("q\"\\", ',', &out);
  AppendArrayElement("x;y", ';', &out);
  AppendArrayElement("x;y", ',', &out);
  EXPECT_EQ(out, R"(plain"""nUlL""a b""q\"\\""x;y"x;y)");
  out.clear();
  AppendRecordField("plain", &out);
  AppendRecordField("", &out);
  AppendRecordField(" a\"b\\", &out);
  AppendRecordField("(1,2)", &out);
  EXPECT_EQ(out, R"x(plain""" a""b\\""(1,2)")x");
}

}  // namespace
}  // namespace cdc::envelope
