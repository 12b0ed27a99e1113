#include "cdc/kafka/producer.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/log.h"
#include "cdc/common/status_macros.h"
#include "cdc/kafka/kafka_error.h"

namespace cdc::kafka {
namespace {

static_assert(sizeof(void*) >= sizeof(uint64_t),
              "the caller's opaque travels as librdkafka's message pointer");

// librdkafka's own bool syntax (rdkafka_conf.c): anything else is either
// false or an error, and both leave delivery weaker than asked for.
bool IsLibrdkafkaTrue(const std::string& value) {
  const std::string v = absl::AsciiStrToLower(AsAbsl(value));
  return v == "true" || v == "t" || v == "1";
}

// The idempotent producer allows at most 5 requests in flight per broker;
// above that librdkafka would reorder on retry.
constexpr int kMaxInFlight = 5;

absl::Status CheckNotWeakening(const std::string& name,
                               const std::string& value) {
  if (name == "enable.gapless.guarantee") {
    if (!IsLibrdkafkaTrue(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property enable.gapless.guarantee=", value,
          " is refused: a record that fails for good must stop the producer, "
          "or later records of its key would overtake its replay"));
    }
  } else if (name == "enable.idempotence") {
    if (!IsLibrdkafkaTrue(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property enable.idempotence=", value,
          " is refused: pgcdc needs the idempotent producer so that retries "
          "neither duplicate nor reorder records"));
    }
  } else if (name == "acks" || name == "request.required.acks") {
    const std::string v = absl::AsciiStrToLower(AsAbsl(value));
    if (v != "all" && v != "-1") {
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property ", name, "=", value,
          " is refused: pgcdc only confirms a WAL position once every "
          "in-sync replica has the record (acks=all)"));
    }
  } else if (name == "max.in.flight" ||
             name == "max.in.flight.requests.per.connection") {
    int n = 0;
    if (!absl::SimpleAtoi(AsAbsl(value), &n) || n < 1 || n > kMaxInFlight) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property ", name, "=", value,
          " is refused: it must be an integer from 1 to ", kMaxInFlight,
          " to keep the idempotent producer's ordering"));
    }
  } else if (name == "retries" || name == "message.send.max.retries") {
    int n = 0;
    if (!absl::SimpleAtoi(AsAbsl(value), &n) || n < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property ", name, "=", value,
          " is refused: without retries a transient broker error loses "
          "records"));
    }
  }
  return absl::OkStatus();
}

absl::StatusCode CodeForError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::StatusCode::kOk;
    // Broker or network trouble that outlasted librdkafka's own retries;
    // trying again later is the remedy.
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__ISR_INSUFF:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return absl::StatusCode::kUnavailable;
    // The record itself was rejected: resending it unchanged cannot help.
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
      return absl::StatusCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return absl::StatusCode::kPermissionDenied;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return absl::StatusCode::kUnauthenticated;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
      return absl::StatusCode::kDeadlineExceeded;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
      return absl::StatusCode::kCancelled;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status FatalErrorOf(rd_kafka_t* rk) {
  char errstr[512];
  const rd_kafka_resp_err_t err =
      rd_kafka_fatal_error(rk, errstr, sizeof(errstr));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  // Internal whatever the underlying code: it is not the record's fault nor
  // transient, the producer instance is done for.
  return absl::InternalError(absl::StrCat(
      "Kafka producer fatal error: ", rd_kafka_err2name(err), ": ", errstr));
}

// The broker a librdkafka connection error names ("host:port/id: Connect
// to ... failed"), for BrokerOutage's summary; "" when it names none.
std::string_view BrokerOf(std::string_view reason) {
  const size_t colon = reason.find(": ");
  if (colon == std::string_view::npos || colon > 300) return {};
  const std::string_view head = reason.substr(0, colon);
  if (head.find('/') == std::string_view::npos ||
      head.find(' ') != std::string_view::npos) {
    return {};
  }
  return head;
}

// Called on librdkafka's threads; cdc::Log is thread-safe.
void OnLibrdkafkaLog(const rd_kafka_t* rk, int syslog_level, const char* fac,
                     const char* buf) {
  LogLevel level = LogLevel::kDebug;
  if (syslog_level <= 3) {  // LOG_ERR and worse
    level = LogLevel::kError;
  } else if (syslog_level == 4) {  // LOG_WARNING
    level = LogLevel::kWarning;
  } else if (syslog_level <= 6) {  // LOG_NOTICE, LOG_INFO
    level = LogLevel::kInfo;
  }
  // pgcdc sets enable.gapless.guarantee on purpose; librdkafka's warning that
  // it is "experimental" would otherwise greet every start.
  if (std::string_view(fac) == "CONFWARN" &&
      std::string_view(buf).find("enable.gapless.guarantee") !=
          std::string_view::npos) {
    level = LogLevel::kDebug;
  }
  // A connection failure: the error callback reports each one as well
  // (LogClientError), where a producer's are summarized (BrokerOutage).
  // So are requests timed out (REQTMOUT; the error callback's _TIMED_OUT).
  if (std::string_view(fac) == "FAIL" || std::string_view(fac) == "REQTMOUT") {
    level = LogLevel::kDebug;
  }
  // The idempotent producer's epoch bump (librdkafka's "eos" debug context,
  // which the producer turns on): after a request failed such that the
  // sequence numbers of later ones can no longer be kept, librdkafka drains
  // every partition and starts over with a new epoch. Records that were in
  // flight on other partitions when their connection dropped (possibly
  // written) are then sent again under the new epoch, which the broker
  // cannot recognise as retries: they may be written twice. That is within
  // at-least-once but worth a warning, since it is the one way a single
  // running producer writes an event twice (librdkafka issue 4953). The
  // debug line is the only sign librdkafka gives of it.
  if (std::string_view(fac) == "DRAIN" &&
      std::string_view(buf).find("epoch bump") != std::string_view::npos) {
    Log(LogLevel::kWarning,
        absl::StrCat("librdkafka ", rd_kafka_name(rk),
                     ": the idempotent producer starts a new epoch; records "
                     "that were in flight when their broker connection "
                     "failed may be written twice (at-least-once): ",
                     buf));
    return;
  }
  Log(level,
      absl::StrCat("librdkafka ", rd_kafka_name(rk), " ", fac, ": ", buf));
}

}  // namespace

void RouteLibrdkafkaLogs(rd_kafka_conf_s* conf) {
  rd_kafka_conf_set_log_cb(conf, &OnLibrdkafkaLog);
}

absl::Status LogClientError(rd_kafka_t* rk, int err, const char* reason,
                            const ClientIdentity& who, BrokerOutage* outage,
                            bool refused) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  // Requests timed out on a connection that stays up but does not answer
  // (socket.timeout.ms) are connection trouble too: librdkafka drops it.
  const bool connection = code == RD_KAFKA_RESP_ERR__TRANSPORT ||
                          code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                          code == RD_KAFKA_RESP_ERR__RESOLVE ||
                          code == RD_KAFKA_RESP_ERR__TIMED_OUT;
  const std::string line = absl::StrCat("librdkafka ", rd_kafka_name(rk), " ",
                                        rd_kafka_err2name(code), ": ", reason);
  if (outage == nullptr || !connection) {
    LogError(line);
  } else {
    const std::string told = outage->OnConnectionError(
        absl::Now(), code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        BrokerOf(reason), reason);
    // After a refused login or TLS handshake, the brokers are down because
    // of it: the refusal was logged, and "unreachable" would mislead.
    if (refused) {
      LogError(line);
    } else {
      LogDebug(line);
      if (!told.empty()) LogWarning(told);
    }
  }
  return ConnectFailure(err, reason, who);
}

absl::Status SetLibrdkafkaProperty(rd_kafka_conf_s* conf,
                                   const std::string& name,
                                   const std::string& value) {
  // librdkafka's errstr is not used: for RD_KAFKA_CONF_INVALID it quotes the
  // value (or, for plugin.library.paths, dlopen's message naming it), and
  // a plugin's interceptor may put anything in it.
  char errstr[512];
  switch (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr,
                            sizeof(errstr))) {
    case RD_KAFKA_CONF_OK:
      return absl::OkStatus();
    case RD_KAFKA_CONF_UNKNOWN:
      return absl::InvalidArgumentError(
          absl::StrCat("Kafka property ", name,
                       ": no such librdkafka configuration property (see "
                       "librdkafka's CONFIGURATION.md)"));
    case RD_KAFKA_CONF_INVALID:
      return absl::InvalidArgumentError(absl::StrCat(
          "Kafka property ", name,
          ": librdkafka refuses the value (its message is withheld: it "
          "quotes the value, which may be a secret; librdkafka's "
          "CONFIGURATION.md lists what ",
          name, " takes)"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("Kafka property ", name, ": librdkafka refuses it"));
}

std::string ClientVersion() { return rd_kafka_version_str(); }

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(
    const std::string& bootstrap_servers,
    const std::map<std::string, std::string>& properties,
    DeliveryCallback on_delivery) {
  for (const auto& [name, value] : properties) {
    CDC_RETURN_IF_ERROR(CheckNotWeakening(name, value));
  }

  std::unique_ptr<Producer> producer(new Producer());
  producer->on_delivery_ = std::move(on_delivery);
  producer->identity_ = IdentityOf(properties);

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set_all = [&]() -> absl::Status {
    // Fast defaults: pgcdc produces many small records, so batching and a
    // cheap codec matter. linger.ms is most of the commit-to-ack latency of
    // a steady stream: 2 ms (librdkafka's default is 5) measured p99 15-17
    // ms at 20,000 rows/s against 19-23 ms, at no measurable cost in CPU or
    // catch-up throughput (bench/README.md). A catch-up fills its batches
    // long before the linger runs out.
    const std::pair<const char*, const char*> kDefaults[] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "2"},
        {"batch.num.messages", "10000"},
        {"compression.type", "lz4"},
        // A record that fails for good must not leave a gap that later
        // records of the same partition fill: that would reorder a key's
        // events when the failed transaction is replayed. Gapless makes such
        // a failure fatal for the producer, so everything after it fails too.
        {"enable.gapless.guarantee", "true"},
        // A broker outage is waited out, however long: a record is retried
        // until it is acknowledged or fails for good (message too large,
        // not authorized, ...). Memory stays bounded by the pipeline's
        // in-flight window. A user who would rather fail after a while sets
        // message.timeout.ms.
        {"message.timeout.ms", "0"},
        // The idempotent producer's state changes, logged at debug level
        // but for an epoch bump (see OnLibrdkafkaLog). librdkafka writes
        // them only on errors and (re)connections.
        {"debug", "eos"},
        // 1 GiB of local buffer: the pipeline bounds what it has in flight
        // itself, so this only has to stay out of its way.
        {"queue.buffering.max.kbytes", "1048576"},
        // pgcdc_producer_retries_total comes from the statistics (OnStats).
        {"statistics.interval.ms", "10000"},
    };
    for (const auto& [name, value] : kDefaults) {
      CDC_RETURN_IF_ERROR(SetLibrdkafkaProperty(conf, name, value));
    }
    CDC_RETURN_IF_ERROR(
        SetLibrdkafkaProperty(conf, "bootstrap.servers", bootstrap_servers));
    for (const auto& [name, value] : properties) {
      CDC_RETURN_IF_ERROR(SetLibrdkafkaProperty(conf, name, value));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = set_all(); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &Producer::OnDelivery);
  rd_kafka_conf_set_error_cb(conf, &Producer::OnError);
  rd_kafka_conf_set_stats_cb(conf, &Producer::OnStats);
  RouteLibrdkafkaLogs(conf);
  rd_kafka_conf_set_opaque(conf, producer.get());

  char errstr[512];
  // On success rd_kafka_new takes ownership of conf; on failure it does not.
  producer->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (producer->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka producer: ", errstr));
  }
  // Delivery reports are served from the main queue (rd_kafka_poll); its
  // IO event writes a byte to the pipe when a report arrives on an empty,
  // or served, queue.
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
    producer->wake_read_fd_ = fds[0];
    producer->wake_write_fd_ = fds[1];
    producer->main_queue_ = rd_kafka_queue_get_main(producer->rk_);
    rd_kafka_queue_io_event_enable(producer->main_queue_, fds[1], "!", 1);
  }
  return producer;
}

Producer::~Producer() {
  if (rk_ == nullptr) return;
  // Purged messages would be reported from the next poll; there is none, and
  // the owner is going away, so nobody hears of them.
  on_delivery_ = nullptr;
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
  if (main_queue_ != nullptr) {
    rd_kafka_queue_io_event_enable(main_queue_, -1, nullptr, 0);
    rd_kafka_queue_destroy(main_queue_);
  }
  rd_kafka_destroy(rk_);
  if (wake_read_fd_ >= 0) ::close(wake_read_fd_);
  if (wake_write_fd_ >= 0) ::close(wake_write_fd_);
}

rd_kafka_topic_s* Producer::TopicHandle(const std::string& topic) {
  if (last_rkt_ != nullptr && topic == last_topic_) return last_rkt_;
  rd_kafka_topic_t* rkt;
  if (auto it = topics_.find(topic); it != topics_.end()) {
    rkt = it->second;
  } else {
    // NULL conf: the producer's default topic conf, which carries acks=all.
    rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
    if (rkt == nullptr) return nullptr;
    topics_.emplace(topic, rkt);
  }
  last_topic_ = topic;
  last_rkt_ = rkt;
  return rkt;
}

absl::Status Producer::Produce(const std::string& topic,
                               const std::optional<std::string>& key,
                               std::optional<std::string_view> value,
                               uint64_t opaque,
                               absl::Span<const HeaderView> headers) {
  rd_kafka_topic_t* rkt = TopicHandle(topic);
  if (rkt == nullptr) {
    const rd_kafka_resp_err_t err = rd_kafka_last_error();
    return KafkaError(
        err == RD_KAFKA_RESP_ERR__INVALID_ARG
            ? absl::StatusCode::kInvalidArgument
            : CodeForError(err),
        err,
        absl::StrCat("Kafka topic \"", topic, "\": ", rd_kafka_err2str(err)));
  }
  void* const msg_opaque =
      reinterpret_cast<void*>(static_cast<uintptr_t>(opaque));
  // Keys and values are optional: a null key or value (no KEY or VALUE
  // entry at all) is not the same record as an empty one.
  rd_kafka_vu_t vus[6];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_RKT;
  vus[n++].u.rkt = rkt;
  if (key.has_value()) {
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = const_cast<char*>(key->data());
    vus[n++].u.mem.size = key->size();
  }
  if (value.has_value()) {
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[n].u.mem.ptr = const_cast<char*>(value->data());
    vus[n++].u.mem.size = value->size();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i32 = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = msg_opaque;
  rd_kafka_headers_t* hdrs = nullptr;
  if (!headers.empty()) {
    hdrs = rd_kafka_headers_new(headers.size());
    for (const HeaderView& h : headers) {
      (void)rd_kafka_header_add(
          hdrs, h.name.data(), static_cast<ssize_t>(h.name.size()),
          h.value.data(), static_cast<ssize_t>(h.value.size()));
    }
    vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[n++].u.headers = hdrs;
  }
  rd_kafka_error_t* error = rd_kafka_produceva(rk_, vus, n);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (error != nullptr) {
    // A fatal error keeps its cause's code; FatalErrorOf reads the cause.
    err = rd_kafka_error_is_fatal(error) ? RD_KAFKA_RESP_ERR__FATAL
                                         : rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    // Owned by librdkafka only once the record is accepted.
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
  }
  const size_t bytes = (value ? value->size() : 0) + (key ? key->size() : 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  if (err == RD_KAFKA_RESP_ERR__FATAL) return FatalErrorOf(rk_);
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
    return KafkaError(
        absl::StatusCode::kOutOfRange, err,
        absl::StrCat("a record of ", bytes, " bytes for Kafka topic \"", topic,
                     "\": ", rd_kafka_err2str(err),
                     " (the producer's message.max.bytes)"));
  }
  return KafkaError(CodeForError(err), err,
                    absl::StrCat("producing to Kafka topic \"", topic,
                                 "\": ", rd_kafka_err2str(err)));
}

void Producer::Poll(int timeout_ms) {
  if (wake_read_fd_ >= 0) {
    // Cleared before serving: a report that arrives after the serve writes
    // again, so no wake-up is lost.
    char drain[64];
    while (::read(wake_read_fd_, drain, sizeof(drain)) > 0) {
    }
  }
  rd_kafka_poll(rk_, timeout_ms);
  if (outage_.in_outage()) {
    const std::string told = outage_.Tick(absl::Now());
    if (!told.empty()) LogWarning(told);
  }
}

absl::Status Producer::Flush(int timeout_ms) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(rk_, timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      "Kafka flush: ", rd_kafka_outq_len(rk_),
      " message(s) still unacknowledged after ", timeout_ms, " ms"));
}

int Producer::OutstandingMessages() const { return rd_kafka_outq_len(rk_); }

absl::Status Producer::FatalError() const { return FatalErrorOf(rk_); }

void Producer::OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* msg,
                          void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (self == nullptr || !self->on_delivery_) return;
  DeliveryReport report;
  report.opaque =
      static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
  report.bytes = msg->key_len + msg->len;
  report.topic = rd_kafka_topic_name(msg->rkt);
  report.partition = msg->partition;
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    report.offset = msg->offset;
    if (!self->outage_.reachable()) {
      const std::string told = self->outage_.OnAcknowledged(absl::Now());
      if (!told.empty()) LogInfo(told);
    }
  } else if (msg->err == RD_KAFKA_RESP_ERR__FATAL) {
    absl::Status fatal = FatalErrorOf(rk);
    report.status = absl::InternalError(absl::StrCat(
        "delivery to Kafka topic \"", report.topic,
        "\" failed: ", rd_kafka_err2str(msg->err), ": ", fatal.message()));
  } else {
    report.status = KafkaError(
        CodeForError(msg->err), msg->err,
        absl::StrCat("delivery to Kafka topic \"", report.topic, "\" [",
                     msg->partition, "] failed: ", rd_kafka_err2str(msg->err),
                     " (", rd_kafka_err2name(msg->err), ")"));
  }
  self->on_delivery_(report);
}

void Producer::OnError(rd_kafka_t* rk, int err, const char* reason,
                       void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  absl::Status failure =
      LogClientError(rk, err, reason, self->identity_, &self->outage_,
                     /*refused=*/!self->connect_failure_.ok());
  if (self->connect_failure_.ok()) self->connect_failure_ = failure;
}

int Producer::OnStats(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  absl::StatusOr<ProducerStats> stats =
      ParseProducerStats(std::string_view(json, json_len));
  if (!stats.ok()) {
    LogDebug(stats.status().message());
    return 0;
  }
  if (const uint64_t delta = self->retries_.Update(stats->total());
      delta > 0 && self->on_retries_) {
    self->on_retries_(delta);
  }
  // With nothing in flight no acknowledgement ends an outage: a broker
  // connection seen up does.
  if (stats->brokers_up > 0 && !self->outage_.reachable()) {
    const std::string told = self->outage_.OnBrokerUp(absl::Now());
    if (!told.empty()) LogInfo(told);
  }
  return 0;  // librdkafka frees the document
}

absl::StatusOr<int> Producer::CountBrokers(int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(timeout_ms);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  // In slices, serving librdkafka's errors in between: a refused login is
  // known within a second and is no reason to wait out the timeout. The
  // slices grow, so that a broker slow to answer is still waited for.
  int slice_ms = 500;
  while (true) {
    const int left =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - Clock::now())
                             .count());
    if (left <= 0) break;
    const rd_kafka_metadata_t* metadata = nullptr;
    err = rd_kafka_metadata(rk_, /*all_topics=*/0, nullptr, &metadata,
                            std::min(left, slice_ms));
    slice_ms = std::min(slice_ms * 2, 4000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const int brokers = metadata->broker_cnt;
      rd_kafka_metadata_destroy(metadata);
      return brokers;
    }
    // Also paces a metadata call that fails at once (no broker reachable).
    rd_kafka_poll(rk_, 50);
    if (!connect_failure_.ok()) return connect_failure_;
  }
  return absl::UnavailableError(absl::StrCat("no Kafka broker answered within ",
                                             timeout_ms,
                                             " ms: ", rd_kafka_err2str(err)));
}

}  // namespace cdc::kafka
