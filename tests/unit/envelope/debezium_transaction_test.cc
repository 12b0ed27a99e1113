// DebeziumTransaction: the counts Debezium's transaction metadata carries,
// and its END record's data collections in java.util.HashMap's order. The
// expected orders and hashes were printed by OpenJDK 17 (HashMap<String,
// Long> filled in the order given, then keySet(); String.hashCode()).
#include "cdc/envelope/debezium_transaction.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace cdc::envelope {
namespace {

std::vector<std::string> Order(const std::vector<std::string>& inserted) {
  DebeziumTransaction t;
  t.Begin("1");
  for (const std::string& name : inserted) t.Count(name);
  std::vector<std::string> out;
  for (const auto& [name, count] : t.InHashMapOrder()) {
    out.emplace_back(name);
  }
  return out;
}

TEST(DebeziumTransactionTest, JavaHashCodeOverUtf16) {
  EXPECT_EQ(DebeziumTransaction::JavaHashCode(""), 0);
  EXPECT_EQ(DebeziumTransaction::JavaHashCode("public.orders"), 762281482);
  EXPECT_EQ(DebeziumTransaction::JavaHashCode("public.日本"), 1447703436);
  // Outside the BMP: a surrogate pair.
  EXPECT_EQ(DebeziumTransaction::JavaHashCode("x😀y"), 58534910);
  EXPECT_EQ(DebeziumTransaction::JavaHashCode("LOGICAL_DECODING_MESSAGE"),
            -1764385687);
}

TEST(DebeziumTransactionTest, DataCollectionsInHashMapOrder) {
  EXPECT_EQ(Order({"public.a", "public.b", "public.c"}),
            (std::vector<std::string>{"public.c", "public.a", "public.b"}));
  EXPECT_EQ(
      Order({"public.zz_stop", "public.t_full", "public.t_default",
             "public.t_key2", "s1.a", "s1.b"}),
      (std::vector<std::string>{"public.t_full", "s1.a", "public.zz_stop",
                                "s1.b", "public.t_key2", "public.t_default"}));
  EXPECT_EQ(Order({"public.é", "public.日本", "x.y"}),
            (std::vector<std::string>{"x.y", "public.日本", "public.é"}));
}

TEST(DebeziumTransactionTest, OrderAfterTheTableGrew) {
  // 14 keys: HashMap has grown from 16 to 32 buckets.
  std::vector<std::string> names;
  for (int i = 1; i <= 14; ++i) names.push_back("public.t" + std::to_string(i));
  EXPECT_EQ(
      Order(names),
      (std::vector<std::string>{
          "public.t14", "public.t12", "public.t13", "public.t8", "public.t7",
          "public.t9", "public.t4", "public.t3", "public.t6", "public.t5",
          "public.t10", "public.t11", "public.t2", "public.t1"}));
}

TEST(DebeziumTransactionTest, CountsPerCollectionAndInTotal) {
  DebeziumTransaction t;
  EXPECT_FALSE(t.in_progress());
  t.Begin("771");
  EXPECT_TRUE(t.in_progress());
  EXPECT_EQ(t.id(), "771");
  EXPECT_EQ(t.Count("public.a"), 1);
  EXPECT_EQ(t.Count("public.b"), 1);
  EXPECT_EQ(t.Count("public.a"), 2);
  // Each message is a collection of its own.
  EXPECT_EQ(t.CountMessage(), 1);
  EXPECT_EQ(t.CountMessage(), 1);
  EXPECT_EQ(t.total(), 5);
  const auto order = t.InHashMapOrder();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0], (std::pair<std::string_view, int64_t>{"public.a", 2}));
  EXPECT_EQ(order[1], (std::pair<std::string_view, int64_t>{"public.b", 1}));
  EXPECT_EQ(order[2].first, DebeziumTransaction::kMessageCollection);
  EXPECT_EQ(order[3].second, 1);

  // A new Begin forgets the counts.
  t.Begin("772");
  EXPECT_EQ(t.total(), 0);
  EXPECT_TRUE(t.InHashMapOrder().empty());
  t.End();
  EXPECT_FALSE(t.in_progress());
}

}  // namespace
}  // namespace cdc::envelope
