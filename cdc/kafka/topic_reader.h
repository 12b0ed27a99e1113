// TopicReader: reads every partition of one topic with librdkafka's consumer
// (no consumer group membership and no commits: partitions are assigned
// directly), for `pgcdc tail` and for the tests, which read back what pgcdc
// wrote.
//
// Owns its librdkafka consumer handle. Thread-compatible: one owner.
#ifndef CDC_KAFKA_TOPIC_READER_H_
#define CDC_KAFKA_TOPIC_READER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/kafka/client_failure.h"

struct rd_kafka_s;

namespace cdc::kafka {

struct ConsumedMessage {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;  // nullopt: null key
  std::string value;
  bool null_value = false;  // a tombstone (`value` is then empty)
  // In the record's order; a header with a null value reads as "".
  std::vector<std::pair<std::string, std::string>> headers;
};

class TopicReader {
 public:
  // Waits (up to metadata_timeout_ms) for the topic to exist, then assigns
  // all its partitions, from the beginning or from the end. kNotFound when
  // the cluster answered but never knew the topic; kDeadlineExceeded when no
  // answer came at all; kInvalidArgument for a bad bootstrap list or topic.
  // kUnauthenticated as soon as a broker refuses the SASL credentials or the
  // TLS handshake fails (client_failure.h). The reader never creates the
  // topic. `properties` are librdkafka consumer properties (security.protocol,
  // sasl.*, ssl.*, ...), applied over the reader's own.
  static absl::StatusOr<std::unique_ptr<TopicReader>> Open(
      const std::string& bootstrap_servers, const std::string& topic,
      bool from_beginning, int metadata_timeout_ms = 10000,
      const std::map<std::string, std::string>& properties = {});
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // The next message, or nullopt when none came within timeout_ms.
  // Consumer errors other than end-of-partition are kUnavailable; most are
  // transient (librdkafka keeps reconnecting), so a caller may go on. A
  // refused login or TLS handshake is kUnauthenticated.
  absl::StatusOr<std::optional<ConsumedMessage>> Next(int timeout_ms);
  // True once every partition has been read to its end (at the time the end
  // was reached; later messages clear it again).
  bool AtEnd() const;
  // Reads every message up to the high watermarks the broker reports when
  // it is called, and until every partition has signalled its end.
  // kDeadlineExceeded when nothing arrives for idle_ms before that.
  //
  // Why watermarks and not end-of-partition events alone: under load the
  // consumer has been seen to signal the end of a partition before fetching
  // records the broker had already acknowledged, which made a read-back miss
  // them.
  absl::StatusOr<std::vector<ConsumedMessage>> ReadToEnd(int idle_ms = 2000);

  // Each partition's [low, high) offsets as the broker reports them now:
  // high counts every record ever appended, low the first one retention
  // kept. kUnavailable when the broker does not answer.
  struct Watermarks {
    int64_t low = 0;
    int64_t high = 0;
  };
  absl::StatusOr<std::vector<Watermarks>> QueryWatermarks(int timeout_ms);

  int partition_count() const { return static_cast<int>(at_end_.size()); }

 private:
  TopicReader() = default;
  // One consumer event: a message, or nullopt for an end-of-partition event
  // or for nothing within timeout_ms (`*got_event` tells which).
  absl::StatusOr<std::optional<ConsumedMessage>> PollOnce(int timeout_ms,
                                                          bool* got_event);

  rd_kafka_s* rk_ = nullptr;
  std::string topic_;
  ClientIdentity identity_;
  // The first connect failure (client_failure.h), kept by OnError, which
  // rd_kafka_consumer_poll calls on the owner's thread.
  absl::Status connect_failure_;
  static void OnError(rd_kafka_s* rk, int err, const char* reason,
                      void* opaque);
  std::vector<bool> at_end_;
  // Per partition: the offset after the last message returned (for a reader
  // opened at the end, the high watermark when it was opened).
  std::vector<int64_t> next_offset_;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_TOPIC_READER_H_
