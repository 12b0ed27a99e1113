// DevBroker: librdkafka's mock cluster, the real Kafka protocol over TCP on
// loopback, for demos and tests. It keeps little (about 5 MB / 100k messages
// per partition, older ones dropped) and nothing on disk.
//
// Owns its mock cluster and the librdkafka handle behind it; the cluster
// serves on librdkafka's own threads. The mock() handle is for fault
// injection (rd_kafka_mock_push_request_errors, ..._broker_set_down, ...).
//
// Thread-safety: the mock functions are thread-safe; the object is
// thread-compatible.
#ifndef CDC_KAFKA_DEV_BROKER_H_
#define CDC_KAFKA_DEV_BROKER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace cdc::kafka {

class DevBroker {
 public:
  // Starts `brokers` mock brokers on random loopback ports. Topics are
  // auto-created on first use with `default_partitions` partitions.
  static absl::StatusOr<std::unique_ptr<DevBroker>> Start(
      int brokers = 1, int default_partitions = 4);
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // "host:port[,host:port...]"
  const std::string& bootstrap_servers() const { return bootstrap_; }
  rd_kafka_mock_cluster_s* mock() const { return mock_; }

 private:
  DevBroker() = default;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* mock_ = nullptr;
  std::string bootstrap_;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_DEV_BROKER_H_
