// Producer: the one place pgcdc writes to Kafka (librdkafka, C API).
//
// Configured for at-least-once without reordering: acks=all and the
// idempotent producer, on top of which the caller's properties are applied
// (a property that would weaken either is refused). Delivery reports are
// delivered to the callback from Poll()/Flush() on the calling thread, so a
// single-threaded owner needs no locks.
//
// Owns its librdkafka handle. Destroying the Producer does not wait for
// messages in flight: they are purged (never reported) so that shutdown stays
// bounded; call Flush() first to keep them.
//
// Thread-compatible: one owner calls Produce, Poll and Flush.
#ifndef CDC_KAFKA_PRODUCER_H_
#define CDC_KAFKA_PRODUCER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "cdc/kafka/broker_outage.h"
#include "cdc/kafka/client_failure.h"
#include "cdc/kafka/producer_stats.h"

struct rd_kafka_conf_s;
struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_message_s;
struct rd_kafka_queue_s;

namespace cdc::kafka {

// One record header, borrowed for a Produce call.
struct HeaderView {
  std::string_view name;
  std::string_view value;
};

struct DeliveryReport {
  uint64_t opaque = 0;  // what the caller passed to Produce
  size_t bytes = 0;     // key + value size, as passed to Produce
  // OK when the broker acknowledged. Otherwise the code tells what kind of
  // failure it was: kUnavailable (broker/transport trouble that outlasted the
  // retries), kInvalidArgument (the record was rejected: too large,
  // invalid), kPermissionDenied / kUnauthenticated, kDeadlineExceeded
  // (message.timeout.ms passed), kNotFound (unknown topic/partition),
  // kCancelled (purged), kInternal (anything else, including a fatal
  // idempotence error: see FatalError()).
  absl::Status status;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

class Producer {
 public:
  using DeliveryCallback = std::function<void(const DeliveryReport&)>;

  // kInvalidArgument for a bad or weakening property (naming it).
  static absl::StatusOr<std::unique_ptr<Producer>> Create(
      const std::string& bootstrap_servers,
      const std::map<std::string, std::string>& properties,
      DeliveryCallback on_delivery);
  ~Producer();
  Producer(const Producer&) = delete;

  // Asks the cluster for its metadata: the number of brokers it lists;
  // kUnauthenticated as soon as a broker refuses the client's SASL
  // credentials or its TLS handshake fails (see client_failure.h), or
  // kUnavailable when none answers within timeout_ms.
  absl::StatusOr<int> CountBrokers(int timeout_ms);
  Producer& operator=(const Producer&) = delete;

  // Enqueues one record (copied). kResourceExhausted when librdkafka's local
  // queue is full (poll and retry); kOutOfRange, recognised by
  // IsRecordTooLarge (kafka_error.h), when the record is larger than
  // message.max.bytes (nothing was sent); other errors as their codes, each
  // with librdkafka's error code as a payload (KafkaErrorOf).
  // `value` nullopt is a null value (a tombstone), not an empty one;
  // `headers` are added in order.
  absl::Status Produce(const std::string& topic,
                       const std::optional<std::string>& key,
                       std::optional<std::string_view> value, uint64_t opaque,
                       absl::Span<const HeaderView> headers = {});
  // Serves delivery reports, waiting up to timeout_ms for the first.
  void Poll(int timeout_ms);
  // Becomes readable when delivery reports are waiting to be served, so an
  // owner can wait for them and for its own input in one poll(); Poll()
  // clears it. -1 if it could not be made (then poll periodically).
  int WakeFd() const { return wake_read_fd_; }
  // Waits up to timeout_ms for everything in flight; kDeadlineExceeded when
  // some is still unacknowledged.
  absl::Status Flush(int timeout_ms);
  // Messages produced but not yet reported.
  int OutstandingMessages() const;
  // False from librdkafka's "all brokers down" until the next
  // acknowledgement (BrokerOutage).
  bool KafkaReachable() const { return outage_.reachable(); }
  // OK, or the fatal error that made this producer unusable (the idempotent
  // producer raises one when it can no longer guarantee order and no
  // duplicates, e.g. on a sequence gap). Once set it stays set: every
  // outstanding and later message fails, so the owner must recreate the
  // producer and resend from its last acknowledged position.
  absl::Status FatalError() const;
  // Called with the retries librdkafka made since the last call (requests
  // and messages sent again: producer_stats.h), from its statistics (every
  // statistics.interval.ms, 10 s unless the properties say otherwise; 0 turns
  // them off), on the thread that polls.
  void SetRetriesCallback(std::function<void(uint64_t)> on_retries) {
    on_retries_ = std::move(on_retries);
  }
  // The librdkafka handle, for admin requests on the same connections and
  // credentials (TopicAdmin). Owned by the Producer.
  rd_kafka_s* client() const { return rk_; }

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* msg,
                         void* opaque);
  // librdkafka's error callback, served by rd_kafka_poll on the owner's
  // thread: logs the error (connection errors through outage_) and keeps the
  // first connect failure.
  static void OnError(rd_kafka_s* rk, int err, const char* reason,
                      void* opaque);
  rd_kafka_topic_s* TopicHandle(const std::string& topic);
  // librdkafka's statistics callback (producer_stats.h), served by
  // rd_kafka_poll on the owner's thread.
  static int OnStats(rd_kafka_s* rk, char* json, size_t json_len, void* opaque);

  rd_kafka_s* rk_ = nullptr;
  rd_kafka_queue_s* main_queue_ = nullptr;  // with the wake-up fd
  int wake_read_fd_ = -1;
  int wake_write_fd_ = -1;
  DeliveryCallback on_delivery_;
  std::function<void(uint64_t)> on_retries_;
  RetryDelta retries_;
  ClientIdentity identity_;
  absl::Status connect_failure_;  // the first; see client_failure.h
  BrokerOutage outage_;           // fed by OnError and OnDelivery
  // rd_kafka_producev(RD_KAFKA_V_TOPIC) looks the topic up by name under a
  // lock on every call; a pgcdc producer writes to a few topics, so the
  // handles are kept for its lifetime.
  std::unordered_map<std::string, rd_kafka_topic_s*> topics_;
  // The last topic produced to and its handle: records come in runs of one
  // topic, so most find theirs by one string compare, not a hash lookup.
  std::string last_topic_;
  rd_kafka_topic_s* last_rkt_ = nullptr;
};

// Sends the log lines of the librdkafka client configured by `conf` to
// cdc::Log, so that they share pgcdc's one stderr format, instead of
// librdkafka's own printer. Used for every rd_kafka_t in cdc/kafka.
void RouteLibrdkafkaLogs(rd_kafka_conf_s* conf);

// For a client's librdkafka error callback: logs the error and returns the
// connect failure it is (client_failure.h), or OK. With `outage`, the
// connection errors (transport, all brokers down, name resolution, requests
// timed out) go to it and only the lines it returns are logged; but when
// `refused` (a login or TLS handshake was refused before), they are logged
// as they come, since the refusal is their cause and an outage summary
// would mislead.
absl::Status LogClientError(rd_kafka_s* rk, int err, const char* reason,
                            const ClientIdentity& who,
                            BrokerOutage* outage = nullptr,
                            bool refused = false);

// Sets one librdkafka property on `conf`. A refusal is kInvalidArgument
// naming the property and what is wrong, never the value, which may be a
// secret (sasl.password, ssl.key.password, ...): librdkafka's own text for a
// bad value quotes it (`Invalid value "..." for configuration property`), so
// pgcdc words the reason itself from librdkafka's result code. Used for every
// property set in cdc/kafka.
absl::Status SetLibrdkafkaProperty(rd_kafka_conf_s* conf,
                                   const std::string& name,
                                   const std::string& value);

// The version of the librdkafka pgcdc loaded at run time ("2.8.0"): the one
// its RPATH names unless LD_LIBRARY_PATH or the loader's cache says otherwise,
// so it is read from the library, not from the headers built against.
std::string ClientVersion();

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_PRODUCER_H_
