// The configuration examples we ship must parse: they are documentation.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "cdc/config/config.h"
#include "gtest/gtest.h"

namespace cdc::config {
namespace {

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(PGCDC_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first ```yaml block after `heading` in the file at `relative`; empty
// when either is missing.
std::string YamlBlockAfter(const std::string& relative,
                           const std::string& heading) {
  const std::string text = ReadSource(relative);
  const size_t section = text.find(heading);
  if (section == std::string::npos) return "";
  size_t start = text.find("```yaml\n", section);
  if (start == std::string::npos) return "";
  start += 8;
  return text.substr(start, text.find("```", start) - start);
}

// Every ${VAR} is "secret-VAR", except CREDENTIALS_DIRECTORY (where
// ${credential:NAME} finds its files), which is the real one.
bool FakeEnv(std::string_view name, std::string* value) {
  if (name == "CREDENTIALS_DIRECTORY") {
    const char* real = std::getenv("CREDENTIALS_DIRECTORY");
    if (real == nullptr) return false;
    *value = real;
    return true;
  }
  *value = "secret-" + std::string(name);
  return true;
}

// The deploy example reads its password as systemd's LoadCredential hands
// it over: ${credential:pg-password} is the file pg-password in
// $CREDENTIALS_DIRECTORY. This needs the ${credential:NAME} syntax in
// cdc/config (issue 14, the secrets change).
TEST(ExampleConfigTest, DeployExampleParses) {
  std::string yaml = ReadSource("deploy/pgcdc.example.yaml");
  ASSERT_FALSE(yaml.empty());
  char dir[] = "/tmp/pgcdc-credentials-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string password_file = std::string(dir) + "/pg-password";
  std::ofstream(password_file) << "pw-from-credential-file";
  const char* previous = std::getenv("CREDENTIALS_DIRECTORY");
  const std::string saved = previous != nullptr ? previous : "";
  ::setenv("CREDENTIALS_DIRECTORY", dir, 1);
  absl::StatusOr<Config> config =
      ParseConfig(yaml, "deploy/pgcdc.example.yaml", &FakeEnv);
  if (previous != nullptr) {
    ::setenv("CREDENTIALS_DIRECTORY", saved.c_str(), 1);
  } else {
    ::unsetenv("CREDENTIALS_DIRECTORY");
  }
  std::remove(password_file.c_str());
  ::rmdir(dir);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_NE(config->source.dsn.find(" password='pw-from-credential-file' "),
            std::string::npos)
      << config->source.dsn;
  // TLS as docs/operations.md's Security section describes it and
  // tests/integration/security_test.cc runs it.
  EXPECT_NE(config->source.dsn.find(
                "sslmode=verify-full sslrootcert=/etc/pgcdc/pg-ca.crt"),
            std::string::npos)
      << config->source.dsn;
  EXPECT_EQ(config->source.tables.size(), 2u);
  EXPECT_EQ(config->kafka.properties.at("compression.type"), "lz4");
  // The metrics endpoint has no authentication: loopback only.
  EXPECT_EQ(config->metrics.listen.rfind("127.0.0.1:", 0), 0u)
      << config->metrics.listen;
}

// docs/operations.md's Security section shows the deploy example's TLS
// settings, which tests/integration/security_test.cc runs.
TEST(ExampleConfigTest, OperationsDocShowsTheDeployExamplesTls) {
  const std::string tls =
      "sslmode=verify-full sslrootcert=/etc/pgcdc/pg-ca.crt";
  std::string doc = ReadSource("docs/operations.md");
  size_t section = doc.find("\n### TLS\n");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(doc.find(tls, section), std::string::npos);
  EXPECT_NE(ReadSource("deploy/pgcdc.example.yaml").find(tls),
            std::string::npos);
}

TEST(ExampleConfigTest, ConfigurationDocExampleParses) {
  const std::string yaml =
      YamlBlockAfter("docs/configuration.md", "# Configuration\n");
  ASSERT_FALSE(yaml.empty());
  absl::StatusOr<Config> config =
      ParseConfig(yaml, "docs/configuration.md", &FakeEnv);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.topic_prefix, "app");
  EXPECT_EQ(config->metrics.listen, "127.0.0.1:9187");
  EXPECT_EQ(config->snapshot.mode, "initial");
}

// The minimal configuration of README's quick start.
TEST(ExampleConfigTest, ReadmeQuickStartExampleParses) {
  const std::string yaml = YamlBlockAfter("README.md", "## Quick start\n");
  ASSERT_FALSE(yaml.empty());
  absl::StatusOr<Config> config = ParseConfig(yaml, "README.md", &FakeEnv);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.topic_prefix, "app");
}

}  // namespace
}  // namespace cdc::config
