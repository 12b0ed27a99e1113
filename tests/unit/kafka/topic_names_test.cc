#include "cdc/kafka/topic_names.h"

#include <gtest/gtest.h>

namespace cdc::kafka {
namespace {

TEST(TopicNamesTest, JoinsWithDots) {
  EXPECT_EQ(TopicFor("pgcdc", "public", "orders"), "pgcdc.public.orders");
}

TEST(TopicNamesTest, KeepsAllowedCharacters) {
  EXPECT_EQ(TopicFor("a-b_c.d", "Sch3ma", "T_a-b.le"),
            "a-b_c.d.Sch3ma.T_a-b.le");
}

TEST(TopicNamesTest, ReplacesOthersWithUnderscore) {
  EXPECT_EQ(TopicFor("p", "my schema", "order$items\"x"),
            "p.my_schema.order_items_x");
  EXPECT_EQ(TopicFor("p", "s", "a/b\\c:d*e"), "p.s.a_b_c_d_e");
  EXPECT_EQ(TopicFor("", "", ""), "..");
}

TEST(TopicNamesTest, OneUnderscorePerUtf16UnitAsDebezium) {
  EXPECT_EQ(TopicFor("p", "s", "caf\xC3\xA9"), "p.s.caf_");       // é: BMP
  EXPECT_EQ(TopicFor("p", "s", "\xE2\x82\xAC"), "p.s._");         // €: BMP
  EXPECT_EQ(TopicFor("p", "s", "x\xF0\x9F\x98\x80"), "p.s.x__");  // emoji
  // Bytes that are not well-formed UTF-8: one each.
  EXPECT_EQ(TopicFor("p", "s", "\xFF\x80"), "p.s.__");
  EXPECT_EQ(TopicFor("p", "s", "\xC3"), "p.s._");
  EXPECT_EQ(TopicFor("p", "s", std::string_view("a\0b", 3)), "p.s.a_b");
}

}  // namespace
}  // namespace cdc::kafka
