#include "cdc/config/config_summary.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/common/absl_compat.h"

namespace cdc::config {

std::string ConfigSummary(const Config& config,
                          std::string_view source_described) {
  // A list of hundreds of tables would drown the line: the first few, and
  // how many more.
  constexpr size_t kTablesNamed = 10;
  std::vector<std::string> tables;
  for (const TableName& t : config.source.tables) {
    if (tables.size() == kTablesNamed) {
      tables.push_back(absl::StrCat(
          "and ", config.source.tables.size() - kTablesNamed, " more"));
      break;
    }
    tables.push_back(t.Qualified());
  }
  // Names only: any value may be a secret (a password, a token, a key, an
  // extension carrying credentials), whatever its property is called.
  std::vector<std::string> properties;
  for (const auto& [name, value] : config.kafka.properties) {
    properties.push_back(name);
  }
  std::string line = absl::StrCat(
      "configuration: source ", AsAbsl(source_described), ", slot ",
      config.source.slot, ", publication ", config.source.publication, ", ",
      config.source.tables.size(), " table(s) (", absl::StrJoin(tables, ", "),
      "); kafka ", config.kafka.bootstrap_servers, ", format ",
      config.kafka.format, ", topic prefix ", config.kafka.topic_prefix,
      ", in-flight window ", config.kafka.max_inflight_bytes, " bytes");
  if (!properties.empty()) {
    absl::StrAppend(&line, ", properties ", absl::StrJoin(properties, " "),
                    " (values not shown)");
  }
  absl::StrAppend(&line, "; snapshot.mode ", config.snapshot.mode, "; metrics ",
                  config.metrics.listen.empty() ? "off" : config.metrics.listen,
                  "; log ", config.log.format, " at ", config.log.level);
  return line;
}

}  // namespace cdc::config
