// Failover readiness decided from values (failover.h), and the pure-enough
// parts of its I/O half: splitting a multi-host dsn and finding a dbname in
// primary_conninfo (libpq's parser, no server).
#include "cdc/pg/failover.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cdc/config/config.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/failover_probe.h"

namespace cdc::pg {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

HostFailoverState Primary() {
  HostFailoverState h;
  h.endpoint = "db1:5432";
  h.server_version_num = 180001;
  h.slot_exists = true;
  h.slot_failover = true;
  h.slot_synced = false;
  h.synchronized_standby_slots = {{"sb1", true, true, true}};
  return h;
}

HostFailoverState Standby() {
  HostFailoverState h;
  h.endpoint = "db2:5432";
  h.server_version_num = 180001;
  h.in_recovery = true;
  h.slot_exists = true;
  h.slot_failover = true;
  h.slot_synced = true;
  h.sync_replication_slots = true;
  h.hot_standby_feedback = true;
  h.primary_slot_name = "sb1";
  h.primary_conninfo_has_dbname = true;
  return h;
}

FailoverInput Ready() {
  FailoverInput in;
  in.slot = "pgcdc";
  in.slot_failover = true;
  in.hosts = {Primary(), Standby()};
  return in;
}

// A reason mentioning every fragment.
::testing::Matcher<std::vector<std::string>> HasReason(
    const std::string& a, const std::string& b = "") {
  return ::testing::Contains(AllOf(HasSubstr(a), HasSubstr(b)));
}

TEST(AssessFailoverTest, ReadyPrimaryAndStandbySurvive) {
  const FailoverVerdict v = AssessFailover(Ready());
  EXPECT_TRUE(v.survives);
  EXPECT_THAT(v.reasons, IsEmpty());
  EXPECT_THAT(v.ready_standbys, ElementsAre("db2:5432"));
}

TEST(AssessFailoverTest, SettingOffIsAReason) {
  FailoverInput in = Ready();
  in.slot_failover = false;
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("source.slot_failover is false"));
}

TEST(AssessFailoverTest, SlotFlagOffOnThePrimary) {
  FailoverInput in = Ready();
  in.hosts[0].slot_failover = false;
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("failover = false", "pgcdc run turns"));
}

TEST(AssessFailoverTest, OldPrimaryCannot) {
  FailoverInput in = Ready();
  in.hosts[0].server_version_num = 160004;
  in.hosts[0].slot_failover.reset();
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("160004", "17 or later"));
}

TEST(AssessFailoverTest, SynchronizedStandbySlotsEmptyMissingOrInactive) {
  FailoverInput in = Ready();
  in.hosts[0].synchronized_standby_slots.clear();
  FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("synchronized_standby_slots is empty"));
  // The standby's slot is not among them either.
  EXPECT_THAT(v.reasons, HasReason("db2:5432", "not in the primary's"));

  in = Ready();
  in.hosts[0].synchronized_standby_slots = {{"sb1", true, true, true},
                                            {"gone", false, false, false}};
  v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("\"gone\"", "not a physical slot"));

  in = Ready();
  in.hosts[0].synchronized_standby_slots[0].active = false;
  v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("\"sb1\"", "inactive"));
}

TEST(AssessFailoverTest, EachStandbySettingIsNamed) {
  HostFailoverState s = Standby();
  s.sync_replication_slots = false;
  s.hot_standby_feedback = false;
  s.primary_slot_name = "";
  s.primary_conninfo_has_dbname = false;
  s.slot_exists = false;
  const HostFailoverState p = Primary();
  const std::vector<std::string> problems = StandbyProblems(s, &p, "pgcdc");
  EXPECT_THAT(problems, HasReason("sync_replication_slots is off"));
  EXPECT_THAT(problems, HasReason("hot_standby_feedback is off"));
  EXPECT_THAT(problems, HasReason("primary_slot_name is not set"));
  EXPECT_THAT(problems, HasReason("no dbname"));
  EXPECT_THAT(problems, HasReason("no copy of slot \"pgcdc\""));
}

TEST(AssessFailoverTest, UnreadableSettingsAreUnknownNotOff) {
  HostFailoverState s = Standby();
  s.sync_replication_slots.reset();
  s.primary_conninfo_has_dbname.reset();  // pg_read_all_settings lacking
  const std::vector<std::string> problems =
      StandbyProblems(s, nullptr, "pgcdc");
  // A synced copy proves the dbname was there: unknown is not a problem.
  EXPECT_THAT(problems, ElementsAre(HasSubstr("unknown (not readable)")));
}

TEST(AssessFailoverTest, ASlotMadeOnTheStandbyIsNotACopy) {
  FailoverInput in = Ready();
  in.hosts[1].slot_synced = false;
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("synced = false"));
}

TEST(AssessFailoverTest, InvalidatedCopy) {
  FailoverInput in = Ready();
  in.hosts[1].slot_invalidated = true;
  EXPECT_THAT(AssessFailover(in).reasons, HasReason("invalidated"));
}

TEST(AssessFailoverTest, OneHostMeansNoStandbyToRead) {
  FailoverInput in = Ready();
  in.hosts.pop_back();
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("names one host", "host=a,b"));
}

TEST(AssessFailoverTest, UnreachableHostIsANoteNotFatal) {
  FailoverInput in = Ready();
  HostFailoverState down;
  down.endpoint = "db3:5432";
  down.error = "cannot connect to PostgreSQL: connection refused";
  in.hosts.push_back(down);
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_TRUE(v.survives);
  EXPECT_THAT(v.notes, HasReason("db3:5432", "connection refused"));
}

TEST(AssessFailoverTest, OneReadyStandbyIsEnoughTheOthersAreNotes) {
  FailoverInput in = Ready();
  HostFailoverState lagging = Standby();
  lagging.endpoint = "db3:5432";
  lagging.slot_exists = false;
  in.hosts.push_back(lagging);
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_TRUE(v.survives);
  EXPECT_THAT(v.notes, HasReason("db3:5432", "no copy"));
}

TEST(AssessFailoverTest, TwoPrimariesOrNone) {
  FailoverInput in = Ready();
  in.hosts[1].in_recovery = false;
  EXPECT_THAT(AssessFailover(in).reasons, HasReason("more than one host"));
  in = Ready();
  in.hosts[0].error = "refused";
  const FailoverVerdict v = AssessFailover(in);
  EXPECT_FALSE(v.survives);
  EXPECT_THAT(v.reasons, HasReason("no host of source.dsn is a reachable "
                                   "primary"));
}

TEST(RequireFailoverSupportTest, RefusedBefore17WithWhatToDo) {
  config::Config config;
  config.source.slot_failover = true;
  const absl::Status old = RequireFailoverSupport(160004, config);
  EXPECT_EQ(old.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old.message()),
              AllOf(HasSubstr("PostgreSQL 160004"),
                    HasSubstr("failover slots need PostgreSQL 17 or later"),
                    HasSubstr("source.slot_failover: false")));
  EXPECT_TRUE(RequireFailoverSupport(170000, config).ok());
  EXPECT_TRUE(RequireFailoverSupport(180006, config).ok());
  config.source.slot_failover = false;
  EXPECT_TRUE(RequireFailoverSupport(150004, config).ok());
}

TEST(SplitHostsTest, OneDsnPerHostWithTheRestKept) {
  absl::StatusOr<std::vector<HostDsn>> hosts = SplitHosts(
      "host=a,b port=5432,5433 dbname=app user=u password='p w' "
      "target_session_attrs=read-write");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].endpoint, "a:5432");
  EXPECT_EQ((*hosts)[1].endpoint, "b:5433");
  for (const HostDsn& h : *hosts) {
    EXPECT_THAT(h.dsn, HasSubstr("dbname='app'"));
    EXPECT_THAT(h.dsn, HasSubstr("password='p w'"));
    EXPECT_THAT(h.dsn, HasSubstr("target_session_attrs=any"));
    EXPECT_THAT(h.dsn, ::testing::Not(HasSubstr("read-write")));
  }
  EXPECT_THAT((*hosts)[1].dsn, HasSubstr("host='b'"));
  EXPECT_THAT((*hosts)[1].dsn, HasSubstr("port='5433'"));
}

TEST(SplitHostsTest, OnePortForEveryHostAndUris) {
  absl::StatusOr<std::vector<HostDsn>> hosts =
      SplitHosts("postgresql://u@a:6000,b:6001/app?sslmode=disable");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[1].endpoint, "b:6001");
  EXPECT_THAT((*hosts)[1].dsn, HasSubstr("sslmode='disable'"));

  hosts = SplitHosts("host=a,b port=7000 dbname=app");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[1].endpoint, "b:7000");

  hosts = SplitHosts("dbname=app");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->size(), 1u);
}

TEST(SplitHostsTest, MismatchedListsAndBadDsnsAreInvalidWithoutLibpqText) {
  EXPECT_EQ(SplitHosts("host=a,b,c port=1,2").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status bad = SplitHosts("host=a password='secret").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), ::testing::Not(HasSubstr("secret")));
}

TEST(ConninfoHasDbnameTest, FindsItOrNot) {
  EXPECT_EQ(ConninfoHasDbname("host=a port=1 user=r dbname=postgres"), true);
  EXPECT_EQ(ConninfoHasDbname("host=a port=1 user=r"), false);
  EXPECT_EQ(ConninfoHasDbname("host='a"), std::nullopt);
}

}  // namespace
}  // namespace cdc::pg
