// Which of the role's missing rights stop pgcdc, for which configuration,
// and what the message says (RequireRoleRights is pure; ReadRoleRights is
// exercised against a real server by the integration tests).
#include <string>
#include <vector>

#include "cdc/pg/catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::pg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

RoleRights Lacking(bool read, bool emit) {
  RoleRights rights;
  rights.role = "cdc";
  if (read) {
    rights.read.push_back(
        {"SELECT on public.t", "GRANT SELECT ON \"public\".\"t\" TO \"cdc\""});
  }
  if (emit) {
    rights.emit.push_back(
        {"EXECUTE on function pg_logical_emit_message(boolean, text, text)",
         "GRANT EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, "
         "text) TO \"cdc\""});
  }
  return rights;
}

config::Config WithMode(const std::string& mode, int heartbeat_ms = 0) {
  config::Config config;
  config.snapshot.mode = mode;
  config.source.heartbeat_interval_ms = heartbeat_ms;
  return config;
}

TEST(RoleRightsTest, NothingMissingIsFine) {
  std::vector<std::string> warnings;
  for (const char* mode :
       {"initial", "never", "always", "initial_only", "when_needed"}) {
    EXPECT_TRUE(RequireRoleRights(Lacking(false, false), WithMode(mode, 1000),
                                  &warnings)
                    .ok())
        << mode;
  }
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(RoleRightsTest, SnapshotsNeedSelect) {
  for (const char* mode :
       {"initial", "always", "initial_only", "when_needed"}) {
    std::vector<std::string> warnings;
    absl::Status s =
        RequireRoleRights(Lacking(true, false), WithMode(mode), &warnings);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << mode;
    EXPECT_THAT(s.message(), HasSubstr("role \"cdc\" lacks SELECT on public.t "
                                       "(snapshots read the tables)"));
    EXPECT_THAT(s.message(), HasSubstr("GRANT SELECT ON \"public\".\"t\" TO "
                                       "\"cdc\""));
  }
}

TEST(RoleRightsTest, WithoutSnapshotsMissingRightsAreWarnings) {
  std::vector<std::string> warnings;
  EXPECT_TRUE(
      RequireRoleRights(Lacking(true, true), WithMode("never"), &warnings)
          .ok());
  ASSERT_THAT(warnings, SizeIs(2));
  EXPECT_THAT(warnings[0], HasSubstr("lacks SELECT on public.t: incremental "
                                     "snapshots (pgcdc snapshot) will fail"));
  EXPECT_THAT(warnings[1], HasSubstr("pg_logical_emit_message"));
}

TEST(RoleRightsTest, JournaledSnapshotsNeedToWriteMessages) {
  for (const char* mode : {"initial", "always", "when_needed"}) {
    std::vector<std::string> warnings;
    absl::Status s =
        RequireRoleRights(Lacking(false, true), WithMode(mode), &warnings);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << mode;
    EXPECT_THAT(s.message(),
                HasSubstr("lacks EXECUTE on function "
                          "pg_logical_emit_message(boolean, text, text) (the "
                          "snapshot journal and incremental snapshots write "
                          "logical decoding messages)"));
    EXPECT_THAT(s.message(), HasSubstr("GRANT EXECUTE ON FUNCTION"));
  }
  // A snapshot that is neither journaled nor followed by a stream writes
  // no message.
  std::vector<std::string> warnings;
  EXPECT_TRUE(RequireRoleRights(Lacking(false, true), WithMode("initial_only"),
                                &warnings)
                  .ok());
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(RoleRightsTest, HeartbeatsNeedToWriteMessages) {
  std::vector<std::string> warnings;
  absl::Status s = RequireRoleRights(Lacking(false, true),
                                     WithMode("never", 5000), &warnings);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("(heartbeats write logical decoding "
                                     "messages)"));
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(RoleRightsTest, EveryMissingRightIsNamedOnce) {
  std::vector<std::string> warnings;
  absl::Status s = RequireRoleRights(Lacking(true, true),
                                     WithMode("initial", 5000), &warnings);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(),
              HasSubstr("SELECT on public.t (snapshots read the tables); "
                        "EXECUTE on function pg_logical_emit_message(boolean, "
                        "text, text) (the snapshot journal, incremental "
                        "snapshots and heartbeats write logical decoding "
                        "messages)"));
  EXPECT_THAT(s.message(), Not(HasSubstr("never")));
  EXPECT_THAT(warnings, ElementsAre());
}

// Anyone who can log in can write into the WAL while PUBLIC may execute
// pg_logical_emit_message: said, with the REVOKE that closes it.
TEST(RoleRightsTest, PublicMayWriteIntoTheWalIsWarnedOf) {
  RoleRights rights = Lacking(false, false);
  rights.public_can_emit = true;
  std::vector<std::string> warnings;
  EXPECT_TRUE(RequireRoleRights(rights, WithMode("initial"), &warnings).ok());
  ASSERT_THAT(warnings, SizeIs(1));
  EXPECT_THAT(warnings[0], HasSubstr("PUBLIC may execute"));
  EXPECT_THAT(warnings[0],
              HasSubstr("REVOKE EXECUTE ON FUNCTION pg_logical_emit_message("
                        "boolean, text, text), pg_logical_emit_message("
                        "boolean, text, bytea) FROM PUBLIC"));
  EXPECT_THAT(warnings[0], HasSubstr("TO cdc"));
  warnings.clear();
  rights.public_can_emit = false;
  EXPECT_TRUE(RequireRoleRights(rights, WithMode("initial"), &warnings).ok());
  EXPECT_THAT(warnings, IsEmpty());
}

// PostgreSQL 17 gave pg_logical_emit_message a fourth argument (flush): the
// three-argument signature names no function there, so asking for its
// rights failed pgcdc's start on 17 and 18.
TEST(RoleRightsTest, EmitMessageSignaturesFollowTheServerVersion) {
  for (int version : {150000, 150018, 160010}) {
    EmitMessageSignatures s = EmitMessageSignaturesFor(version);
    EXPECT_EQ(s.text, "pg_logical_emit_message(boolean, text, text)")
        << version;
    EXPECT_EQ(s.bytea, "pg_logical_emit_message(boolean, text, bytea)")
        << version;
  }
  for (int version : {170000, 180006}) {
    EmitMessageSignatures s = EmitMessageSignaturesFor(version);
    EXPECT_EQ(s.text, "pg_logical_emit_message(boolean, text, text, boolean)")
        << version;
    EXPECT_EQ(s.bytea, "pg_logical_emit_message(boolean, text, bytea, boolean)")
        << version;
  }
}

TEST(RoleRightsTest, PublicWarningNamesTheServersSignatures) {
  RoleRights rights = Lacking(false, false);
  rights.public_can_emit = true;
  rights.signatures = EmitMessageSignaturesFor(180006);
  std::vector<std::string> warnings;
  EXPECT_TRUE(RequireRoleRights(rights, WithMode("initial"), &warnings).ok());
  ASSERT_THAT(warnings, SizeIs(1));
  EXPECT_THAT(
      warnings[0],
      HasSubstr("REVOKE EXECUTE ON FUNCTION pg_logical_emit_message("
                "boolean, text, text, boolean), pg_logical_emit_message("
                "boolean, text, bytea, boolean) FROM PUBLIC; GRANT "
                "EXECUTE ON FUNCTION pg_logical_emit_message(boolean, "
                "text, text, boolean) TO cdc"));
}

}  // namespace
}  // namespace cdc::pg
