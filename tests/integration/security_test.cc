// Connecting securely: PostgreSQL over TLS with the server's certificate
// verified against a CA (sslmode=verify-full), and passwords that never show
// up in pgcdc's logs, errors or metrics, whatever characters they have.
// Certificates are made for the test with the openssl command.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/pg/catalog.h"
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
  // pg_logical_emit_message's signatures on the test server (17 added an
  // argument), for GRANT and REVOKE.
  pg::EmitMessageSignatures Emit() {
    return pg::EmitMessageSignaturesFor(ServerVersionNum());
  }

  // Runs a shell command; fails the test when it does not exit 0.
  void Shell(const std::string& command) {
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  // A CA and a server certificate for db.internal (the deploy example's
  // host) and 127.0.0.1 signed by it, in dir_/tls; another CA that signed
  // nothing of this, for the negative case.
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
        " && printf 'subjectAltName=DNS:db.internal,IP:127.0.0.1\\n' > "
        "san.ext"
        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
        "-CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null"
        " && chown postgres server.key server.crt && chmod 600 server.key"
        " && chmod 755 ",
        tls, " && chmod o+x ", dir_));
  }

  std::string tls() const { return dir_ + "/tls"; }

  // Role `app`, which logs in with `password` over TCP by SCRAM (the
  // cluster trusts everyone else), may replicate, owns table `accounts` (so
  // it can create the publication) and may write snapshot signals.
  void CreatePasswordRole(const std::string& password) {
    std::string literal = "'";
    for (char c : password)
      literal += c == '\'' ? std::string("''") : std::string(1, c);
    literal += "'";
    Sql("CREATE ROLE app LOGIN REPLICATION PASSWORD " + literal);
    Sql("CREATE TABLE accounts (id int PRIMARY KEY, v text)");
    Sql("GRANT SELECT ON accounts TO app");
    Sql(absl::StrCat("GRANT CREATE ON DATABASE ", db_, " TO app"));
    Sql("ALTER TABLE accounts OWNER TO app");
    Sql(absl::StrCat("GRANT EXECUTE ON FUNCTION ", Emit().text, " TO app"));
    std::vector<pg::SqlRow> hba = Rows("SHOW hba_file");
    ASSERT_EQ(hba.size(), 1u);
    Shell(absl::StrCat("sed -i '1i host all app 127.0.0.1/32 scram-sha-256' ",
                       *hba[0][0]));
    Sql("SELECT pg_reload_conf()");
  }

  // The test cluster's dsn for role app, without a password.
  std::string AppDsn() {
    std::string dsn = cluster_->Dsn(db_);
    dsn.replace(dsn.find("user=postgres"), 13, "user=app");
    return dsn;
  }
};

// A password with what breaks naive quoting: spaces, both quotes, '%' (a
// bad percent-encoding, too), '=' and a backslash. Each word is distinctive,
// so that a message quoting any part of it (libpq's `missing "=" after
// "..."` quotes one word) is caught.
constexpr char kSentinel[] = "S3ntinel Qx7'Wvz \"Kpq9\" 50%4Jmy =Rtz8 b\\Lqw";
const char* const kSentinelParts[] = {"S3ntinel", "Qx7",  "Wvz", "Kpq9",
                                      "4Jmy",     "Rtz8", "Lqw"};

// Fails the test if `text` (what `what` printed) has the sentinel or any
// part of it.
void ExpectNoSecret(const std::string& text, const std::string& what) {
  EXPECT_THAT(text, Not(HasSubstr(kSentinel))) << what << ":\n" << text;
  for (const char* part : kSentinelParts) {
    EXPECT_THAT(text, Not(HasSubstr(part)))
        << what << " shows \"" << part << "\":\n"
        << text;
  }
}

// The keywords of deploy/pgcdc.example.yaml's dsn (docs/operations.md's
// Security section shows the same).
std::map<std::string, std::string> ExampleDsn() {
  std::ifstream in(std::string(PGCDC_SOURCE_DIR) +
                   "/deploy/pgcdc.example.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string yaml = ss.str();
  std::smatch m;
  std::map<std::string, std::string> out;
  if (!std::regex_search(yaml, m, std::regex("\n  dsn: \"([^\"]*)\""))) {
    return out;
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(m[1].str().c_str(), &error);
  if (options == nullptr) {
    ADD_FAILURE() << "libpq cannot parse the example's dsn: "
                  << (error != nullptr ? error : "?");
    if (error != nullptr) PQfreemem(error);
    return out;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

// TLS exactly as deploy/pgcdc.example.yaml and docs/operations.md put it: the
// example's dsn, keyword for keyword, with the test's server (port,
// database, a user the cluster trusts; hostaddr, so that db.internal needs
// no DNS while libpq still checks the certificate against that name) and
// its files where the example has them, below dir_ (/etc/pgcdc/pg-ca.crt is
// dir_/etc/pgcdc/pg-ca.crt).
TEST_F(SecurityTest, StreamsOverVerifiedTls) {
  std::map<std::string, std::string> example = ExampleDsn();
  ASSERT_EQ(example["sslmode"], "verify-full");
  ASSERT_EQ(example["host"], "db.internal");
  // Without sslrootcert libpq looks for ~/.postgresql/root.crt, which a
  // service does not have.
  ASSERT_EQ(example["sslrootcert"].rfind("/etc/pgcdc/", 0), 0u)
      << example["sslrootcert"];
  ASSERT_NO_FATAL_FAILURE(MakeCertificates());
  const std::string ca = dir_ + example["sslrootcert"];
  std::filesystem::create_directories(std::filesystem::path(ca).parent_path());
  std::filesystem::copy_file(tls() + "/ca.crt", ca);
  UseCluster(absl::StrCat("-c ssl=on -c ssl_cert_file=", tls(),
                          "/server.crt -c ssl_key_file=", tls(),
                          "/server.key"));
  std::string dsn;
  for (const auto& [keyword, value] : example) {
    std::string v = value;
    if (keyword == "port") v = std::to_string(cluster_->port());
    if (keyword == "dbname") v = db_;
    if (keyword == "user") v = "postgres";
    if (keyword == "password") continue;  // the cluster trusts postgres
    if (keyword == "sslrootcert") v = ca;
    absl::StrAppend(&dsn, keyword, "=", v, " ");
  }
  absl::StrAppend(&dsn, "hostaddr=127.0.0.1");
  Sql("CREATE TABLE secrets (id int PRIMARY KEY, v text)");
  std::string config = WriteConfig({"public.secrets"});
  EditConfig(config, "dsn: \"[^\"]*\"", absl::StrCat("dsn: \"", dsn, "\""));
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

  // A certificate that the configured CA did not sign is refused: exit 3,
  // naming the problem.
  std::filesystem::copy_file(tls() + "/other.crt", ca,
                             std::filesystem::copy_options::overwrite_existing);
  std::string output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("certificate verify failed"));
  // So is a name the certificate is not for (verify-full, not verify-ca).
  std::filesystem::copy_file(tls() + "/ca.crt", ca,
                             std::filesystem::copy_options::overwrite_existing);
  EditConfig(config, "host=db\\.internal", "host=other.internal");
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("does not match host name \"other.internal\""));
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
  // The password travels through the environment, as docs/operations.md
  // advises.
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

// Issue 14: a password given through ${VAR} works as a password whatever
// characters it has (source.dsn quotes it as one value), and neither it nor
// any part of it shows in what check, run or snapshot print, nor in
// /metrics: with the wrong password, with the right one while streaming, and
// in a Kafka property (sasl.password, set but unused by the PLAINTEXT mock
// broker).
TEST_F(SecurityTest, PasswordWithAnyCharactersWorksAndNeverShows) {
  ASSERT_NO_FATAL_FAILURE(CreatePasswordRole(kSentinel));
  const int port = FreePort();
  std::string config =
      WriteConfig({"public.accounts"},
                  "  properties:\n    sasl.password: ${PGCDC_TEST_PASSWORD}\n",
                  MetricsOn(port));
  EditConfig(config, "dsn: \"[^\"]*\"",
             "dsn: \"" + AppDsn() + " password=${PGCDC_TEST_PASSWORD}\"");

  // The wrong password: an authentication failure, said as such.
  setenv("PGCDC_TEST_PASSWORD", absl::StrCat(kSentinel, " x").c_str(), 1);
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("password authentication failed"));
  ExpectNoSecret(output, "check with the wrong password");
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_THAT(output, HasSubstr("password authentication failed"));
  ExpectNoSecret(output, "run with the wrong password");

  // The right one: every check passes, and pgcdc streams.
  setenv("PGCDC_TEST_PASSWORD", kSentinel, 1);
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  ExpectNoSecret(output, "check");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO accounts VALUES (1, 'x')");
  WaitCaughtUp();
  ExpectNoSecret(HttpGet(port, "/metrics"), "/metrics");
  EXPECT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "accounts",
                      "--id", "again"},
                     &output),
            0)
      << output;
  ExpectNoSecret(output, "snapshot");
  EXPECT_TRUE(WaitForLog(p, "snapshot \"again\": public.accounts read", 60000))
      << p.ReadLog();
  WaitCaughtUp();
  ExpectNoSecret(HttpGet(port, "/metrics"), "/metrics");
  setenv("PGCDC_TEST_PASSWORD", "wrong", 1);
  EXPECT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "accounts"},
                     &output),
            3)
      << output;
  EXPECT_THAT(output, HasSubstr("password authentication failed"));
  StopPgcdc(p);
  unsetenv("PGCDC_TEST_PASSWORD");
  ExpectNoSecret(p.ReadLog(), "run");
  // The insert, then the row again from the incremental snapshot.
  EXPECT_EQ(ReadTopic("public.accounts").size(), 2u);
}

// A dsn libpq cannot parse is refused without libpq's reason, which quotes
// the text around the fault: here the whole dsn comes from the environment
// (so it is dsn text, not quoted), with the password written unquoted in
// it, as keyword/value (the second word is taken for a keyword) and as a URI
// (a bad percent-encoding).
TEST_F(SecurityTest, UnparsableDsnIsNeverQuoted) {
  ASSERT_NO_FATAL_FAILURE(CreatePasswordRole(kSentinel));
  std::string config = WriteConfig({"public.accounts"});
  EditConfig(config, "dsn: \"[^\"]*\"", "dsn: \"${PGCDC_TEST_DSN}\"");
  const std::string dsns[] = {
      absl::StrCat(AppDsn(), " password=", kSentinel),
      absl::StrCat("postgresql://app:", kSentinel,
                   "@127.0.0.1:", cluster_->port(), "/", db_),
  };
  for (const std::string& dsn : dsns) {
    setenv("PGCDC_TEST_DSN", dsn.c_str(), 1);
    std::string output;
    EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 2) << output;
    EXPECT_THAT(output, HasSubstr("source.dsn is not a valid libpq"));
    ExpectNoSecret(output, "run");
    EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 3) << output;
    EXPECT_THAT(output, HasSubstr("source.dsn is not a valid libpq"));
    ExpectNoSecret(output, "check");
    EXPECT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "accounts"},
                       &output),
              2)
        << output;
    EXPECT_THAT(output, HasSubstr("source.dsn is not a valid libpq"));
    ExpectNoSecret(output, "snapshot");
  }
  unsetenv("PGCDC_TEST_DSN");
}

// A Kafka property librdkafka refuses is named, never its value: neither
// when librdkafka has no such property (a misspelt sasl.password) nor when
// it refuses the value, where librdkafka's own message quotes it.
TEST_F(SecurityTest, KafkaPropertyErrorsNeverQuoteTheValue) {
  Sql("CREATE TABLE accounts (id int PRIMARY KEY, v text)");
  setenv("PGCDC_TEST_PASSWORD", kSentinel, 1);
  for (const std::string property : {"sasl.pasword", "compression.type"}) {
    std::string config = WriteConfig(
        {"public.accounts"}, absl::StrCat("  properties:\n    ", property,
                                          ": ${PGCDC_TEST_PASSWORD}\n"));
    std::string output;
    EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 2) << output;
    EXPECT_THAT(output, HasSubstr("Kafka property " + property));
    ExpectNoSecret(output, "run");
    EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 3) << output;
    EXPECT_THAT(output, HasSubstr("Kafka property " + property));
    ExpectNoSecret(output, "check");
  }
  unsetenv("PGCDC_TEST_PASSWORD");
  EXPECT_TRUE(Rows("SELECT 1 FROM pg_replication_slots").empty());
}

// Text from the WAL is escaped when logged: a snapshot signal whose request
// id carries a newline, an ANSI escape and a C1 control (CSI) can neither
// forge a log line nor reach the terminal as codes.
TEST_F(SecurityTest, TextFromTheWalCannotForgeLogLines) {
  Sql("CREATE TABLE t (id int PRIMARY KEY)");
  Sql("CREATE EXTENSION IF NOT EXISTS pgcrypto");
  // A request sealed with the configured secret (whoever holds it may
  // still write text that ends up in the log), for a table not captured.
  Subprocess p = StartPgcdc(WriteConfig(
      {"public.t"}, "", "signals:\n  secret: \"sixteen bytes at least\"\n"));
  Sql(absl::StrCat(
      "SELECT pg_logical_emit_message(true, 'pgcdc.snapshot', "
      "encode(hmac(j, 'sixteen bytes at least', 'sha256'), 'hex') || ' ' || j) "
      "FROM (SELECT format('{\"slot\": \"",
      slot_,
      "\", \"xid\": %s, \"request\": {\"id\": \"r\\n2026-01-01T00:00:00.000Z "
      "ERROR FORGED \\u001b[2J \\u009b2J\", \"tables\": [\"public.nope\"]}}', "
      "txid_current() % 4294967296) AS j) q"));
  ASSERT_TRUE(WaitForLog(p, "not a table this pgcdc captures", 30000))
      << p.ReadLog();
  StopPgcdc(p);
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr("r\\n2026-01-01T00:00:00.000Z ERROR FORGED "
                             "\\x1b[2J \\u009b2J"));
  EXPECT_THAT(log, Not(HasSubstr("\n2026-01-01T00:00:00.000Z")));
  EXPECT_THAT(log, Not(HasSubstr("\x1b")));
  EXPECT_THAT(log, Not(HasSubstr("\xc2\x9b")));
}

// How many events of `op` are in `events`.
size_t CountOp(const std::vector<ReadEvent>& events, v1::Op op) {
  size_t n = 0;
  for (const ReadEvent& e : events) n += e.event.op() == op ? 1 : 0;
  return n;
}

class LeastPrivilegesTest : public SecurityTest {
 protected:
  // Tables as a service owns them: owned by a role that is not pgcdc's, one
  // of them in a schema of its own; a role `cdc` for pgcdc with LOGIN and
  // REPLICATION and nothing else yet; a role `nobody` that may log in and
  // nothing more; and pg_logical_emit_message no longer executable by
  // PUBLIC when `revoke_emit` (docs/operations.md, "Security").
  void SetUpRoles(bool revoke_emit) {
    Sql("CREATE ROLE app_owner NOLOGIN");
    Sql("CREATE SCHEMA sales");
    Sql("CREATE TABLE accounts (id int PRIMARY KEY, v text)");
    Sql("CREATE TABLE sales.orders (id int PRIMARY KEY, account int)");
    Sql("ALTER TABLE accounts OWNER TO app_owner");
    Sql("ALTER TABLE sales.orders OWNER TO app_owner");
    Sql("ALTER SCHEMA sales OWNER TO app_owner");
    Sql("INSERT INTO accounts VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    Sql("INSERT INTO sales.orders VALUES (10, 1), (11, 2)");
    Sql("CREATE ROLE cdc LOGIN REPLICATION");
    Sql("CREATE ROLE nobody LOGIN");
    if (revoke_emit) {
      Sql(absl::StrCat("REVOKE EXECUTE ON FUNCTION ", Emit().text, ", ",
                       Emit().bytea, " FROM PUBLIC"));
    }
  }

  // The rights docs/operations.md's "Least privileges" lists for a role whose
  // publication the tables' owner made.
  void GrantLeastPrivileges() {
    Sql("GRANT USAGE ON SCHEMA sales TO cdc");
    Sql("GRANT SELECT ON accounts, sales.orders TO cdc");
    Sql(absl::StrCat("GRANT EXECUTE ON FUNCTION ", Emit().text, " TO cdc"));
  }

  std::string DsnAs(const std::string& user) {
    std::string dsn = cluster_->Dsn(db_);
    dsn.replace(dsn.find("user=postgres"), 13, "user=" + user);
    return dsn;
  }

  // A config for accounts and sales.orders as `cdc`, heartbeats every
  // 200 ms, `outbox` messages published; `more` appended under source:.
  std::string CdcConfig(const std::string& more = "") {
    std::string config = WriteConfig({"public.accounts", "sales.orders"}, "",
                                     "messages:\n  prefixes: [outbox]\n");
    EditConfig(config, "user=postgres", "user=cdc");
    EditConfig(config, "  status_interval_ms: 1000\n",
               absl::StrCat("  status_interval_ms: 1000\n"
                            "  heartbeat_interval_ms: 200\n",
                            more));
    return config;
  }

  absl::Status EmitAs(const std::string& user, const std::string& content) {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(DsnAs(user));
    if (!conn.ok()) return conn.status();
    return (*conn)
        ->Query("SELECT pg_logical_emit_message(true, 'outbox', $1)", {content})
        .status();
  }

  size_t Slots() { return Rows("SELECT 1 FROM pg_replication_slots").size(); }
};

// A role with exactly the rights docs/operations.md's "Least privileges" lists
// — LOGIN, REPLICATION, USAGE on the schema and SELECT on the tables, EXECUTE
// on pg_logical_emit_message(boolean, text, text) — and a publication the
// tables' owner made: `pgcdc check` passes, `run` publishes the rows already
// there, streams, writes heartbeats and serves an incremental snapshot. Along
// the way, what the threat model says: a role that may only log in puts a
// MESSAGE event on the topic while PUBLIC may execute pg_logical_emit_message,
// and cannot once it is revoked.
TEST_F(LeastPrivilegesTest, RoleWithTheListedRightsStreamsSnapshotsAndChecks) {
  ASSERT_NO_FATAL_FAILURE(SetUpRoles(/*revoke_emit=*/false));
  ASSERT_NO_FATAL_FAILURE(GrantLeastPrivileges());
  Sql("CREATE PUBLICATION pgcdc_pub FOR TABLE accounts, sales.orders");
  std::vector<pg::SqlRow> role = Rows(
      "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, "
      "rolreplication, has_database_privilege('cdc', current_database(), "
      "'CREATE'), pg_has_role('cdc', 'app_owner', 'USAGE') "
      "FROM pg_roles WHERE rolname = 'cdc'");
  ASSERT_EQ(role.size(), 1u);
  EXPECT_EQ(role[0], (pg::SqlRow{"f", "f", "f", "f", "t", "f", "f"}));

  std::string config = CdcConfig();
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  EXPECT_THAT(output,
              HasSubstr("role \"cdc\" has the rights this configuration "
                        "needs"));
  EXPECT_THAT(output, HasSubstr("all checks passed"));
  // PUBLIC may still write into the WAL: said, with the REVOKE.
  EXPECT_THAT(output, HasSubstr("PUBLIC may execute pg_logical_emit_message"));

  Subprocess p = StartPgcdc(config);  // after the initial snapshot
  // Any role that may log in writes into the WAL...
  ASSERT_TRUE(EmitAs("nobody", "forged by nobody").ok());
  // ...until EXECUTE is revoked from PUBLIC; pgcdc's own grant stays.
  Sql(absl::StrCat("REVOKE EXECUTE ON FUNCTION ", Emit().text, ", ",
                   Emit().bytea, " FROM PUBLIC"));
  absl::Status refused = EmitAs("nobody", "forged again");
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("permission denied for function "
                                           "pg_logical_emit_message"));

  Sql("INSERT INTO accounts VALUES (4, 'd')");
  Sql("UPDATE sales.orders SET account = 3 WHERE id = 10");
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table",
                      "public.accounts", "--id", "least"},
                     &output),
            0)
      << output;
  ASSERT_TRUE(WaitForLog(p, "snapshot \"least\": public.accounts read", 60000))
      << p.ReadLog();
  // Heartbeats every 200 ms: a few of them after the REVOKE.
  const size_t before = CountOccurrences(p.ReadLog(), "heartbeat failed");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_EQ(before, 0u);
  EXPECT_THAT(p.ReadLog(), Not(HasSubstr("heartbeat failed")));
  // No warning but the one about PUBLIC, at start (before the REVOKE).
  EXPECT_EQ(CountOccurrences(p.ReadLog(), "WARN"), 1u) << p.ReadLog();
  EXPECT_THAT(p.ReadLog(), HasSubstr("WARN PUBLIC may execute"));

  std::vector<ReadEvent> accounts = ReadTopic("public.accounts");
  EXPECT_EQ(CountOp(accounts, v1::READ), 3u + 4u);  // initial + incremental
  EXPECT_EQ(CountOp(accounts, v1::CREATE), 1u);
  std::vector<ReadEvent> orders = ReadTopic("sales.orders");
  EXPECT_EQ(CountOp(orders, v1::READ), 2u);
  EXPECT_EQ(CountOp(orders, v1::UPDATE), 1u);
  absl::StatusOr<std::vector<ReadEvent>> messages =
      ReadAll(broker_->bootstrap_servers(), "test.messages");
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].event.message().content(), "forged by nobody");
}

// Each right docs/operations.md's "Least privileges" lists, missing: `check`
// and `run` exit 3 with a message naming it and the GRANT (or the statement to
// run as the owner) that fixes it, and make nothing: no publication, no slot,
// no message in the WAL.
TEST_F(LeastPrivilegesTest, MissingRightIsNamedAndNothingIsMade) {
  ASSERT_NO_FATAL_FAILURE(SetUpRoles(/*revoke_emit=*/true));
  Sql("CREATE EXTENSION pg_walinspect");
  Sql("CREATE TABLE wal_mark (x int)");
  // Logical decoding messages written since `from` (pg_walinspect).
  auto messages_since = [&](Lsn from) {
    Sql("INSERT INTO wal_mark VALUES (1)");  // a record past `from`
    std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
        "SELECT count(*) FROM pg_get_wal_records_info('", FormatLsn(from),
        "', pg_current_wal_flush_lsn()) "
        "WHERE resource_manager = 'LogicalMessage'"));
    return rows.empty() ? std::string("?") : rows[0][0].value_or("?");
  };
  std::string config = CdcConfig();
  size_t slots = 0;
  // Runs check and run; both must exit 3 saying every one of `expected`.
  auto refused = [&](const std::vector<std::string>& expected) {
    for (const char* command : {"check", "run"}) {
      std::string output;
      EXPECT_EQ(RunPgcdc({command, "--config", config}, &output), 3)
          << command << ": " << output;
      for (const std::string& e : expected) {
        EXPECT_THAT(output, HasSubstr(e)) << command;
      }
    }
    EXPECT_EQ(Slots(), slots);
  };
  const Lsn start = WalLsn();

  Sql("ALTER ROLE cdc NOREPLICATION");
  refused({"role \"cdc\" may not use replication",
           "ALTER ROLE cdc WITH REPLICATION"});
  Sql("ALTER ROLE cdc REPLICATION");

  // The publication made by the tables' owner; the role cannot read them
  // nor write messages.
  Sql("CREATE PUBLICATION pgcdc_pub FOR TABLE accounts, sales.orders");
  refused(
      {"role \"cdc\" lacks SELECT on public.accounts, USAGE on schema "
       "sales, SELECT on sales.orders (snapshots read the tables); "
       "EXECUTE on function " +
           Emit().text +
           " (the snapshot journal, incremental snapshots and heartbeats "
           "write logical decoding messages)",
       "GRANT USAGE ON SCHEMA \"sales\" TO \"cdc\"",
       "GRANT SELECT ON \"public\".\"accounts\" TO \"cdc\"",
       "GRANT EXECUTE ON FUNCTION " + Emit().text + " TO \"cdc\""});
  Sql(absl::StrCat("GRANT EXECUTE ON FUNCTION ", Emit().text, " TO cdc"));
  refused(
      {"role \"cdc\" lacks SELECT on public.accounts, USAGE on schema "
       "sales, SELECT on sales.orders (snapshots read the tables). Grant"});
  Sql("GRANT USAGE ON SCHEMA sales TO cdc");
  Sql("GRANT SELECT ON accounts TO cdc");
  refused(
      {"role \"cdc\" lacks SELECT on sales.orders (snapshots read the "
       "tables). Grant them: GRANT SELECT ON \"sales\".\"orders\" TO "
       "\"cdc\""});
  Sql("GRANT SELECT ON sales.orders TO cdc");

  // A publication that does not exist, and the role may not make it.
  EditConfig(config, "publication: pgcdc_pub", "publication: pgcdc_new");
  refused(
      {"publication \"pgcdc_new\" does not exist and role \"cdc\" cannot "
       "create it",
       "lacks CREATE on the database and ownership of public.accounts, "
       "sales.orders",
       "CREATE PUBLICATION \"pgcdc_new\" FOR TABLE "
       "\"public\".\"accounts\", \"sales\".\"orders\""});
  Sql(absl::StrCat("GRANT CREATE ON DATABASE ", db_, " TO cdc"));
  refused({"lacks ownership of public.accounts, sales.orders"});
  EXPECT_TRUE(
      Rows("SELECT 1 FROM pg_publication WHERE pubname = 'pgcdc_new'").empty());
  EXPECT_EQ(messages_since(start), "0");
  Sql(absl::StrCat("REVOKE CREATE ON DATABASE ", db_, " FROM cdc"));
  EditConfig(config, "publication: pgcdc_new", "publication: pgcdc_pub");

  // With every right listed: a slot, its snapshot, the stream.
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  Subprocess p = StartPgcdc(config);
  StopPgcdc(p);
  slots = 1;

  // A table added to source.tables: the role cannot add it to the
  // publication, and says so before it asks the WAL for the table's
  // snapshot.
  Sql("CREATE TABLE later (id int PRIMARY KEY)");
  Sql("ALTER TABLE later OWNER TO app_owner");
  Sql("GRANT SELECT ON later TO cdc");
  EditConfig(config, "tables: \\[", "tables: [public.later, ");
  const Lsn before_adding = WalLsn();
  refused(
      {"publication \"pgcdc_pub\" lacks public.later and this role "
       "cannot add them",
       "does not own publication \"pgcdc_pub\", public.later",
       "ALTER PUBLICATION \"pgcdc_pub\" ADD TABLE "
       "\"public\".\"later\""});
  EXPECT_TRUE(
      Rows("SELECT 1 FROM pg_publication_tables WHERE tablename = 'later'")
          .empty());
  EXPECT_EQ(messages_since(before_adding), "0");
}

}  // namespace
}  // namespace cdc::testing
