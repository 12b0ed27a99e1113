// docs/configuration.md documents every key the parser accepts, and only
// those. A documented key is a table row whose first cell is the key's dotted
// path in backquotes: | `kafka.topics.partitions` | ...
#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cdc/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::config {
namespace {

constexpr char kReference[] = "docs/configuration.md";

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(PGCDC_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> DocumentedKeys(const std::string& markdown) {
  static const std::regex kRow(R"(^\| `([A-Za-z0-9_.]+)` \|)");
  std::set<std::string> keys;
  std::istringstream lines(markdown);
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, match, kRow)) keys.insert(match[1]);
  }
  return keys;
}

TEST(ConfigDocsTest, AcceptedKeysAreDottedPathsOfLeaves) {
  const std::vector<std::string> keys = AcceptedKeys();
  EXPECT_THAT(keys, testing::Contains("source.dsn"));
  EXPECT_THAT(keys, testing::Contains("kafka.topics.partitions"));
  // Free-form maps are keys themselves; sections of known keys are not.
  EXPECT_THAT(keys, testing::Contains("kafka.properties"));
  EXPECT_THAT(keys, testing::Contains("kafka.topics.configs"));
  EXPECT_THAT(keys, testing::Not(testing::Contains("kafka")));
  EXPECT_THAT(keys, testing::Not(testing::Contains("kafka.topics")));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(),
            keys.size());
}

TEST(ConfigDocsTest, EveryAcceptedKeyIsDocumentedAndNothingElse) {
  const std::string markdown = ReadSource(kReference);
  ASSERT_FALSE(markdown.empty()) << "cannot read " << kReference;
  const std::set<std::string> documented = DocumentedKeys(markdown);
  const std::vector<std::string> accepted_list = AcceptedKeys();
  const std::set<std::string> accepted(accepted_list.begin(),
                                       accepted_list.end());
  for (const std::string& key : accepted) {
    EXPECT_TRUE(documented.count(key) == 1)
        << key << " is accepted by the parser but has no row in " << kReference;
  }
  for (const std::string& key : documented) {
    EXPECT_TRUE(accepted.count(key) == 1)
        << key << " is documented in " << kReference
        << " but the parser does not accept it";
  }
}

}  // namespace
}  // namespace cdc::config
