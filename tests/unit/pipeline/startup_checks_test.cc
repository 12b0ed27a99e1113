#include "cdc/pipeline/startup_checks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cdc::pipeline {
namespace {

TEST(StartupChecksTest, StatusIntervalAsConfiguredWithinWalSenderTimeout) {
  StatusInterval s = ChooseStatusInterval(10000, 60000);
  EXPECT_EQ(s.interval.count(), 10000);
  EXPECT_FALSE(s.capped);
  s = ChooseStatusInterval(10000, 0);  // no timeout on the server
  EXPECT_EQ(s.interval.count(), 10000);
  EXPECT_FALSE(s.capped);
  s = ChooseStatusInterval(15000, 60000);  // exactly a quarter
  EXPECT_EQ(s.interval.count(), 15000);
  EXPECT_FALSE(s.capped);
}

TEST(StartupChecksTest, StatusIntervalCappedToAQuarterNotBelow100Ms) {
  StatusInterval s = ChooseStatusInterval(10000, 20000);
  EXPECT_EQ(s.interval.count(), 5000);
  EXPECT_TRUE(s.capped);
  s = ChooseStatusInterval(1000, 200);
  EXPECT_EQ(s.interval.count(), 100);
  EXPECT_TRUE(s.capped);
  // Capped although the value stays: the log line still says why.
  s = ChooseStatusInterval(100, 200);
  EXPECT_EQ(s.interval.count(), 100);
  EXPECT_TRUE(s.capped);
}

pg::TableInfo Table(const std::string& name, std::vector<std::string> key,
                    char identity) {
  pg::TableInfo t;
  t.name.schema = "public";
  t.name.table = name;
  t.primary_key = std::move(key);
  t.replica_identity = identity;
  return t;
}

TEST(StartupChecksTest, ReplicaIdentityWarnings) {
  EXPECT_TRUE(
      ReplicaIdentityWarnings({Table("a", {"id"}, 'd'), Table("b", {"id"}, 'f'),
                               Table("c", {"id"}, 'i')})
          .empty());
  std::vector<std::string> w =
      ReplicaIdentityWarnings({Table("nothing", {"id"}, 'n')});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "table public.nothing has REPLICA IDENTITY NOTHING: PostgreSQL "
            "refuses UPDATE and DELETE on it while it is published. Fix: "
            "ALTER TABLE public.nothing REPLICA IDENTITY DEFAULT (or FULL "
            "for whole old rows)");
  w = ReplicaIdentityWarnings({Table("k1", {}, 'n'), Table("k2", {}, 'd'),
                               Table("k3", {}, 'f'), Table("k4", {}, 'i')});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0],
            "table public.k1 has no primary key and replica identity "
            "NOTHING: its events have a null Kafka key and its UPDATE/DELETE "
            "events no old image; PostgreSQL refuses UPDATE and DELETE on it "
            "while it is published. Fix: add a primary key, or ALTER TABLE "
            "public.k1 REPLICA IDENTITY FULL");
  EXPECT_NE(w[1].find("public.k2 has no primary key and replica identity "
                      "DEFAULT"),
            std::string::npos);
  EXPECT_EQ(w[2],
            "table public.k3 has no primary key: its events have a null "
            "Kafka key, so per-row order across partitions is not kept; add "
            "a primary key or REPLICA IDENTITY USING INDEX");
}

}  // namespace
}  // namespace cdc::pipeline
