#include "cdc/kafka/client_failure.h"

#include <librdkafka/rdkafka.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::kafka {
namespace {

using ::testing::HasSubstr;

TEST(ClientFailureTest, IdentityComesFromTheProperties) {
  ClientIdentity who = IdentityOf({{"sasl.username", "pgcdc"},
                                   {"sasl.password", "TopSecret"},
                                   {"sasl.mechanism", "SCRAM-SHA-512"}});
  EXPECT_EQ(who.sasl_username, "pgcdc");
  EXPECT_EQ(who.sasl_mechanism, "SCRAM-SHA-512");
  // librdkafka's older name, and its default.
  EXPECT_EQ(IdentityOf({{"sasl.mechanisms", "PLAIN"}}).sasl_mechanism, "PLAIN");
  EXPECT_EQ(IdentityOf({}).sasl_mechanism, "GSSAPI");
}

TEST(ClientFailureTest, RefusedLoginNamesUserAndMechanism) {
  const ClientIdentity who{"pgcdc", "SCRAM-SHA-256"};
  for (int err : {RD_KAFKA_RESP_ERR__AUTHENTICATION,
                  RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED}) {
    absl::Status s = ConnectFailure(err, "invalid credentials", who);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(s.message(),
                HasSubstr("SASL authentication failed for user pgcdc "
                          "(SCRAM-SHA-256): invalid credentials"));
  }
}

TEST(ClientFailureTest, FailedTlsHandshakeSaysTls) {
  absl::Status s =
      ConnectFailure(RD_KAFKA_RESP_ERR__SSL, "certificate verify failed", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("TLS with the Kafka broker failed: "
                                     "certificate verify failed"));
  EXPECT_THAT(s.message(), HasSubstr("ssl.ca.location"));
}

TEST(ClientFailureTest, AnythingElseIsNoConnectFailure) {
  for (int err :
       {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR__RESOLVE,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED}) {
    EXPECT_TRUE(ConnectFailure(err, "x", {}).ok()) << err;
  }
}

}  // namespace
}  // namespace cdc::kafka
