// The configuration examples we ship must parse: they are documentation.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "cdc/config/config.h"

namespace cdc::config {
namespace {

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(PGCDC_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FakeEnv(std::string_view name, std::string* value) {
  *value = "secret-" + std::string(name);
  return true;
}

TEST(ExampleConfigTest, DeployExampleParses) {
  std::string yaml = ReadSource("deploy/pgcdc.example.yaml");
  ASSERT_FALSE(yaml.empty());
  absl::StatusOr<Config> config =
      ParseConfig(yaml, "deploy/pgcdc.example.yaml", &FakeEnv);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_NE(config->source.dsn.find("password='secret-PGCDC_DB_PASSWORD'"),
            std::string::npos);
  EXPECT_EQ(config->source.tables.size(), 2u);
  EXPECT_EQ(config->kafka.properties.at("compression.type"), "lz4");
}

TEST(ExampleConfigTest, ReadmeExampleParses) {
  std::string readme = ReadSource("README.md");
  // The first YAML block under "## Configuration reference".
  size_t section = readme.find("## Configuration reference");
  ASSERT_NE(section, std::string::npos);
  size_t start = readme.find("```yaml\n", section);
  ASSERT_NE(start, std::string::npos);
  start += 8;
  size_t end = readme.find("```", start);
  absl::StatusOr<Config> config =
      ParseConfig(readme.substr(start, end - start), "README.md", &FakeEnv);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.topic_prefix, "app");
  EXPECT_EQ(config->metrics.listen, "127.0.0.1:9187");
  EXPECT_EQ(config->snapshot.mode, "initial");
}

}  // namespace
}  // namespace cdc::config
