#include "cdc/pipeline/publisher.h"

#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdc/common/log.h"
#include "cdc/common/lsn.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/wall_clock.h"
#include "cdc/kafka/kafka_error.h"
#include "cdc/kafka/topic_names.h"
#include "cdc/v1/change_event.pb.h"
#include "cdc/v1/dead_letter.pb.h"

namespace cdc::pipeline {
namespace {

// The largest event a dead letter carries whole (see dead_letter.proto).
constexpr size_t kMaxDeadLetterValue = 64 * 1024;

}  // namespace

Publisher::Publisher(const config::Config* config, offsets::AckTracker* tracker,
                     metrics::Metrics* metrics, const std::atomic<bool>* stop,
                     Host* host)
    : config_(config),
      tracker_(tracker),
      metrics_(metrics),
      stop_(stop),
      host_(host) {}

Publisher::~Publisher() = default;

absl::Status Publisher::Connect() {
  CDC_ASSIGN_OR_RETURN(
      producer_,
      kafka::Producer::Create(
          config_->kafka.bootstrap_servers, config_->kafka.properties,
          [this](const kafka::DeliveryReport& r) { OnDelivery(r); }));
  producer_->SetRetriesCallback(
      [m = metrics_](uint64_t retries) { m->CountProducerRetries(retries); });
  if (config_->kafka.startup_timeout_ms > 0) {
    // A broker nobody can reach at start is most likely a wrong address:
    // said now, before a slot is made, rather than waited out forever.
    absl::StatusOr<int> brokers =
        producer_->CountBrokers(config_->kafka.startup_timeout_ms);
    if (brokers.status().code() == absl::StatusCode::kUnauthenticated) {
      // Reached, but refused: the message names the cause.
      return absl::UnauthenticatedError(
          absl::StrCat("Kafka at ", config_->kafka.bootstrap_servers, ": ",
                       brokers.status().message()));
    }
    if (!brokers.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "Kafka at ", config_->kafka.bootstrap_servers, ": ",
          brokers.status().message(),
          " (kafka.startup_timeout_ms). Check kafka.bootstrap_servers and "
          "that the brokers are up and reachable from here"));
    }
  }
  // Before the slot: a topic pgcdc may not create is an error now, not a
  // producer waiting forever for it.
  topics_ = std::make_unique<kafka::TopicAdmin>(producer_->client(),
                                                config_->kafka.topics);
  last_ready_topic_.clear();
  return EnsureTopics(kafka::TopicsOf(*config_), true);
}

absl::Status Publisher::ProduceRecord(const envelope::Record& record) {
  absl::Status s = ProduceOne(
      record.topic, record.key,
      record.null_value ? std::nullopt
                        : std::optional<std::string_view>(record.value),
      record.headers);
  if (kafka::IsRecordTooLarge(s)) s = DeadLetter(record, s);
  CDC_RETURN_IF_ERROR(s);
  ++events_published_;
  return absl::OkStatus();
}

absl::Status Publisher::EnsureTopics(const std::vector<std::string>& topics,
                                     bool at_start) {
  const int startup_ms = config_->kafka.startup_timeout_ms;
  const bool bounded = at_start && startup_ms > 0;
  const int slice_ms = bounded ? startup_ms : 30000;
  for (;;) {
    absl::StatusOr<std::vector<kafka::TopicOutcome>> outcomes =
        topics_->Ensure(topics, slice_ms);
    if (outcomes.ok()) {
      for (const kafka::TopicOutcome& o : *outcomes) {
        bool warning = false;
        const std::string line =
            kafka::DescribeOutcome(o, config_->kafka.topics, &warning);
        if (warning) {
          LogWarning(line);
        } else {
          LogInfo(line);
        }
      }
      return absl::OkStatus();
    }
    const absl::Status& s = outcomes.status();
    if (s.code() != absl::StatusCode::kUnavailable || bounded) {
      return absl::Status(
          s.code(), absl::StrCat("Kafka at ", config_->kafka.bootstrap_servers,
                                 ": ", s.message()));
    }
    LogWarning(s.message(), "; trying again");
    if (at_start) {
      if (stopped()) {
        return absl::CancelledError("stopped while waiting for Kafka");
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    ServeAcks(1000);
    CDC_RETURN_IF_ERROR(host_->fatal());
    if (stopped()) {
      return absl::CancelledError("stopped while waiting for Kafka");
    }
  }
}

absl::Status Publisher::ProduceOne(
    const std::string& topic, const std::optional<std::string>& key,
    std::optional<std::string_view> value,
    const std::vector<envelope::Header>& headers) {
  // A topic not named by the configuration: a table renamed, or one whose
  // name routes elsewhere since. Made before its first record.
  // (A topic once ready stays so: the last one is not looked up again.)
  if (topic != last_ready_topic_) {
    if (!topics_->Ready(topic)) {
      CDC_RETURN_IF_ERROR(EnsureTopics({topic}, false));
    }
    last_ready_topic_ = topic;
  }
  const offsets::TxnId txn = host_->open_transaction();
  // Views of the record's headers: few records have any.
  absl::InlinedVector<kafka::HeaderView, 2> views;
  for (const envelope::Header& h : headers) views.push_back({h.name, h.value});
  for (;;) {
    absl::Status s = producer_->Produce(topic, key, value, txn, views);
    if (s.ok()) break;
    if (s.code() != absl::StatusCode::kResourceExhausted) {
      // Worded like a failed delivery (OnDelivery): a fatal producer error
      // reaches pgcdc through whichever of the two comes first.
      return WithMessage(
          s, absl::StrCat("cannot produce to ", topic, ": ", s.message(),
                          "; nothing from that transaction on is confirmed, so "
                          "the next start sends it again"));
    }
    // librdkafka's local queue is full. The loop, which sets the in-flight
    // gauges once per batch, does not run while this waits (a broker down
    // may keep it waiting until a stop): they say now what waits.
    metrics_->SetInflight(tracker_->inflight_events(),
                          tracker_->inflight_bytes());
    ServeAcks(100);
    CDC_RETURN_IF_ERROR(host_->fatal());
    // The broker may never drain it: a stop cannot wait for that. The
    // transaction stays unconfirmed and is sent again on the next start.
    if (stopped()) {
      return absl::CancelledError("stopped while librdkafka's queue was full");
    }
  }
  // Counted once librdkafka has it: its acknowledgement can only come from
  // a later Poll on this thread.
  return tracker_->AddEvent(
      txn, (value ? value->size() : 0) + (key ? key->size() : 0));
}

absl::Status Publisher::DeadLetter(const envelope::Record& record,
                                   const absl::Status& refused) {
  // For naming it: ours to read, when it is a cdc.v1 envelope.
  v1::ChangeEvent event;
  if (config_->kafka.format == config::kFormatProtobuf) {
    (void)event.ParseFromString(record.value);
  }
  event.set_op(record.op);
  const std::string table = absl::StrCat(record.schema, ".", record.table);
  const std::string which = absl::StrCat(
      "the ", v1::Op_Name(event.op()), " event of ", table, " (commit LSN ",
      FormatLsn(event.source().commit_lsn()), ", seq ", event.source().seq(),
      ", ", record.value.size(), " bytes)");
  const std::string& dead_letter_topic = config_->kafka.dead_letter_topic;
  if (dead_letter_topic.empty()) {
    return absl::OutOfRangeError(absl::StrCat(
        which, " cannot be published: ", refused.message(),
        ". Nothing from its transaction on is confirmed. Raise "
        "kafka.properties.message.max.bytes (and the topic's "
        "max.message.bytes), or set kafka.dead_letter_topic to send such "
        "events there instead"));
  }
  v1::DeadLetter letter;
  letter.set_topic(record.topic);
  letter.set_error(std::string(refused.message()));
  *letter.mutable_source() = event.source();
  letter.set_op(event.op());
  letter.set_value_bytes(record.value.size());
  if (record.value.size() <= kMaxDeadLetterValue)
    letter.set_value(record.value);
  if (absl::Status s = ProduceOne(dead_letter_topic, record.key,
                                  letter.SerializeAsString(), {});
      !s.ok()) {
    return WithPrefix(s,
                      absl::StrCat(which, " was refused (", refused.message(),
                                   ") and the dead-letter topic too: "));
  }
  metrics_->CountDeadLetter(table);
  LogError(which, " was refused (", refused.message(),
           "): sent to the dead-letter topic ", dead_letter_topic, " instead");
  return absl::OkStatus();
}

void Publisher::OnDelivery(const kafka::DeliveryReport& report) {
  if (!report.status.ok()) {
    metrics_->CountDeliveryError();
    if (host_->fatal().ok()) {
      const Lsn commit_lsn = tracker_->CommitLsn(report.opaque);
      const absl::Status failed = absl::Status(
          report.status.code(),
          absl::StrCat("delivery to topic ", report.topic,
                       " failed for an event of the transaction committed at ",
                       FormatLsn(commit_lsn), ": ", report.status.message(),
                       "; nothing from that transaction on is confirmed, so "
                       "the next start sends it again"));
      host_->Fail(failed);
      LogError(failed.message());
    }
    return;
  }
  std::optional<int64_t> commit_us;  // of a transaction now all acknowledged
  if (absl::Status s = tracker_->Ack(report.opaque, report.bytes, &commit_us);
      !s.ok()) {
    if (host_->fatal().ok()) host_->Fail(absl::InternalError(s.message()));
    return;
  }
  ++events_acked_;
  acks_pending_ = true;  // AfterAcks once per ServeAcks, not per report
  if (commit_us.has_value()) {
    metrics_->ObserveCommitToAck((NowUnixMicros() - *commit_us) / 1e6);
  }
}

void Publisher::ServeAcks(int timeout_ms) {
  producer_->Poll(timeout_ms);
  if (producer_->KafkaReachable() != kafka_reachable_) {
    kafka_reachable_ = !kafka_reachable_;
    metrics_->health().SetKafkaReachable(kafka_reachable_);
  }
  if (acks_pending_) {
    acks_pending_ = false;
    host_->AfterAcks();
  }
}

}  // namespace cdc::pipeline
