// hstore text parsed, and ordered as java.util.HashMap iterates it. The
// expected orders were printed by OpenJDK 17's HashMap for the same keys put
// in the same order (hstore_out's order: by length, then bytes).
#include "cdc/envelope/debezium_hstore.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_join.h"

namespace cdc::envelope {
namespace {

std::vector<HstoreEntry> Parsed(const std::string& text) {
  std::vector<HstoreEntry> entries;
  EXPECT_TRUE(ParseHstore(text, &entries)) << text;
  return entries;
}

std::string Keys(const std::vector<HstoreEntry>& entries) {
  std::vector<std::string> keys;
  for (const HstoreEntry& e : entries) keys.push_back(e.key);
  return absl::StrJoin(keys, "|");
}

std::vector<HstoreEntry> WithKeys(const std::vector<std::string>& keys) {
  std::vector<HstoreEntry> entries;
  for (const std::string& k : keys) entries.push_back({k, "v"});
  return entries;
}

TEST(DebeziumHstoreTest, ParsesHstoreOutput) {
  std::vector<HstoreEntry> e =
      Parsed(R"("a"=>"1", "d"=>"", "b c"=>NULL, "q\"\\"=>"x\\y\"")");
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].key, "a");
  EXPECT_EQ(e[0].value, "1");
  EXPECT_EQ(e[1].value, "");
  EXPECT_EQ(e[2].key, "b c");
  EXPECT_EQ(e[2].value, std::nullopt);
  EXPECT_EQ(e[3].key, "q\"\\");
  EXPECT_EQ(e[3].value, "x\\y\"");
  EXPECT_TRUE(Parsed("").empty());
}

TEST(DebeziumHstoreTest, RefusesTextThatIsNotHstoreOutput) {
  std::vector<HstoreEntry> e;
  for (const char* bad :
       {"a=>1", R"("a"=>"1",)", R"("a"=>"1","b"=>"2")", R"("a"=>null)",
        R"("a"=>"1)", R"("a)", R"("a"="1")", R"("a"=>"1" )", R"("a\)"}) {
    EXPECT_FALSE(ParseHstore(bad, &e)) << bad;
  }
}

TEST(DebeziumHstoreTest, JavaStringHashOverUtf16) {
  EXPECT_EQ(JavaStringHash(""), 0);
  EXPECT_EQ(JavaStringHash("hello"), 99162322);
  EXPECT_EQ(JavaStringHash("b c"), 95269);
  EXPECT_EQ(JavaStringHash("\xc3\xa9t\xc3\xa9"), 227742);  // été
  // U+1F600, a surrogate pair in Java.
  EXPECT_EQ(JavaStringHash("\xf0\x9f\x98\x80"), 1772899);
  // Bytes that are not UTF-8 hash as U+FFFD each.
  EXPECT_EQ(JavaStringHash("\xff"), 0xFFFD);
  EXPECT_EQ(JavaStringHash("\xc3"), 0xFFFD);
}

// What the running Debezium 3.6.1 wrote for 'a=>1, "b c"=>NULL, d=>""'
// (tests/debezium/sql/types_setup.sql): {"a":"1","d":"","b c":null}.
TEST(DebeziumHstoreTest, OrderOfTheLiveCapture) {
  EXPECT_EQ(
      Keys(InJavaHashMapOrder(Parsed(R"("a"=>"1", "d"=>"", "b c"=>NULL)"))),
      "a|d|b c");
}

TEST(DebeziumHstoreTest, OrderAfterTheTableGrows) {
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("k" + std::to_string(i));
  for (const char* k : {"Aa", "BB", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80"}) {
    keys.push_back(k);
  }
  EXPECT_EQ(Keys(InJavaHashMapOrder(WithKeys(keys))),
            "Aa|BB|k31|k30|k11|k33|k10|k32|k13|k35|k12|k34|k15|k37|k14|k36|"
            "k17|k39|k16|k38|k19|k18|\xc3\xa9t\xc3\xa9|k0|k1|k2|k3|k20|k4|k5|"
            "k22|k6|k21|k7|k24|k8|k23|k9|k26|k25|k28|k27|k29|"
            "\xf0\x9f\x98\x80");
}

// Nine and ten keys of one hashCode: a bin that long makes a table below 64
// slots grow instead of becoming a tree, twice; the order stays the order of
// insertion.
TEST(DebeziumHstoreTest, ALongBinGrowsASmallTable) {
  std::vector<std::string> keys;
  for (const char* a : {"Aa", "BB"}) {
    for (const char* b : {"Aa", "BB"}) {
      for (const char* c : {"Aa", "BB"}) {
        for (const char* d : {"Aa", "BB"}) {
          keys.push_back(std::string(a) + b + c + d);
        }
      }
    }
  }
  keys.resize(10);
  EXPECT_EQ(Keys(InJavaHashMapOrder(WithKeys(keys))), absl::StrJoin(keys, "|"));
  // In the table of 64 slots they grew it to, "k0" falls in slot 37, after
  // their slot 9.
  keys.push_back("k0");
  EXPECT_EQ(Keys(InJavaHashMapOrder(WithKeys(keys))), absl::StrJoin(keys, "|"));
  // In a map of 16 slots, "k0" (slot 5) comes before them (slot 9).
  EXPECT_EQ(Keys(InJavaHashMapOrder(WithKeys({"AaAaAaAa", "k0"}))),
            "k0|AaAaAaAa");
}

TEST(DebeziumHstoreTest, AKeyPutTwiceKeepsItsPlaceAndItsLastValue) {
  std::vector<HstoreEntry> e = {{"a", "1"}, {"b", "2"}, {"a", std::nullopt}};
  std::vector<HstoreEntry> ordered = InJavaHashMapOrder(e);
  ASSERT_EQ(ordered.size(), 2u);
  EXPECT_EQ(ordered[0].key, "a");
  EXPECT_EQ(ordered[0].value, std::nullopt);
  EXPECT_EQ(ordered[1].key, "b");
}

}  // namespace
}  // namespace cdc::envelope
