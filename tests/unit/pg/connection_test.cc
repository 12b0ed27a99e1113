// The libpq edge, as far as it works without a server: a dsn libpq cannot
// parse is refused before any connection is tried, and the refusal quotes
// none of it (libpq's own message would: `missing "=" after "..."`).
#include "cdc/pg/connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace cdc::pg {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConnectionTest, UnparsableDsnIsRefusedWithoutQuotingIt) {
  const std::string dsns[] = {
      // A password with a space, unquoted: "Secret" reads as a keyword.
      "host=127.0.0.1 port=1 password=Top Secret",
      "host=127.0.0.1 port=1 password='Top Secret",    // unterminated quote
      "host=127.0.0.1 port=1 Top=Secret",              // no such keyword
      "postgresql://app:Top%zzSecret@127.0.0.1:1/db",  // bad percent-encoding
      "postgresql://app@127.0.0.1:1/db?Top=Secret",    // no such parameter
      "postgres://app:Top Secret@127.0.0.1:1/db?sslmode=disable&x",
  };
  for (const std::string& dsn : dsns) {
    absl::StatusOr<std::unique_ptr<SqlConnection>> sql =
        SqlConnection::Connect(dsn);
    absl::StatusOr<std::unique_ptr<ReplicationStream>> stream =
        ReplicationStream::Connect(dsn);
    for (const absl::Status& status : {sql.status(), stream.status()}) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << dsn;
      const std::string message(status.message());
      EXPECT_THAT(message, HasSubstr("source.dsn is not a valid libpq "
                                     "connection string or URI"));
      EXPECT_THAT(message, Not(HasSubstr("Top"))) << message;
      EXPECT_THAT(message, Not(HasSubstr("Secret"))) << message;
      EXPECT_THAT(message, Not(HasSubstr("127.0.0.1"))) << message;
    }
  }
}

}  // namespace
}  // namespace cdc::pg
