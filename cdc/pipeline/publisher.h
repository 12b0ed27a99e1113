// Publisher: where pgcdc's records go to Kafka. It makes the producer and
// the topic admin, makes a topic exist before its first record, produces
// each record under the coordinator's open transaction, routes a record too
// large for the producer to the dead-letter topic (or stops pgcdc with a
// message naming it), and serves the delivery reports, which it counts into
// the AckTracker. What an acknowledgement means for the confirmed position
// is the tracker's to decide (cdc/offsets/ack_tracker.h); the metrics that
// follow from it are the coordinator's (Host::AfterAcks). A failed delivery
// stops pgcdc (Host::Fail) naming the topic and the transaction's commit.
//
// The in-flight window is the coordinator's to keep (it stops reading the
// server). Here a record waits only while librdkafka's local queue is full
// or the cluster does not answer a topic request: meanwhile
// acknowledgements are served, and a fatal error or the stop flag ends the
// wait.
//
// Owns the producer and the topic admin (which runs on the producer's
// client); borrows the configuration, the tracker, the metrics, the stop
// flag and the host, which must outlive it. Not thread-safe: one owner (the
// pipeline loop), on whose thread delivery reports are served.
#ifndef CDC_PIPELINE_PUBLISHER_H_
#define CDC_PIPELINE_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "cdc/config/config.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/kafka/producer.h"
#include "cdc/kafka/topic_admin.h"
#include "cdc/metrics/metrics.h"
#include "cdc/offsets/ack_tracker.h"

namespace cdc::pipeline {

class Publisher {
 public:
  // What the publisher asks of the coordinator.
  class Host {
   public:
    virtual ~Host() = default;
    // The tracker transaction records are produced under.
    virtual offsets::TxnId open_transaction() const = 0;
    // OK, or the fatal error that stops pgcdc.
    virtual absl::Status fatal() const = 0;
    // Stops pgcdc with `status` (a fatal error).
    virtual void Fail(const absl::Status& status) = 0;
    // What follows from acknowledgements served (metrics, once per batch).
    virtual void AfterAcks() = 0;
  };

  Publisher(const config::Config* config, offsets::AckTracker* tracker,
            metrics::Metrics* metrics, const std::atomic<bool>* stop,
            Host* host);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // The producer, the brokers reached (kafka.startup_timeout_ms) and the
  // configured topics made.
  absl::Status Connect();

  // Publishes one record through the producer under the open transaction;
  // one larger than the producer's message.max.bytes goes to the
  // dead-letter topic when there is one, or stops pgcdc with a message
  // naming it.
  absl::Status ProduceRecord(const envelope::Record& record);

  // Serves delivery reports (Producer::Poll), then what follows from them
  // (Host::AfterAcks, when any were served).
  void ServeAcks(int timeout_ms);

  // Readable when delivery reports wait to be served (Producer::WakeFd).
  int wake_fd() const { return producer_->WakeFd(); }
  // Records produced and acknowledged this run.
  uint64_t events_published() const { return events_published_; }
  uint64_t events_acked() const { return events_acked_; }

 private:
  // `value` nullopt: a null value (a tombstone).
  absl::Status ProduceOne(const std::string& topic,
                          const std::optional<std::string>& key,
                          std::optional<std::string_view> value,
                          const std::vector<envelope::Header>& headers);
  absl::Status DeadLetter(const envelope::Record& record,
                          const absl::Status& refused);
  // Makes `topics` exist (kafka.topics, cdc/kafka/topic_admin.h) and logs
  // what it found or made. While the cluster does not answer it tries again,
  // serving acknowledgements in between, until the stop flag is set; at
  // start, with kafka.startup_timeout_ms, it gives up after that long.
  absl::Status EnsureTopics(const std::vector<std::string>& topics,
                            bool at_start);
  void OnDelivery(const kafka::DeliveryReport& report);
  bool stopped() const { return stop_->load(std::memory_order_relaxed); }

  // Borrowed.
  const config::Config* config_;
  offsets::AckTracker* tracker_;
  metrics::Metrics* metrics_;
  const std::atomic<bool>* stop_;
  Host* host_;

  // Owned, from Connect().
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::TopicAdmin> topics_;  // on producer_'s client

  // Counts and the reports' state.
  uint64_t events_published_ = 0;
  uint64_t events_acked_ = 0;
  bool acks_pending_ = false;     // reports served since the last AfterAcks
  bool kafka_reachable_ = true;   // as last told to metrics_->health()
  std::string last_ready_topic_;  // ProduceOne's last topic, made ready
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_PUBLISHER_H_
