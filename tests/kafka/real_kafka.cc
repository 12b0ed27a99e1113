#include "tests/kafka/real_kafka.h"

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cdc::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

// Runs the script with `args`, its output in DIR/script.log; "" or the
// output when it fails.
std::string RunScript(const std::string& dir, const std::string& args) {
  const std::string log = dir + "/script.log";
  const std::string command =
      absl::StrCat("bash '", KafkaScript(), "' ", args, " --dir '", dir,
                   "/cluster' >>'", log, "' 2>&1");
  if (std::system(command.c_str()) == 0) return "";
  return absl::StrCat("`", command, "` failed:\n", ReadFile(log));
}

}  // namespace

std::string KafkaScript() {
  return std::string(PGCDC_SOURCE_DIR) + "/scripts/kafka.sh";
}

absl::StatusOr<std::unique_ptr<RealKafka>> RealKafka::Start(
    const Options& options) {
  char tmpl[] = "/tmp/pgcdc-kafka-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  std::unique_ptr<RealKafka> kafka(new RealKafka());
  kafka->dir_ = std::string(tmpl) + "/cluster";
  std::string args = absl::StrCat("start --nodes ", options.nodes);
  if (options.tls) absl::StrAppend(&args, " --tls");
  if (options.sasl) absl::StrAppend(&args, " --sasl");
  if (!options.auto_create) absl::StrAppend(&args, " --no-auto-create");
  if (!options.acl_superuser.empty()) {
    absl::StrAppend(&args, " --acl '", options.acl_superuser, "'");
  }
  for (const std::string& user : options.users) {
    absl::StrAppend(&args, " --user '", user, "'");
  }
  if (std::string error = RunScript(tmpl, args); !error.empty()) {
    return absl::UnavailableError(error);
  }
  kafka->bootstrap_ = ReadFile(kafka->dir_ + "/bootstrap");
  if (options.tls) kafka->misnamed_ = ReadFile(kafka->dir_ + "/misnamed");
  return kafka;
}

RealKafka::~RealKafka() {
  if (dir_.empty()) return;
  const std::string parent = dir_.substr(0, dir_.rfind('/'));
  RunScript(parent, "stop");
  std::system(absl::StrCat("rm -rf '", parent, "'").c_str());
}

}  // namespace cdc::testing
