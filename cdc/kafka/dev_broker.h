// DevBroker: librdkafka's mock cluster, the real Kafka protocol over TCP on
// loopback, for demos and tests. It keeps little and nothing on disk: per
// partition at most 5 MiB of stored record batches (as produced, i.e. after
// compression) and at most 100000 batches (batches, not records); past
// either, the oldest batches are dropped, which moves the partition's low
// watermark. Fixed in librdkafka 2.0.2's rdkafka_mock.c, not configurable.
//
// Topics are created on first use (a producer's metadata request; consumers
// do not auto-create) with 4 partitions, a number hard-coded in the mock
// (mcluster->defaults.partition_cnt, no property sets it); CreateTopic makes
// a topic with any other count, before first use.
//
// Owns its mock cluster and the librdkafka handle behind it; the cluster
// serves on librdkafka's own threads. Apply() injects faults (broker down
// and up, added round-trip time, failing requests); the mock() handle gives
// tests the rest of librdkafka's mock API.
//
// Thread-safety: the mock functions are thread-safe; the object is
// thread-compatible.
#ifndef CDC_KAFKA_DEV_BROKER_H_
#define CDC_KAFKA_DEV_BROKER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/kafka/broker_faults.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace cdc::kafka {

class DevBroker {
 public:
  // What the mock gives a topic it creates on first use.
  static constexpr int kAutoCreatePartitions = 4;
  // Per-partition retention of the mock (see above).
  static constexpr int64_t kRetainedBytesPerPartition = 5 * 1024 * 1024;
  static constexpr int kRetainedBatchesPerPartition = 100000;

  // Starts `brokers` mock brokers on random loopback ports. Topics are
  // auto-created on first use with `default_partitions` partitions, which
  // therefore must be kAutoCreatePartitions (kInvalidArgument otherwise: the
  // mock cannot do anything else; use CreateTopic).
  static absl::StatusOr<std::unique_ptr<DevBroker>> Start(
      int brokers = 1, int default_partitions = kAutoCreatePartitions);
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // Creates `topic` with `partitions` partitions (replication factor
  // min(3, brokers)). kAlreadyExists when it exists, including when it was
  // auto-created by an earlier use.
  absl::Status CreateTopic(const std::string& topic, int partitions);

  // Carries out a fault-injection command (see broker_faults.h).
  // kInvalidArgument for a broker id past the cluster's.
  absl::Status Apply(const BrokerFault& fault);

  // "host:port[,host:port...]"
  const std::string& bootstrap_servers() const { return bootstrap_; }
  rd_kafka_mock_cluster_s* mock() const { return mock_; }

 private:
  DevBroker() = default;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* mock_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_DEV_BROKER_H_
