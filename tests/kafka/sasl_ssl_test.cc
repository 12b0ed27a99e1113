// pgcdc against a real Apache Kafka 4.x whose only client listener is
// SASL_SSL (SCRAM users made when its storage was formatted, a certificate
// from a CA the test made): `run`, `check` and `tail` connect and stream with
// SCRAM-SHA-512 and SCRAM-SHA-256, and a wrong password, an unknown user, a
// wrong CA or a certificate for another host each end them with exit 3 and a
// last line that names the cause, within seconds and without the secret.
//
// librdkafka before 2.6.1 cannot log in to Kafka 4.x with SCRAM (it sends
// the client nonce twice, which Kafka 4 refuses as invalid credentials):
// these tests are what fails on Debian 12's librdkafka 2.0.2.
#include <stdlib.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/real_kafka.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUser[] = "pgcdc";
constexpr char kPassword[] = "Scram-Pass-4f1c9e";  // never in any output
constexpr char kWrongPassword[] = "Wrong-Pass-77d2a0";

RealKafka* Kafka() { return RealKafkaEnvironment::kafka(); }

class SaslSslTest : public PgcdcTest {
 protected:
  void SetUp() override {
    PgcdcTest::SetUp();
    ASSERT_NE(Kafka(), nullptr) << "no Kafka cluster";
    // Every test has topics of its own on the shared cluster.
    prefix_ = absl::AsciiStrToLower(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  std::string TopicOf(const std::string& table) const {
    return prefix_ + "." + table;
  }

  // The librdkafka properties of a SASL_SSL client.
  static std::map<std::string, std::string> Properties(
      const std::string& mechanism = "SCRAM-SHA-512",
      const std::string& user = kUser,
      const std::string& password = kPassword,
      const std::string& ca = Kafka()->ca_path()) {
    return {{"security.protocol", "SASL_SSL"},
            {"sasl.mechanism", mechanism},
            {"sasl.username", user},
            {"sasl.password", password},
            {"ssl.ca.location", ca}};
  }

  // A config for `tables` that reaches `bootstrap` with `properties`, as
  // docs/operations.md's Security section shows it: the password comes from the
  // environment (KAFKA_PASSWORD, which pgcdc inherits from the test).
  std::string Config(const std::vector<std::string>& tables,
                     const std::map<std::string, std::string>& properties,
                     const std::string& bootstrap = Kafka()->bootstrap()) {
    std::string kafka = "  properties:\n";
    for (const auto& [name, value] : properties) {
      if (name == "sasl.password") {
        ::setenv("KAFKA_PASSWORD", value.c_str(), 1);
        absl::StrAppend(&kafka, "    ", name, ": \"${KAFKA_PASSWORD}\"\n");
        continue;
      }
      absl::StrAppend(&kafka, "    ", name, ": \"", value, "\"\n");
    }
    std::string path = WriteConfig(tables, kafka);
    EditConfig(path, "bootstrap_servers: \"[^\"]*\"",
               "bootstrap_servers: \"" + bootstrap + "\"");
    EditConfig(path, "topic_prefix: test", "topic_prefix: " + prefix_);
    return path;
  }

  std::string prefix_;

  // Streams `rows` inserts and updates of public.t through `config`, then
  // checks that the topic rebuilds the table.
  void StreamsAndRebuilds(const std::string& config,
                          const std::map<std::string, std::string>& properties,
                          int rows) {
    Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
    std::string output;
    EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
    EXPECT_THAT(output, HasSubstr("broker(s) answer"));
    EXPECT_THAT(output, Not(HasSubstr(kPassword)));
    Subprocess p = StartPgcdc(config);
    Sql(absl::StrCat("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, ",
                     rows, ") g"));
    Sql("UPDATE t SET body = 'updated' WHERE id % 3 = 0");
    Sql("DELETE FROM t WHERE id % 10 = 0");
    WaitCaughtUp();
    StopPgcdc(p);
    EXPECT_THAT(p.ReadLog(), Not(HasSubstr(kPassword)));
    absl::StatusOr<std::vector<ReadEvent>> events =
        ReadAll(Kafka()->bootstrap(), TopicOf("public.t"), properties);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_EQ(events->size(),
              static_cast<size_t>(rows + rows / 3 + rows / 10));
    EXPECT_EQ(CheckOrderAndDuplicates(*events), "");
    std::vector<pg::SqlRow> source = Rows("SELECT count(*) FROM t");
    ASSERT_EQ(source.size(), 1u);
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(cluster_->Dsn(db_));
    ASSERT_TRUE(conn.ok()) << conn.status();
    absl::StatusOr<TableImage> table = SelectTable(**conn, "t", {"id"});
    ASSERT_TRUE(table.ok()) << table.status();
    EXPECT_TRUE(RebuildsTo(*events, *table));
  }

  // pgcdc `args` exits 3 within 10 s, its last line says `cause`, and no
  // password is anywhere in its output.
  void FailsWithCause(const std::vector<std::string>& args,
                      const std::string& cause) {
    SCOPED_TRACE(args[0]);
    std::string output;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(RunPgcdc(args, &output), 3) << output;
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, std::chrono::seconds(10)) << output;
    EXPECT_THAT(LastLine(output), HasSubstr(cause)) << output;
    EXPECT_THAT(output, Not(HasSubstr("no Kafka broker answered")));
    EXPECT_THAT(output, Not(HasSubstr("reachable")));
    EXPECT_THAT(output, Not(HasSubstr(kPassword)));
    EXPECT_THAT(output, Not(HasSubstr(kWrongPassword)));
  }

  // run, check and tail with this config all fail naming `cause`.
  void AllFailWithCause(const std::string& config, const std::string& cause) {
    FailsWithCause({"check", "--config", config}, cause);
    FailsWithCause({"run", "--config", config}, cause);
    FailsWithCause({"tail", "--config", config, "--topic", TopicOf("public.t"),
                    "--from-beginning", "--idle-exit-ms", "1000"},
                   cause);
  }
};

TEST_F(SaslSslTest, ScramSha512StreamsChecksAndTails) {
  const std::map<std::string, std::string> properties = Properties();
  const std::string config = Config({"public.t"}, properties);
  StreamsAndRebuilds(config, properties, 3000);
  // tail with pgcdc's own config: the same listener, the same login.
  std::string output;
  EXPECT_EQ(RunPgcdc({"tail", "--config", config, "--topic", TopicOf("public.t"),
                      "--from-beginning", "--idle-exit-ms", "2000"},
                     &output),
            0)
      << output;
  EXPECT_EQ(CountOccurrences(output, "\"event\":"), 3000u + 1000u + 300u)
      << output.substr(0, 2000);
  EXPECT_THAT(output, Not(HasSubstr(kPassword)));
}

TEST_F(SaslSslTest, ScramSha256StreamsChecksAndTails) {
  const std::map<std::string, std::string> properties =
      Properties("SCRAM-SHA-256");
  const std::string config = Config({"public.t"}, properties);
  StreamsAndRebuilds(config, properties, 300);
  // tail with properties on the command line.
  std::vector<std::string> args = {"tail", "--bootstrap-servers",
                                   Kafka()->bootstrap(), "--topic",
                                   TopicOf("public.t"), "--from-beginning",
                                   "--idle-exit-ms", "2000"};
  for (const auto& [name, value] : properties) {
    args.push_back("--property");
    args.push_back(name + "=" + value);
  }
  std::string output;
  EXPECT_EQ(RunPgcdc(args, &output), 0) << output;
  EXPECT_EQ(CountOccurrences(output, "\"event\":"), 300u + 100u + 30u);
}

TEST_F(SaslSslTest, WrongPasswordIsRefusedAtOnceNamingTheUser) {
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  AllFailWithCause(
      Config({"public.t"},
             Properties("SCRAM-SHA-512", kUser, kWrongPassword)),
      "SASL authentication failed for user pgcdc (SCRAM-SHA-512)");
}

TEST_F(SaslSslTest, UnknownUserIsRefusedAtOnce) {
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  AllFailWithCause(
      Config({"public.t"},
             Properties("SCRAM-SHA-256", "nobody", kWrongPassword)),
      "SASL authentication failed for user nobody (SCRAM-SHA-256)");
}

TEST_F(SaslSslTest, CertificateFromAnotherCaIsRefusedAtOnce) {
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  // The system's CAs: the test CA is not among them.
  AllFailWithCause(
      Config({"public.t"}, Properties("SCRAM-SHA-512", kUser, kPassword,
                                      "/etc/ssl/certs/ca-certificates.crt")),
      "TLS with the Kafka broker failed");
}

TEST_F(SaslSslTest, CertificateForAnotherHostIsRefusedAtOnce) {
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  // The right CA, but the listener's certificate names another host.
  AllFailWithCause(Config({"public.t"}, Properties(),
                          Kafka()->misnamed_bootstrap()),
                   "TLS with the Kafka broker failed");
}

}  // namespace
}  // namespace cdc::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cdc::testing::RealKafka::Options options;
  options.tls = true;
  options.sasl = true;
  options.users = {absl::StrCat(cdc::testing::kUser, "=",
                                cdc::testing::kPassword)};
  ::testing::AddGlobalTestEnvironment(
      new cdc::testing::RealKafkaEnvironment(options));
  return RUN_ALL_TESTS();
}
