// TopicAdmin: makes the topics pgcdc writes to exist before it writes to
// them, with Kafka's Admin API, because real clusters often refuse topic
// auto-creation (auto.create.topics.enable=false) and a producer would then
// wait for a topic nobody makes.
//
// For each topic: DescribeTopics (a metadata request that never
// auto-creates) says whether it exists. An existing topic is used as it is;
// where its partitions, replication factor or one of kafka.topics.configs
// differ from what pgcdc would have made (DescribeConfigs), that is a
// warning, not an error: topics are the operator's to shape. A missing one
// is made with CreateTopics (kafka.topics; -1 leaves partitions and the
// replication factor to the broker's defaults), unless kafka.topics.create
// is false. Creating needs the CREATE operation on the topic or the cluster
// (describing needs DESCRIBE, which WRITE implies): a refusal is
// kPermissionDenied naming the topic and the ACL. A cluster without a
// controller to send admin requests to, or without CreateTopics (both true
// of librdkafka's mock cluster behind `pgcdc dev-broker`), auto-creates
// topics as they are asked for; pgcdc relies on that and says so.
//
// The decisions (what differs, what a failure means) are pure functions
// below; TopicAdmin does the requests, on a client handle it borrows (the
// Producer's: the same connections and credentials), waiting on a queue of
// its own so that delivery reports are not touched.
//
// Thread-compatible: one owner calls Ensure.
#ifndef CDC_KAFKA_TOPIC_ADMIN_H_
#define CDC_KAFKA_TOPIC_ADMIN_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/config/config.h"

struct rd_kafka_s;

namespace cdc::kafka {

// What the cluster says of one existing topic.
struct TopicState {
  int partitions = 0;
  int replication_factor = 0;  // replicas of its first partition
  // The current values of the configs kafka.topics.configs names.
  std::map<std::string, std::string> configs;
  // false when the principal may not read them (DESCRIBE_CONFIGS): they
  // are then not compared, which is said, not an error.
  bool configs_known = true;
};

// The ways an existing topic differs from what `wanted` would have made,
// each as "6 partitions (kafka.topics.partitions: 12)". Settings left to the
// broker's defaults are not compared. Pure.
std::vector<std::string> DifferencesFrom(const config::TopicsConfig& wanted,
                                         const TopicState& state);

enum class TopicRequest { kDescribe, kCreate };

// The Status for a failed request about `topic`: `err` is librdkafka's
// rd_kafka_resp_err_t, `message` the broker's or librdkafka's text (quoted,
// never searched). Authorization failures are kPermissionDenied naming the
// ACL the client's principal lacks; a refused setting (partitions,
// replication factor, a config, a policy) kInvalidArgument; a broker that
// did not answer in time kUnavailable. Pure.
absl::Status TopicFailure(std::string_view topic, TopicRequest request, int err,
                          std::string_view message);

// What Ensure found or did for one topic.
struct TopicOutcome {
  enum class What {
    kExists,       // there already (see state, differences)
    kCreated,      // made now
    kWouldCreate,  // missing; validate_only: the broker would make it
    kMissing,      // missing, and kafka.topics.create is false
    kAutoCreated,  // the broker cannot create topics on request (no
                   // CreateTopics): it makes them as they are asked for
  };
  std::string topic;
  What what = What::kExists;
  TopicState state;                      // kExists
  std::vector<std::string> differences;  // kExists
};

// One line saying what `outcome` means, for the log and `pgcdc check`;
// `*warning` is set when it needs the operator's eye (an existing topic whose
// settings differ, a missing one pgcdc may not create). Pure.
std::string DescribeOutcome(const TopicOutcome& outcome,
                            const config::TopicsConfig& wanted, bool* warning);

class TopicAdmin {
 public:
  // Borrows `client`, which must outlive this.
  TopicAdmin(rd_kafka_s* client, config::TopicsConfig settings);
  TopicAdmin(const TopicAdmin&) = delete;
  TopicAdmin& operator=(const TopicAdmin&) = delete;

  // Whether Ensure has seen to `topic` already (made it, found it, or found
  // it missing with kafka.topics.create false).
  bool Ready(const std::string& topic) const { return ready_.contains(topic); }

  // Makes each of `topics` exist as the class comment says, each request
  // waiting at most timeout_ms. With validate_only nothing is created: the
  // broker checks that it would create the missing ones (rights, settings),
  // for `pgcdc check`. The first failure is returned (see TopicFailure);
  // topics before it stay ready.
  absl::StatusOr<std::vector<TopicOutcome>> Ensure(
      const std::vector<std::string>& topics, int timeout_ms,
      bool validate_only = false);

 private:
  // Whether the cluster's metadata names a controller among its brokers
  // (admin requests go there); kUnavailable when it names none yet.
  absl::StatusOr<bool> HasController(int timeout_ms);
  // Fills `exists` and `states` from DescribeTopics (and DescribeConfigs
  // when kafka.topics.configs names any).
  absl::Status Describe(const std::vector<std::string>& topics, int timeout_ms,
                        std::vector<bool>* exists,
                        std::vector<TopicState>* states);
  absl::Status DescribeConfigs(const std::vector<std::string>& topics,
                               int timeout_ms,
                               std::vector<TopicState*>* states);
  // Waits until every broker's metadata shows `topic`, just created, with a
  // leader for each partition. The controller answers CreateTopics before
  // the other brokers have applied the new topic: a producer that asks one
  // of them in that window sees the topic without partitions and fails its
  // queued records for good (_UNKNOWN_PARTITION). kUnavailable past
  // timeout_ms.
  absl::Status AwaitEveryBroker(const std::string& topic, int timeout_ms);
  // kCreated, kWouldCreate or kAutoCreated.
  absl::StatusOr<TopicOutcome::What> Create(const std::string& topic,
                                            int timeout_ms, bool validate_only);

  rd_kafka_s* client_;
  config::TopicsConfig settings_;
  absl::flat_hash_set<std::string> ready_;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_TOPIC_ADMIN_H_
