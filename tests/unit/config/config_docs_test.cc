// docs/configuration.md documents every key the parser accepts, and only
// those. A documented key is a table row whose first cell is the key's dotted
// path in backquotes: | `kafka.topics.partitions` | ...
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
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

// The key of a row "| `a.b_c` | ...", or "" for any other line. Scanned by
// hand: GCC 12's <regex> trips -Wmaybe-uninitialized in the sanitized build.
std::string RowKey(const std::string& line) {
  constexpr std::string_view kOpen = "| `";
  constexpr std::string_view kClose = "` |";
  if (line.compare(0, kOpen.size(), kOpen) != 0) return "";
  const size_t end = line.find(kClose, kOpen.size());
  if (end == std::string::npos || end == kOpen.size()) return "";
  const std::string key = line.substr(kOpen.size(), end - kOpen.size());
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '.') {
      return "";
    }
  }
  return key;
}

std::set<std::string> DocumentedKeys(const std::string& markdown) {
  std::set<std::string> keys;
  std::istringstream lines(markdown);
  std::string line;
  while (std::getline(lines, line)) {
    if (std::string key = RowKey(line); !key.empty()) keys.insert(key);
  }
  return keys;
}

TEST(ConfigDocsTest, OnlyTableRowsOfDottedPathsAreKeys) {
  EXPECT_EQ(RowKey("| `kafka.topics.partitions` | int | -1 |"),
            "kafka.topics.partitions");
  EXPECT_EQ(RowKey("| `source.dsn` |"), "source.dsn");
  EXPECT_EQ(RowKey("See `source.dsn` |"), "");
  EXPECT_EQ(RowKey("| `${VAR}` | x |"), "");
  EXPECT_EQ(RowKey("| `` | x |"), "");
  EXPECT_EQ(RowKey("| key | what |"), "");
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
