// RealKafka: an Apache Kafka cluster on loopback for the tests that must run
// against the real broker, started and stopped with scripts/kafka.sh (the
// pinned Kafka version's jars from Maven, KRaft). A JVM takes seconds to
// start on two cores, so a test binary starts one cluster for all its tests
// (see RealKafkaEnvironment) and every test uses its own topics.
//
// Thread-compatible.
#ifndef TESTS_KAFKA_REAL_KAFKA_H_
#define TESTS_KAFKA_REAL_KAFKA_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

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

 private:
  RealKafka() = default;
  std::string dir_;
  std::string bootstrap_;
  std::string misnamed_;
};

// The script's path in the source tree.
std::string KafkaScript();

}  // namespace cdc::testing

#endif  // TESTS_KAFKA_REAL_KAFKA_H_
