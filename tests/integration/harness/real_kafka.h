// RealKafka: an Apache Kafka cluster on loopback for the tests that must run
// against the real broker, started, stopped and faulted with
// scripts/kafka.sh (the pinned Kafka version's jars from Maven, KRaft; node
// N has broker id N). A JVM takes seconds to start on two cores, so a test
// binary starts one cluster for all its tests (see RealKafkaEnvironment) and
// every test uses its own topics.
//
// Owns the cluster: the destructor stops it and removes its files.
// Thread-compatible.
#ifndef TESTS_INTEGRATION_HARNESS_REAL_KAFKA_H_
#define TESTS_INTEGRATION_HARNESS_REAL_KAFKA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace cdc::testing {

class RealKafka {
 public:
  struct Options {
    int nodes = 1;
    bool tls = false;
    bool sasl = false;
    bool auto_create = true;  // auto.create.topics.enable
    // Not empty: every request is authorized (needs sasl); this user may do
    // anything, everyone else what ACLs allow.
    std::string acl_superuser;
    // NAME=PASSWORD, each with SCRAM-SHA-256 and SCRAM-SHA-512 credentials.
    std::vector<std::string> users;
  };
  // Starts a cluster in a new directory under /tmp; fails with the script's
  // output.
  static absl::StatusOr<std::unique_ptr<RealKafka>> Start(
      const Options& options);
  ~RealKafka();  // stops the cluster
  RealKafka(const RealKafka&) = delete;
  RealKafka& operator=(const RealKafka&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  // With tls: the MISNAMED listener (a certificate for another host name).
  const std::string& misnamed_bootstrap() const { return misnamed_; }
  // With tls: the CA certificate that signed the brokers' certificates.
  std::string ca_path() const { return dir_ + "/ca.pem"; }
  const std::string& dir() const { return dir_; }
  int nodes() const { return nodes_; }

  // Node control (nodes 1..nodes()). Stop is a clean shutdown (SIGTERM; a
  // broker of a cluster hands its leaderships over first), Kill a SIGKILL;
  // both return once the process is gone. Start returns once every node
  // given accepts requests again; the nodes of a 3-node cluster that is
  // down start together, since none finishes starting without a quorum of
  // controllers.
  absl::Status StopNodes(const std::vector<int>& nodes);
  absl::Status KillNodes(const std::vector<int>& nodes);
  absl::Status StartNodes(const std::vector<int>& nodes);
  std::vector<int> AllNodes() const;
  // Sends `signo` to node N's process at once, without waiting for anything
  // (for a fault that must strike at a chosen moment; StopNodes or KillNodes
  // then waits for the process to be gone).
  absl::Status SignalNode(int node, int signo);

  // The broker id (= node) that leads `topic`'s `partition`, from the
  // cluster's metadata; kNotFound while the topic or a leader is unknown.
  absl::StatusOr<int> Leader(const std::string& topic, int partition = 0);

 private:
  RealKafka() = default;
  absl::Status Node(const std::string& action, const std::vector<int>& nodes);
  std::string dir_;
  std::string bootstrap_;
  std::string misnamed_;
  int nodes_ = 1;
};

// A gtest environment that starts one cluster with `options` for the whole
// test binary (and stops it at the end): kafka() is null until then, or
// when it failed to start (which fails the run).
class RealKafkaEnvironment : public ::testing::Environment {
 public:
  explicit RealKafkaEnvironment(RealKafka::Options options)
      : options_(std::move(options)) {}
  void SetUp() override;
  void TearDown() override;
  static RealKafka* kafka() { return kafka_; }

 private:
  const RealKafka::Options options_;
  std::unique_ptr<RealKafka> owned_;
  static RealKafka* kafka_;
};

// The script's path in the source tree.
std::string KafkaScript();

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_REAL_KAFKA_H_
