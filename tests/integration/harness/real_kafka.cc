#include "tests/integration/harness/real_kafka.h"

#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "librdkafka/rdkafka.h"

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
  kafka->nodes_ = options.nodes;
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

absl::Status RealKafka::Node(const std::string& action,
                             const std::vector<int>& nodes) {
  const std::string parent = dir_.substr(0, dir_.rfind('/'));
  if (std::string error = RunScript(
          parent,
          absl::StrCat("node ", action, " ", absl::StrJoin(nodes, " ")));
      !error.empty()) {
    return absl::UnavailableError(error);
  }
  return absl::OkStatus();
}

absl::Status RealKafka::StopNodes(const std::vector<int>& nodes) {
  return Node("stop", nodes);
}

absl::Status RealKafka::KillNodes(const std::vector<int>& nodes) {
  return Node("kill", nodes);
}

absl::Status RealKafka::StartNodes(const std::vector<int>& nodes) {
  return Node("start", nodes);
}

absl::Status RealKafka::SignalNode(int node, int signo) {
  int pid = 0;
  if (!absl::SimpleAtoi(ReadFile(absl::StrCat(dir_, "/node", node, "/pid")),
                        &pid) ||
      pid <= 0) {
    return absl::NotFoundError(absl::StrCat("node ", node, " is not running"));
  }
  if (::kill(pid, signo) != 0) {
    return absl::InternalError(absl::StrCat("kill node ", node, " (pid ", pid,
                                            "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::vector<int> RealKafka::AllNodes() const {
  std::vector<int> all;
  for (int n = 1; n <= nodes_; ++n) all.push_back(n);
  return all;
}

absl::StatusOr<int> RealKafka::Leader(const std::string& topic, int partition) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  // A consumer's metadata request never creates the topic.
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(errstr);
  }
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
  rd_kafka_t* rk =
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(errstr);
  }
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, /*all_topics=*/0, handle, &md, 10000);
  absl::StatusOr<int> leader = absl::NotFoundError(
      absl::StrCat("no leader known for ", topic, "[", partition, "]"));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    leader = absl::UnavailableError(
        absl::StrCat("metadata of ", topic, ": ", rd_kafka_err2str(err)));
  } else {
    for (int t = 0; t < md->topic_cnt; ++t) {
      const rd_kafka_metadata_topic_t& mt = md->topics[t];
      if (topic != mt.topic || mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      for (int p = 0; p < mt.partition_cnt; ++p) {
        if (mt.partitions[p].id == partition && mt.partitions[p].leader >= 0) {
          leader = mt.partitions[p].leader;
        }
      }
    }
  }
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(handle);
  rd_kafka_destroy(rk);
  return leader;
}

RealKafka* RealKafkaEnvironment::kafka_ = nullptr;

void RealKafkaEnvironment::SetUp() {
  absl::StatusOr<std::unique_ptr<RealKafka>> kafka = RealKafka::Start(options_);
  ASSERT_TRUE(kafka.ok()) << kafka.status();
  owned_ = *std::move(kafka);
  kafka_ = owned_.get();
}

void RealKafkaEnvironment::TearDown() {
  kafka_ = nullptr;
  owned_.reset();
}

}  // namespace cdc::testing
