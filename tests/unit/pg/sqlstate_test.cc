// The one SQLSTATE → absl::Status mapping, and the SQLSTATE payload that
// lets callers test a server error's condition by code.
#include "cdc/pg/sqlstate.h"

#include <gtest/gtest.h>

#include "cdc/common/status.h"

namespace cdc::pg {
namespace {

TEST(SqlStateTest, NamedConditionsMapToTheirCodes) {
  EXPECT_EQ(StatusCodeForSqlState(kInsufficientPrivilege),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusCodeForSqlState(kUndefinedTable),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForSqlState(kUndefinedObject),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForSqlState(kInvalidCatalogName),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForSqlState(kDuplicateObject),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusCodeForSqlState(kDuplicateTable),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusCodeForSqlState(kObjectInUse),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeForSqlState(kQueryCanceled),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusCodeForSqlState(kLockNotAvailable),
            absl::StatusCode::kUnavailable);
}

TEST(SqlStateTest, ClassesMapToTheirCodes) {
  EXPECT_EQ(StatusCodeForSqlState("40001"), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForSqlState("40P01"), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForSqlState("08006"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("57P01"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("53100"),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeForSqlState("55000"),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeForSqlState("42601"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForSqlState("22P02"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForSqlState("XX000"), absl::StatusCode::kInternal);
  // No SQLSTATE: libpq's own error, such as a lost connection.
  EXPECT_EQ(StatusCodeForSqlState(""), absl::StatusCode::kUnavailable);
}

TEST(SqlStateTest, ErrorCarriesItsSqlState) {
  absl::Status s =
      SqlError(kObjectInUse, "replication slot \"s\" is active for PID 42");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "replication slot \"s\" is active for PID 42");
  EXPECT_EQ(SqlStateOf(s), kObjectInUse);
  // Another condition of the same class and code is told apart.
  absl::Status other = SqlError("55000", "object not in prerequisite state");
  EXPECT_EQ(other.code(), s.code());
  EXPECT_NE(SqlStateOf(other), kObjectInUse);
}

TEST(SqlStateTest, StatusWithoutSqlStateHasNone) {
  EXPECT_EQ(SqlStateOf(absl::OkStatus()), "");
  EXPECT_EQ(SqlStateOf(absl::FailedPreconditionError("is active")), "");
  EXPECT_EQ(SqlStateOf(SqlError("", "connection lost")), "");
}

TEST(SqlStateTest, PrefixKeepsTheSqlState) {
  absl::Status s = WithPrefix(SqlError(kObjectInUse, "busy"), "slot: ");
  EXPECT_EQ(s.message(), "slot: busy");
  EXPECT_EQ(SqlStateOf(s), kObjectInUse);
}

TEST(SqlStateTest, NewMessageKeepsTheSqlState) {
  absl::Status s = WithMessage(SqlError(kObjectInUse, "busy"), "in use");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "in use");
  EXPECT_EQ(SqlStateOf(s), kObjectInUse);
}

}  // namespace
}  // namespace cdc::pg
