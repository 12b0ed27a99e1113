// Connecting securely: PostgreSQL over TLS with the server's certificate
// verified against a CA (sslmode=verify-full), and passwords that never show
// up in pgcdc's logs, errors or metrics. Certificates are made for the test
// with the openssl command.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/subprocess.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Whether something accepts TCP connections on 127.0.0.1:port.
bool PortOpen(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool open =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return open;
}

class SecurityTest : public PgcdcTest {
 protected:
  // Runs a shell command; fails the test when it does not exit 0.
  void Shell(const std::string& command) {
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  // A CA and a server certificate for 127.0.0.1 signed by it, in dir_/tls;
  // another CA that signed nothing of this, for the negative case.
  void MakeCertificates() {
    const std::string tls = dir_ + "/tls";
    Shell(absl::StrCat(
        "mkdir -p ", tls, " && cd ", tls,
        " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
        "'/CN=pgcdc test CA' -keyout ca.key -out ca.crt 2>/dev/null"
        " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
        "'/CN=other CA' -keyout other.key -out other.crt 2>/dev/null"
        " && openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' "
        "-keyout server.key -out server.csr 2>/dev/null"
        " && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext"
        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
        "-CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null"
        " && chown postgres server.key server.crt && chmod 600 server.key"
        " && chmod 755 ",
        tls, " && chmod o+x ", dir_));
  }

  std::string tls() const { return dir_ + "/tls"; }
};

TEST_F(SecurityTest, StreamsOverVerifiedTls) {
  ASSERT_NO_FATAL_FAILURE(MakeCertificates());
  UseCluster(absl::StrCat("-c ssl=on -c ssl_cert_file=", tls(),
                          "/server.crt -c ssl_key_file=", tls(),
                          "/server.key"));
  Sql("CREATE TABLE secrets (id int PRIMARY KEY, v text)");
  std::string config = WriteConfig({"public.secrets"});
  EditConfig(
      config, "dsn: \"[^\"]*\"",
      absl::StrCat("dsn: \"", cluster_->Dsn(db_),
                   " sslmode=verify-full sslrootcert=", tls(), "/ca.crt\""));
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO secrets VALUES (1, 'over tls')");
  WaitCaughtUp();
  // The walsender's connection is encrypted.
  std::vector<pg::SqlRow> rows = Rows(
      "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_replication r "
      "USING (pid)");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::optional<std::string>("t"));
  StopPgcdc(p);
  std::vector<ReadEvent> events = ReadTopic("public.secrets");
  ASSERT_EQ(events.size(), 1u);

  // A certificate the configured CA did not sign is refused: exit 3, naming
  // the problem.
  EditConfig(config, "ca\\.crt", "other.crt");
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("certificate verify failed"));
}

// Kafka over TLS, as far as this machine allows: the mock broker speaks no
// TLS, so the far end is `openssl s_server` with a certificate signed by the
// test CA. With a CA that did not sign it, librdkafka refuses the handshake
// and pgcdc exits 3 saying so; with the right CA the handshake passes and
// librdkafka sends its first Kafka request, which s_server does not answer.
// That pgcdc hands librdkafka its TLS settings and that the broker's
// certificate is verified is tested; a whole TLS (or SASL) session with a
// broker is not.
TEST_F(SecurityTest, KafkaBrokerCertificateIsVerified) {
  ASSERT_NO_FATAL_FAILURE(MakeCertificates());
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  const int port = FreePort();
  absl::StatusOr<Subprocess> server = Subprocess::Start(
      {"/usr/bin/openssl", "s_server", "-accept",
       absl::StrCat("127.0.0.1:", port), "-cert", tls() + "/server.crt", "-key",
       tls() + "/server.key", "-quiet"},
      dir_ + "/s_server.log");
  ASSERT_TRUE(server.ok()) << server.status();
  for (int i = 0; i < 100 && !PortOpen(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto run_with_ca = [&](const std::string& ca, std::string* output) {
    std::string config = WriteConfig(
        {"public.t"}, absl::StrCat("  startup_timeout_ms: 3000\n"
                                   "  properties: {security.protocol: ssl, "
                                   "ssl.ca.location: \"",
                                   tls(), "/", ca, "\"}\n"));
    EditConfig(config, "bootstrap_servers: \"[^\"]*\"",
               absl::StrCat("bootstrap_servers: \"127.0.0.1:", port, "\""));
    return RunPgcdc({"run", "--config", config}, output);
  };
  std::string output;
  EXPECT_EQ(run_with_ca("other.crt", &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("certificate verify failed"));
  EXPECT_TRUE(Rows("SELECT 1 FROM pg_replication_slots").empty());
  EXPECT_THAT(output, Not(HasSubstr("APIVERSION_QUERY")));
  EXPECT_EQ(run_with_ca("ca.crt", &output), 3) << output;
  EXPECT_THAT(output, Not(HasSubstr("certificate verify failed")));
  EXPECT_THAT(output, HasSubstr("kafka.startup_timeout_ms"));
  // The handshake passed: librdkafka got as far as its first Kafka request
  // (which s_server does not answer).
  EXPECT_THAT(output, HasSubstr("in state APIVERSION_QUERY"));
  server->Signal(SIGTERM);
}

TEST_F(SecurityTest, PasswordsNeverAppearInLogsOrMetrics) {
  const std::string password = "pw-Zq83-never-print-me";
  Sql(absl::StrCat("CREATE ROLE app LOGIN REPLICATION PASSWORD '", password,
                   "'"));
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, v text)");
  Sql("GRANT SELECT ON accounts TO app");
  Sql(absl::StrCat("GRANT CREATE ON DATABASE ", db_, " TO app"));
  Sql("ALTER TABLE accounts OWNER TO app");  // to create the publication
  // Password authentication for `app` on TCP (the cluster trusts the rest).
  std::vector<pg::SqlRow> hba = Rows("SHOW hba_file");
  ASSERT_EQ(hba.size(), 1u);
  Shell(absl::StrCat("sed -i '1i host all app 127.0.0.1/32 scram-sha-256' ",
                     *hba[0][0]));
  Sql("SELECT pg_reload_conf()");

  const int port = FreePort();
  std::string config = WriteConfig(
      {"public.accounts"}, "",
      absl::StrCat("metrics:\n  listen: \"127.0.0.1:", port, "\"\n"));
  // The password travels through the environment, as the README advises.
  std::string dsn = cluster_->Dsn(db_);
  dsn.replace(dsn.find("user=postgres"), 13, "user=app");
  EditConfig(config, "dsn: \"[^\"]*\"",
             "dsn: \"" + dsn + " password=${PGCDC_TEST_PASSWORD}\"");
  setenv("PGCDC_TEST_PASSWORD", "wrong-Zq83-secret", 1);
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("password authentication failed"));
  EXPECT_THAT(output, Not(HasSubstr("wrong-Zq83-secret")));

  setenv("PGCDC_TEST_PASSWORD", password.c_str(), 1);
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO accounts VALUES (1, 'x')");
  WaitCaughtUp();
  EXPECT_THAT(HttpGet(port, "/metrics"), Not(HasSubstr(password)));
  // Lose the connection once, so that reconnect messages are logged too.
  Sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots");
  Sql("INSERT INTO accounts VALUES (2, 'y')");
  WaitCaughtUp();
  StopPgcdc(p);
  unsetenv("PGCDC_TEST_PASSWORD");
  EXPECT_THAT(p.ReadLog(), HasSubstr("reconnecting"));
  EXPECT_THAT(p.ReadLog(), Not(HasSubstr(password)));
  EXPECT_EQ(ReadTopic("public.accounts").size(), 2u);
}

}  // namespace
}  // namespace cdc::testing
