#include "cdc/kafka/topic_reader.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cdc/common/log.h"
#include "cdc/kafka/producer.h"  // RouteLibrdkafkaLogs, SetLibrdkafkaProperty

namespace cdc::kafka {
namespace {

using Clock = std::chrono::steady_clock;

int MillisUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// librdkafka insists on a group.id for the high-level consumer even when
// partitions are only ever assigned; a random one keeps readers from sharing
// anything on the broker.
std::string RandomGroupId() {
  std::random_device rd;
  return absl::StrFormat("pgcdc-reader-%08x%08x", rd(), rd());
}

}  // namespace

void TopicReader::OnError(rd_kafka_t* rk, int err, const char* reason,
                          void* opaque) {
  auto* self = static_cast<TopicReader*>(opaque);
  absl::Status failure = LogClientError(rk, err, reason, self->identity_);
  if (self->connect_failure_.ok()) self->connect_failure_ = failure;
}

absl::StatusOr<std::unique_ptr<TopicReader>> TopicReader::Open(
    const std::string& bootstrap_servers, const std::string& topic,
    bool from_beginning, int metadata_timeout_ms,
    const std::map<std::string, std::string>& properties) {
  if (topic.empty()) return absl::InvalidArgumentError("empty Kafka topic");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> kProperties[] = {
      {"bootstrap.servers", bootstrap_servers},
      {"group.id", RandomGroupId()},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      // Only consulted if an assigned offset turns out to be out of range
      // (the broker dropped it meanwhile): go where the caller asked for.
      {"auto.offset.reset", from_beginning ? "earliest" : "latest"},
      // An idle fetch waits this long on the broker before it can return
      // newly produced records; the default 500 ms makes `tail` feel laggy.
      {"fetch.wait.max.ms", "100"},
  };
  for (const auto& [name, value] : kProperties) {
    if (absl::Status s = SetLibrdkafkaProperty(conf, name, value); !s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  for (const auto& [name, value] : properties) {
    if (absl::Status s = SetLibrdkafkaProperty(conf, name, value); !s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  RouteLibrdkafkaLogs(conf);
  rd_kafka_conf_set_error_cb(conf, &TopicReader::OnError);
  char errstr[512];
  std::unique_ptr<TopicReader> reader(new TopicReader());
  rd_kafka_conf_set_opaque(conf, reader.get());
  reader->topic_ = topic;
  reader->identity_ = IdentityOf(properties);
  reader->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (reader->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka consumer: ", errstr));
  }
  // Errors and logs then come out of consumer_poll too, in order with the
  // messages, rather than piling up on the main queue nobody polls.
  rd_kafka_poll_set_consumer(reader->rk_);

  // Asks for all topics and looks for ours, rather than asking for ours:
  // brokers that predate Metadata v4 (librdkafka's mock cluster among them)
  // auto-create any topic named in a metadata request, consumer or not.
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(metadata_timeout_ms);
  absl::Status last = absl::DeadlineExceededError(
      absl::StrCat("no metadata for Kafka topic \"", topic, "\" from ",
                   bootstrap_servers, " within ", metadata_timeout_ms, " ms"));
  std::vector<int32_t> partitions;
  // In slices, with librdkafka's errors served in between: a refused login
  // or TLS handshake ends the wait at once. The slices grow, so that a
  // broker slow to answer is still waited for.
  int slice_ms = 500;
  while (true) {
    const struct rd_kafka_metadata* md = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(reader->rk_, /*all_topics=*/1, nullptr, &md,
                          std::clamp(MillisUntil(deadline), 1, slice_ms));
    slice_ms = std::min(slice_ms * 2, 4000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic& mt = md->topics[t];
        if (topic != mt.topic) continue;
        topic_err = mt.err;
        if (mt.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          for (int i = 0; i < mt.partition_cnt; ++i) {
            partitions.push_back(mt.partitions[i].id);
          }
        }
      }
      if (partitions.empty()) {
        last = absl::NotFoundError(
            absl::StrCat("Kafka topic \"", topic, "\" does not exist on ",
                         bootstrap_servers, " (waited ", metadata_timeout_ms,
                         " ms): ", rd_kafka_err2str(topic_err)));
      }
      rd_kafka_metadata_destroy(md);
    }
    if (!partitions.empty() || MillisUntil(deadline) == 0) break;
    // The topic may be about to be created by the producer we are reading.
    // Nothing is assigned yet, so all the consumer queue holds are errors.
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(
            reader->rk_, std::min(100, MillisUntil(deadline)))) {
      rd_kafka_message_destroy(m);
    }
    if (!reader->connect_failure_.ok()) return reader->connect_failure_;
  }
  if (partitions.empty()) return last;

  std::sort(partitions.begin(), partitions.end());
  reader->at_end_.assign(partitions.back() + 1, false);
  reader->next_offset_.assign(partitions.back() + 1, 0);
  if (!from_beginning) {
    for (int32_t p : partitions) {
      int64_t low = 0, high = 0;
      const rd_kafka_resp_err_t werr = rd_kafka_query_watermark_offsets(
          reader->rk_, topic.c_str(), p, &low, &high,
          std::max(1000, MillisUntil(deadline)));
      if (werr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(
            absl::StrCat("reading the end offset of Kafka topic \"", topic,
                         "\" [", p, "]: ", rd_kafka_err2str(werr)));
      }
      reader->next_offset_[p] = high;
    }
  }
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (int32_t p : partitions) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
        from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(reader->rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("assigning Kafka topic \"", topic,
                                            "\": ", rd_kafka_err2str(err)));
  }
  return reader;
}

TopicReader::~TopicReader() {
  // Nothing to commit and no group joined: skip consumer_close, whose
  // group leave could otherwise wait on an unreachable coordinator.
  if (rk_ != nullptr) {
    rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
}

absl::StatusOr<std::optional<ConsumedMessage>> TopicReader::PollOnce(
    int timeout_ms, bool* got_event) {
  *got_event = false;
  rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, timeout_ms);
  if (!connect_failure_.ok()) {
    if (m != nullptr) rd_kafka_message_destroy(m);
    return connect_failure_;
  }
  if (m == nullptr) return std::nullopt;
  *got_event = true;
  const int32_t p = m->partition;
  const bool known = p >= 0 && p < static_cast<int32_t>(at_end_.size());
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (known) at_end_[p] = true;
    rd_kafka_message_destroy(m);
    return std::nullopt;
  }
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    absl::Status s = absl::UnavailableError(absl::StrCat(
        "reading Kafka topic \"", topic_, "\"",
        m->rkt != nullptr ? absl::StrCat(" [", p, "]") : "", ": ",
        rd_kafka_message_errstr(m), " (", rd_kafka_err2name(m->err), ")"));
    rd_kafka_message_destroy(m);
    return s;
  }
  ConsumedMessage out;
  out.topic = rd_kafka_topic_name(m->rkt);
  out.partition = p;
  out.offset = m->offset;
  if (m->key != nullptr) {
    out.key.emplace(static_cast<const char*>(m->key), m->key_len);
  }
  if (m->payload != nullptr) {
    out.value.assign(static_cast<const char*>(m->payload), m->len);
  } else {
    out.null_value = true;
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      out.headers.emplace_back(
          name, value != nullptr
                    ? std::string(static_cast<const char*>(value), size)
                    : std::string());
    }
  }
  if (known) {
    at_end_[p] = false;
    next_offset_[p] = std::max(next_offset_[p], out.offset + 1);
  }
  rd_kafka_message_destroy(m);
  return out;
}

absl::StatusOr<std::optional<ConsumedMessage>> TopicReader::Next(
    int timeout_ms) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    bool got_event = false;
    absl::StatusOr<std::optional<ConsumedMessage>> m =
        PollOnce(MillisUntil(deadline), &got_event);
    if (!m.ok() || m->has_value() || !got_event) return m;
    // End-of-partition events are bookkeeping, not messages: keep waiting.
    if (MillisUntil(deadline) == 0) return std::nullopt;
  }
}

bool TopicReader::AtEnd() const {
  return std::all_of(at_end_.begin(), at_end_.end(), [](bool b) { return b; });
}

absl::StatusOr<std::vector<TopicReader::Watermarks>>
TopicReader::QueryWatermarks(int timeout_ms) {
  std::vector<Watermarks> out(next_offset_.size());
  for (size_t p = 0; p < out.size(); ++p) {
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        rk_, topic_.c_str(), static_cast<int32_t>(p), &out[p].low, &out[p].high,
        timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          absl::StrCat("reading the end offset of Kafka topic \"", topic_,
                       "\" [", p, "]: ", rd_kafka_err2str(err)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<ConsumedMessage>> TopicReader::ReadToEnd(
    int idle_ms) {
  absl::StatusOr<std::vector<Watermarks>> marks =
      QueryWatermarks(std::max(idle_ms, 1000));
  if (!marks.ok()) return marks.status();
  auto reached = [&] {
    for (size_t p = 0; p < marks->size(); ++p) {
      // Records below the low watermark were dropped by retention.
      if (std::max(next_offset_[p], (*marks)[p].low) < (*marks)[p].high) {
        return false;
      }
    }
    return true;
  };
  std::vector<ConsumedMessage> out;
  while (!(reached() && AtEnd())) {
    bool got_event = false;
    absl::StatusOr<std::optional<ConsumedMessage>> m =
        PollOnce(idle_ms, &got_event);
    if (!m.ok()) return m.status();
    if (!got_event) {
      if (reached()) break;  // all read; the end events are only late
      return absl::DeadlineExceededError(absl::StrCat(
          "Kafka topic \"", topic_, "\": nothing arrived for ", idle_ms,
          " ms before its end; ", out.size(), " message(s) read"));
    }
    if (m->has_value()) out.push_back(std::move(**m));
  }
  return out;
}

}  // namespace cdc::kafka
