// `pgcdc status`'s pure half: the slot state parsed from server rows, the
// risk decided from values, and the text and JSON reports.
#include "cdc/cli/status_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cdc/pg/slot_state.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace cdc::cli {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A row of ReadSlotState's query for an existing slot, as the server
// answers it; tests change single columns.
pg::SqlRow SlotRow() {
  return {"0/3000100", "f",      "1048576", "t",    "pgoutput",  "logical",
          "app",       "f",      "t",       "4242", "0/3000000", "0/3000080",
          "reserved",  "900000", "256",     "128"};
}

TEST(SlotStateParseTest, ReadsEveryColumn) {
  absl::StatusOr<pg::SlotState> s = pg::ParseSlotStateRow(SlotRow());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->server_lsn, 0x3000100u);
  EXPECT_FALSE(s->in_recovery);
  EXPECT_EQ(s->max_slot_wal_keep_size, 1048576);
  EXPECT_TRUE(s->exists);
  EXPECT_EQ(s->plugin, "pgoutput");
  EXPECT_EQ(s->slot_type, "logical");
  EXPECT_EQ(s->database, "app");
  EXPECT_FALSE(s->temporary);
  EXPECT_TRUE(s->active);
  EXPECT_EQ(s->active_pid, 4242);
  EXPECT_EQ(s->restart_lsn, 0x3000000u);
  EXPECT_EQ(s->confirmed_flush_lsn, 0x3000080u);
  EXPECT_EQ(s->wal_status, pg::WalStatus::kReserved);
  EXPECT_EQ(s->safe_wal_size, 900000);
  EXPECT_EQ(s->retained_wal_bytes, 256);
  EXPECT_EQ(s->lag_bytes, 128);
}

TEST(SlotStateParseTest, NullsOfAnInactiveSlotAreNormal) {
  pg::SqlRow row = SlotRow();
  row[8] = "f";
  row[9] = std::nullopt;   // active_pid
  row[13] = std::nullopt;  // safe_wal_size (unbounded)
  row[2] = "-1";
  absl::StatusOr<pg::SlotState> s = pg::ParseSlotStateRow(row);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->active);
  EXPECT_FALSE(s->active_pid.has_value());
  EXPECT_FALSE(s->safe_wal_size.has_value());
  EXPECT_EQ(s->max_slot_wal_keep_size, -1);
}

TEST(SlotStateParseTest, NoSlotIsARowOfNulls) {
  pg::SqlRow row(pg::kSlotStateColumns, std::nullopt);
  row[0] = "0/16B3748";
  row[1] = "f";
  row[2] = "-1";
  row[3] = "f";
  absl::StatusOr<pg::SlotState> s = pg::ParseSlotStateRow(row);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->exists);
  EXPECT_EQ(s->server_lsn, 0x16B3748u);
}

TEST(SlotStateParseTest, MalformedValuesAreInternalErrorsNamingTheColumn) {
  struct Case {
    int column;
    std::optional<std::string> value;
    const char* name;
  };
  for (const Case& c :
       {Case{0, "nonsense", "pg_current_wal_lsn"},
        Case{1, "yes", "pg_is_in_recovery"},
        Case{2, "1MB", "max_slot_wal_keep_size"},
        Case{3, std::nullopt, "exists"}, Case{8, "", "active"},
        Case{9, "12a", "active_pid"}, Case{10, "0/", "restart_lsn"},
        Case{11, "G/1", "confirmed_flush_lsn"},
        Case{13, "99999999999999999999", "safe_wal_size"},
        Case{14, "1.5", "retained WAL"}, Case{15, "-", "lag"}}) {
    pg::SqlRow row = SlotRow();
    row[c.column] = c.value;
    absl::StatusOr<pg::SlotState> s = pg::ParseSlotStateRow(row);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInternal) << c.name;
    EXPECT_THAT(s.status().message(), HasSubstr(c.name));
  }
  pg::SqlRow short_row = SlotRow();
  short_row.pop_back();
  EXPECT_EQ(pg::ParseSlotStateRow(short_row).status().code(),
            absl::StatusCode::kInternal);
}

TEST(SlotStateParseTest, UnknownWalStatusIsKeptNotRefused) {
  pg::SqlRow row = SlotRow();
  row[12] = "future\n\x01";
  absl::StatusOr<pg::SlotState> s = pg::ParseSlotStateRow(row);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->wal_status, pg::WalStatus::kOther);
  StatusInput in{"s", "p", *s, {}, {}};
  const RiskAssessment risk = AssessRisk(in);
  EXPECT_FALSE(risk.at_risk);
  ASSERT_EQ(risk.notes.size(), 1u);
  // Printed escaped: no raw control characters reach the terminal.
  EXPECT_THAT(FormatStatusText(in, risk), Not(HasSubstr("\x01")));
  EXPECT_THAT(FormatStatusText(in, risk), HasSubstr("future\\x0a\\x01"));
}

TEST(CopyProgressParseTest, ValidatesNumbers) {
  absl::StatusOr<pg::CopyProgress> c =
      pg::ParseCopyProgressRow({"77", std::nullopt, "1500", "65536"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pid, 77);
  EXPECT_EQ(c->table, "");
  EXPECT_EQ(c->tuples_processed, 1500);
  EXPECT_EQ(
      pg::ParseCopyProgressRow({std::nullopt, "t", "1", "1"}).status().code(),
      absl::StatusCode::kInternal);
  EXPECT_EQ(pg::ParseCopyProgressRow({"1", "t", "x", "1"}).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(pg::ParseCopyProgressRow({"1", "t"}).status().code(),
            absl::StatusCode::kInternal);
}

StatusInput Healthy() {
  StatusInput in;
  in.slot = "pgcdc";
  in.publication = "pgcdc_pub";
  in.state = *pg::ParseSlotStateRow(SlotRow());
  in.activity.publication_exists = true;
  return in;
}

TEST(AssessRiskTest, AHealthySlotIsNotAtRisk) {
  const RiskAssessment r = AssessRisk(Healthy());
  EXPECT_FALSE(r.at_risk);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(AssessRiskTest, LostSaysInvalidatedAndWhatToDo) {
  StatusInput in = Healthy();
  in.state.wal_status = pg::WalStatus::kLost;
  in.state.wal_status_text = "lost";
  in.state.safe_wal_size.reset();
  const RiskAssessment r = AssessRisk(in);
  EXPECT_TRUE(r.at_risk);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("invalidated"));
  EXPECT_THAT(r.warnings[0], HasSubstr("pg_drop_replication_slot"));
}

TEST(AssessRiskTest, UnreservedIsAtRisk) {
  StatusInput in = Healthy();
  in.state.wal_status = pg::WalStatus::kUnreserved;
  in.state.safe_wal_size = -5000;
  const RiskAssessment r = AssessRisk(in);
  EXPECT_TRUE(r.at_risk);
  ASSERT_EQ(r.warnings.size(), 1u);  // not repeated as "close to"
  EXPECT_THAT(r.warnings[0], HasSubstr("unreserved"));
}

TEST(AssessRiskTest, ExtendedIsAtRiskOnlyWithoutALimit) {
  StatusInput in = Healthy();
  in.state.wal_status = pg::WalStatus::kExtended;
  EXPECT_FALSE(AssessRisk(in).at_risk);  // 1 MiB limit, 900000 safe
  in.state.max_slot_wal_keep_size = -1;
  in.state.safe_wal_size.reset();
  const RiskAssessment r = AssessRisk(in);
  EXPECT_TRUE(r.at_risk);
  EXPECT_THAT(r.warnings[0], HasSubstr("unbounded"));
}

TEST(AssessRiskTest, SafeWalSizeBelowAFifthOfTheLimit) {
  StatusInput in = Healthy();
  in.state.safe_wal_size = 1048576 / 5 + 1;
  EXPECT_FALSE(AssessRisk(in).at_risk);
  in.state.safe_wal_size = 1048576 / 5 - 1;
  const RiskAssessment r = AssessRisk(in);
  EXPECT_TRUE(r.at_risk);
  EXPECT_THAT(r.warnings[0], HasSubstr("close to invalidation"));
}

TEST(AssessRiskTest, InactiveAndRetainingMuch) {
  StatusInput in = Healthy();
  in.state.max_slot_wal_keep_size = -1;
  in.state.safe_wal_size.reset();
  in.state.active = false;
  in.state.active_pid.reset();
  in.state.retained_wal_bytes = kInactiveRetainedBytes - 1;
  EXPECT_FALSE(AssessRisk(in).at_risk);
  in.state.retained_wal_bytes = kInactiveRetainedBytes;
  const RiskAssessment r = AssessRisk(in);
  EXPECT_TRUE(r.at_risk);
  EXPECT_THAT(r.warnings[0], HasSubstr("inactive"));
  // The same WAL under an active consumer is its lag, not a risk.
  in.state.active = true;
  EXPECT_FALSE(AssessRisk(in).at_risk);
}

TEST(AssessRiskTest, AMissingSlotIsANoteNotARisk) {
  StatusInput in = Healthy();
  in.state = pg::SlotState{};
  in.state.exists = false;
  const RiskAssessment r = AssessRisk(in);
  EXPECT_FALSE(r.at_risk);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_THAT(r.notes[0], HasSubstr("does not exist"));
  const std::string text = FormatStatusText(in, r);
  EXPECT_THAT(text, HasSubstr("exists:"));
  EXPECT_THAT(text, HasSubstr("no\n"));
}

TEST(FormatByteSizeTest, BinaryUnits) {
  EXPECT_EQ(FormatByteSize(0), "0 B");
  EXPECT_EQ(FormatByteSize(1023), "1023 B");
  EXPECT_EQ(FormatByteSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatByteSize(16 * 1024 * 1024), "16 MiB");
  EXPECT_EQ(FormatByteSize(-3), "-3 B");
  EXPECT_EQ(FormatByteSize(INT64_MAX), "8.0 EiB");
}

TEST(FormatStatusTextTest, ShowsTheServersFigures) {
  StatusInput in = Healthy();
  pg::CopyProgress copy;
  copy.pid = 99;
  copy.tuples_processed = 1234;
  copy.bytes_processed = 2048;
  in.activity.copies.push_back(copy);
  const std::string text = FormatStatusText(in, AssessRisk(in));
  EXPECT_THAT(text, HasSubstr("yes, pid 4242"));
  EXPECT_THAT(text, HasSubstr("0/3000080"));
  EXPECT_THAT(text, HasSubstr("0/3000000"));
  EXPECT_THAT(text, HasSubstr("reserved"));
  EXPECT_THAT(text, HasSubstr("128 B (128 bytes)"));
  EXPECT_THAT(text, HasSubstr("1234 rows"));
  EXPECT_THAT(text, HasSubstr("OK: the slot is not at risk"));
  EXPECT_THAT(text, Not(HasSubstr("WARNING")));
}

TEST(FormatStatusJsonTest, OneParsableObjectWithStableFields) {
  StatusInput in = Healthy();
  in.slot = "we\"ird\\\x01\xff";  // hostile name: still valid JSON
  in.state.wal_status = pg::WalStatus::kLost;
  in.state.wal_status_text = "lost";
  const RiskAssessment risk = AssessRisk(in);
  const std::string json = FormatStatusJson(in, risk);
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.find('\n'), json.size() - 1);
  google::protobuf::Struct parsed;
  auto st = google::protobuf::util::JsonStringToMessage(json, &parsed);
  ASSERT_TRUE(st.ok()) << st << "\n" << json;
  const auto& f = parsed.fields();
  for (const char* name : {"slot",
                           "exists",
                           "plugin",
                           "slot_type",
                           "database",
                           "temporary",
                           "active",
                           "active_pid",
                           "confirmed_flush_lsn",
                           "restart_lsn",
                           "server_lsn",
                           "in_recovery",
                           "lag_bytes",
                           "retained_wal_bytes",
                           "wal_status",
                           "safe_wal_size_bytes",
                           "max_slot_wal_keep_size_bytes",
                           "publication",
                           "publication_exists",
                           "snapshot_copies",
                           "at_risk",
                           "warnings",
                           "notes"}) {
    EXPECT_TRUE(f.contains(name)) << name;
  }
  EXPECT_EQ(f.at("active_pid").number_value(), 4242);
  EXPECT_EQ(f.at("confirmed_flush_lsn").string_value(), "0/3000080");
  EXPECT_EQ(f.at("wal_status").string_value(), "lost");
  EXPECT_TRUE(f.at("at_risk").bool_value());
  EXPECT_EQ(f.at("warnings").list_value().values_size(), 1);
  EXPECT_THAT(f.at("slot").string_value(), HasSubstr("\\xff"));
  EXPECT_THAT(f.at("slot").string_value(), Not(HasSubstr("\x01")));
}

TEST(FormatStatusJsonTest, NullsForAMissingSlot) {
  StatusInput in = Healthy();
  in.state = pg::SlotState{};
  const std::string json = FormatStatusJson(in, AssessRisk(in));
  EXPECT_THAT(json, HasSubstr("\"exists\":false"));
  EXPECT_THAT(json, HasSubstr("\"active\":null"));
  EXPECT_THAT(json, HasSubstr("\"confirmed_flush_lsn\":null"));
  EXPECT_THAT(json, HasSubstr("\"at_risk\":false"));
}

// A primary and a standby read from a two-host source.dsn.
pg::FailoverInput TwoHosts(bool synced) {
  pg::FailoverInput in;
  in.slot = "pgcdc";
  in.slot_failover = true;
  pg::HostFailoverState primary;
  primary.endpoint = "127.0.0.1:5432";
  primary.server_version_num = 180001;
  primary.slot_exists = true;
  primary.slot_failover = true;
  primary.synchronized_standby_slots = {{"sb1", true, true, true}};
  pg::HostFailoverState standby;
  standby.endpoint = "127.0.0.1:5433";
  standby.server_version_num = 180001;
  standby.in_recovery = true;
  standby.slot_exists = true;
  standby.slot_synced = synced;
  standby.slot_failover = true;
  standby.sync_replication_slots = true;
  standby.hot_standby_feedback = true;
  standby.primary_slot_name = "sb1";
  standby.primary_conninfo_has_dbname = true;
  pg::HostFailoverState down;
  down.endpoint = "127.0.0.1:5434";
  down.error = "connection refused";
  in.hosts = {primary, standby, down};
  return in;
}

TEST(AssessRiskTest, AFailoverSlotThatWouldNotSurviveIsAtRisk) {
  StatusInput in = Healthy();
  in.failover = TwoHosts(/*synced=*/false);
  RiskAssessment r = AssessRisk(in);
  EXPECT_TRUE(r.at_risk);
  EXPECT_THAT(r.warnings, ::testing::Contains(
                              AllOf(HasSubstr("would not survive a failover"),
                                    HasSubstr("127.0.0.1:5433"))));
  in.failover = TwoHosts(/*synced=*/true);
  r = AssessRisk(in);
  EXPECT_FALSE(r.at_risk);
  EXPECT_TRUE(r.failover.survives);
  // Without the setting a slot that would be lost is reported, not a risk.
  in.failover.slot_failover = false;
  r = AssessRisk(in);
  EXPECT_FALSE(r.at_risk);
  EXPECT_FALSE(r.failover.survives);
}

TEST(FormatStatusTextTest, FailoverSectionNamesEveryHost) {
  StatusInput in = Healthy();
  in.failover = TwoHosts(/*synced=*/true);
  const std::string text = FormatStatusText(in, AssessRisk(in));
  EXPECT_THAT(text, HasSubstr("failover (source.slot_failover: true)"));
  EXPECT_THAT(text, HasSubstr("\"sb1\" (active)"));
  EXPECT_THAT(text, HasSubstr("host 127.0.0.1:5432:"));
  EXPECT_THAT(text, HasSubstr("sync_replication_slots on"));
  EXPECT_THAT(text, HasSubstr("synced yes"));
  EXPECT_THAT(text, HasSubstr("host 127.0.0.1:5434:     not read: "
                              "connection refused"));
  EXPECT_THAT(text, HasSubstr("survives a failover:     yes (to "
                              "127.0.0.1:5433)"));
}

TEST(FormatStatusJsonTest, FailoverObject) {
  StatusInput in = Healthy();
  in.failover = TwoHosts(/*synced=*/true);
  const std::string json = FormatStatusJson(in, AssessRisk(in));
  google::protobuf::Struct parsed;
  auto st = google::protobuf::util::JsonStringToMessage(json, &parsed);
  ASSERT_TRUE(st.ok()) << st << "\n" << json;
  const auto& failover = parsed.fields().at("failover").struct_value().fields();
  EXPECT_TRUE(failover.at("slot_failover").bool_value());
  EXPECT_TRUE(failover.at("survives").bool_value());
  EXPECT_EQ(failover.at("ready_standbys").list_value().values(0).string_value(),
            "127.0.0.1:5433");
  const auto& hosts = failover.at("hosts").list_value();
  ASSERT_EQ(hosts.values_size(), 3);
  const auto& standby = hosts.values(1).struct_value().fields();
  EXPECT_EQ(standby.at("role").string_value(), "standby");
  EXPECT_TRUE(standby.at("slot_synced").bool_value());
  EXPECT_TRUE(standby.at("sync_replication_slots").bool_value());
  EXPECT_TRUE(standby.at("hot_standby_feedback").bool_value());
  EXPECT_EQ(standby.at("primary_slot_name").string_value(), "sb1");
  EXPECT_TRUE(standby.at("primary_conninfo_has_dbname").bool_value());
  const auto& primary = hosts.values(0).struct_value().fields();
  EXPECT_EQ(primary.at("role").string_value(), "primary");
  EXPECT_TRUE(primary.at("slot_failover").bool_value());
  EXPECT_EQ(primary.at("synchronized_standby_slots")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("name")
                .string_value(),
            "sb1");
  EXPECT_EQ(hosts.values(2).struct_value().fields().at("error").string_value(),
            "connection refused");
}

}  // namespace
}  // namespace cdc::cli
