// Producer: the one place pgcdc writes to Kafka (librdkafka, C API).
//
// Configured for at-least-once without reordering: acks=all and the
// idempotent producer, on top of which the caller's properties are applied
// (a property that would weaken either is refused). Delivery reports are
// delivered to the callback from Poll()/Flush() on the calling thread, so a
// single-threaded owner needs no locks.
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

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct rd_kafka_s;

namespace cdc::kafka {

struct DeliveryReport {
  uint64_t opaque = 0;   // what the caller passed to Produce
  size_t bytes = 0;      // key + value size, as passed to Produce
  absl::Status status;   // OK when the broker acknowledged
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

class Producer {
 public:
  using DeliveryCallback = std::function<void(const DeliveryReport&)>;

  // kInvalidArgument for a bad or weakening property.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(
      const std::string& bootstrap_servers,
      const std::map<std::string, std::string>& properties,
      DeliveryCallback on_delivery);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues one record (copied). kResourceExhausted when librdkafka's local
  // queue is full (poll and retry); other errors as their codes.
  absl::Status Produce(const std::string& topic,
                       const std::optional<std::string>& key,
                       std::string_view value, uint64_t opaque);
  // Serves delivery reports, waiting up to timeout_ms for the first.
  void Poll(int timeout_ms);
  // Waits up to timeout_ms for everything in flight; kDeadlineExceeded when
  // some is still unacknowledged.
  absl::Status Flush(int timeout_ms);
  // Messages produced but not yet reported.
  int OutstandingMessages() const;

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_s* rk, const void* msg, void* opaque);
  rd_kafka_s* rk_ = nullptr;
  DeliveryCallback on_delivery_;
};

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_PRODUCER_H_
