#include "cdc/kafka/topic_admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"

namespace cdc::kafka {
namespace {

// librdkafka times an admin request out itself (request_timeout) and then
// emits its result with an error; the queue is waited on a little longer so
// that its own result, not a guess, says what happened.
constexpr int kResultGraceMs = 5000;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const {
    rd_kafka_AdminOptions_destroy(o);
  }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using Options = std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter>;
struct ClientDeleter {
  void operator()(rd_kafka_t* c) const { rd_kafka_destroy(c); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const {
    rd_kafka_metadata_destroy(m);
  }
};
using Client = std::unique_ptr<rd_kafka_t, ClientDeleter>;
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// How often a broker that does not know a new topic yet is asked again.
constexpr int kPropagationPollMs = 50;

// Whether `metadata` shows `topic` with every partition led.
bool ShowsTopicLed(const rd_kafka_metadata_t& metadata,
                   const std::string& topic) {
  for (int t = 0; t < metadata.topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& mt = metadata.topics[t];
    if (topic != mt.topic) continue;
    if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR || mt.partition_cnt <= 0) {
      return false;
    }
    for (int p = 0; p < mt.partition_cnt; ++p) {
      if (mt.partitions[p].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
          mt.partitions[p].leader < 0) {
        return false;
      }
    }
    return true;
  }
  return false;
}

Options NewOptions(rd_kafka_t* client, rd_kafka_admin_op_t op, int timeout_ms) {
  Options options(rd_kafka_AdminOptions_new(client, op));
  char errstr[256];
  // Neither fails for a timeout in range, which the caller's is.
  (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms,
                                                  errstr, sizeof(errstr));
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS) {
    // The broker answers once the topic is made, so that the producer finds
    // it in the next metadata.
    (void)rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms,
                                                      errstr, sizeof(errstr));
  }
  return options;
}

// The result event on `queue`, or the request-level failure (librdkafka's
// own timeout, an unsupported request, no broker).
absl::StatusOr<Event> AwaitResult(rd_kafka_queue_t* queue,
                                  std::string_view topic, TopicRequest request,
                                  int timeout_ms) {
  Event event(rd_kafka_queue_poll(queue, timeout_ms + kResultGraceMs));
  if (event == nullptr) {
    return TopicFailure(topic, request, RD_KAFKA_RESP_ERR__TIMED_OUT,
                        "no result from librdkafka");
  }
  const rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* text = rd_kafka_event_error_string(event.get());
    return TopicFailure(topic, request, err, text != nullptr ? text : "");
  }
  return event;
}

std::string ErrorName(int err) {
  return rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err));
}

}  // namespace

std::vector<std::string> DifferencesFrom(const config::TopicsConfig& wanted,
                                         const TopicState& state) {
  std::vector<std::string> out;
  if (wanted.partitions > 0 && state.partitions != wanted.partitions) {
    out.push_back(absl::StrCat(
        state.partitions,
        " partitions (kafka.topics.partitions: ", wanted.partitions, ")"));
  }
  if (wanted.replication_factor > 0 &&
      state.replication_factor != wanted.replication_factor) {
    out.push_back(absl::StrCat(
        "replication factor ", state.replication_factor,
        " (kafka.topics.replication_factor: ", wanted.replication_factor, ")"));
  }
  if (!wanted.configs.empty() && !state.configs_known) {
    out.push_back(
        "kafka.topics.configs not compared (pgcdc's principal may not "
        "DESCRIBE_CONFIGS the topic)");
    return out;
  }
  for (const auto& [name, value] : wanted.configs) {
    auto it = state.configs.find(name);
    const std::string have = it == state.configs.end() ? "unknown" : it->second;
    if (it == state.configs.end() || it->second != value) {
      out.push_back(absl::StrCat(name, "=", have,
                                 " (kafka.topics.configs: ", value, ")"));
    }
  }
  return out;
}

absl::Status TopicFailure(std::string_view topic, TopicRequest request, int err,
                          std::string_view message) {
  const std::string cause = absl::StrCat(
      ErrorName(err), message.empty() ? "" : ": ", AsAbsl(message));
  const std::string verb =
      request == TopicRequest::kCreate ? "create" : "describe";
  switch (static_cast<rd_kafka_resp_err_t>(err)) {
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      if (request == TopicRequest::kCreate) {
        return absl::PermissionDeniedError(absl::StrCat(
            "not allowed to create topic ", AsAbsl(topic), " (", cause,
            "): pgcdc's principal needs the CREATE operation on topic ",
            AsAbsl(topic),
            " or on the cluster (an ACL such as `--allow-principal User:... "
            "--operation Create --topic ",
            AsAbsl(topic), "`), or the topic made beforehand"));
      }
      return absl::PermissionDeniedError(absl::StrCat(
          "not allowed to describe topic ", AsAbsl(topic), " (", cause,
          "): pgcdc's principal needs the WRITE operation on topic ",
          AsAbsl(topic), " (which implies DESCRIBE)"));
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return absl::InvalidArgumentError(
          absl::StrCat("Kafka refused to ", verb, " topic ", AsAbsl(topic),
                       " as kafka.topics asks (", cause, ")"));
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__SSL:
      return absl::UnauthenticatedError(
          absl::StrCat("cannot ", verb, " topic ", AsAbsl(topic), ": ", cause));
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return absl::UnavailableError(absl::StrCat(
          "Kafka did not ", verb, " topic ", AsAbsl(topic), ": ", cause));
    default:
      return absl::InternalError(
          absl::StrCat("cannot ", verb, " topic ", AsAbsl(topic), ": ", cause));
  }
}

std::string DescribeOutcome(const TopicOutcome& outcome,
                            const config::TopicsConfig& wanted, bool* warning) {
  *warning = false;
  const std::string& topic = outcome.topic;
  // What pgcdc makes a topic with.
  auto settings = [&]() {
    std::string out = wanted.partitions > 0
                          ? absl::StrCat(wanted.partitions, " partitions")
                          : std::string("the broker's default partitions");
    absl::StrAppend(
        &out, ", ",
        wanted.replication_factor > 0
            ? absl::StrCat("replication factor ", wanted.replication_factor)
            : std::string("its default replication factor"));
    for (const auto& [name, value] : wanted.configs) {
      absl::StrAppend(&out, ", ", name, "=", value);
    }
    return out;
  };
  switch (outcome.what) {
    case TopicOutcome::What::kExists:
      if (!outcome.differences.empty()) {
        *warning = true;
        return absl::StrCat(
            "topic ", topic, " exists with settings other than kafka.topics: ",
            absl::StrJoin(outcome.differences, ", "), "; it is used as it is");
      }
      if (outcome.state.partitions == 0) {
        return absl::StrCat("topic ", topic, " exists");
      }
      return absl::StrCat("topic ", topic, " exists (",
                          outcome.state.partitions,
                          " partitions, replication "
                          "factor ",
                          outcome.state.replication_factor, ")");
    case TopicOutcome::What::kCreated:
      return absl::StrCat("created topic ", topic, " (", settings(), ")");
    case TopicOutcome::What::kWouldCreate:
      return absl::StrCat("topic ", topic,
                          " does not exist: run will create it (", settings(),
                          ")");
    case TopicOutcome::What::kMissing:
      *warning = true;
      return absl::StrCat(
          "topic ", topic,
          " does not exist and kafka.topics.create is false: the broker must "
          "auto-create it, or its records fail once librdkafka's "
          "topic.metadata.propagation.max.ms has passed");
    case TopicOutcome::What::kAutoCreated:
      return absl::StrCat(
          "topic ", topic,
          ": the cluster takes no requests to create topics (no "
          "controller or no CreateTopics, like librdkafka's mock cluster); "
          "it makes them when first written to");
  }
  return topic;
}

TopicAdmin::TopicAdmin(rd_kafka_s* client, config::TopicsConfig settings)
    : client_(client), settings_(std::move(settings)) {}

absl::StatusOr<bool> TopicAdmin::HasController(int timeout_ms) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(
      client_, /*all_topics=*/0, nullptr, &metadata, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return TopicFailure("(cluster metadata)", TopicRequest::kDescribe, err,
                        rd_kafka_err2str(err));
  }
  // The metadata just fetched set the client's idea of the controller.
  const int32_t controller = rd_kafka_controllerid(client_, 0);
  bool listed = false;
  for (int b = 0; b < metadata->broker_cnt; ++b) {
    if (metadata->brokers[b].id == controller) listed = true;
  }
  rd_kafka_metadata_destroy(metadata);
  if (controller < 0) {
    return TopicFailure("(cluster metadata)", TopicRequest::kDescribe,
                        RD_KAFKA_RESP_ERR_NOT_CONTROLLER,
                        "the cluster names no controller yet");
  }
  return listed;
}

absl::StatusOr<std::vector<TopicOutcome>> TopicAdmin::Ensure(
    const std::vector<std::string>& topics, int timeout_ms,
    bool validate_only) {
  // Admin requests go to the controller. librdkafka's mock cluster names
  // broker 0, which it does not have, and has no CreateTopics: it makes
  // topics as they are asked for.
  absl::StatusOr<bool> controller = HasController(timeout_ms);
  if (!controller.ok()) return controller.status();
  if (!*controller) {
    std::vector<TopicOutcome> outcomes;
    for (const std::string& topic : topics) {
      TopicOutcome outcome;
      outcome.topic = topic;
      outcome.what = TopicOutcome::What::kAutoCreated;
      outcomes.push_back(std::move(outcome));
      if (!validate_only) ready_.insert(topic);
    }
    return outcomes;
  }
  std::vector<bool> exists;
  std::vector<TopicState> states;
  CDC_RETURN_IF_ERROR(Describe(topics, timeout_ms, &exists, &states));
  std::vector<TopicOutcome> outcomes;
  for (size_t i = 0; i < topics.size(); ++i) {
    TopicOutcome outcome;
    outcome.topic = topics[i];
    if (exists[i]) {
      outcome.what = TopicOutcome::What::kExists;
      outcome.state = std::move(states[i]);
      outcome.differences = DifferencesFrom(settings_, outcome.state);
    } else if (!settings_.create) {
      outcome.what = TopicOutcome::What::kMissing;
    } else {
      absl::StatusOr<TopicOutcome::What> what =
          Create(topics[i], timeout_ms, validate_only);
      if (!what.ok()) return what.status();
      outcome.what = *what;
    }
    // A missing topic pgcdc may not create is not asked about again: its
    // records wait in the producer until someone (or the broker) makes it.
    if (!validate_only) ready_.insert(topics[i]);
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

absl::Status TopicAdmin::Describe(const std::vector<std::string>& topics,
                                  int timeout_ms, std::vector<bool>* exists,
                                  std::vector<TopicState>* states) {
  exists->assign(topics.size(), false);
  states->assign(topics.size(), TopicState());
  if (topics.empty()) return absl::OkStatus();
  std::vector<const char*> names;
  for (const std::string& t : topics) names.push_back(t.c_str());
  rd_kafka_TopicCollection_t* collection =
      rd_kafka_TopicCollection_of_topic_names(names.data(), names.size());
  Queue queue(rd_kafka_queue_new(client_));
  Options options =
      NewOptions(client_, RD_KAFKA_ADMIN_OP_DESCRIBETOPICS, timeout_ms);
  rd_kafka_DescribeTopics(client_, collection, options.get(), queue.get());
  rd_kafka_TopicCollection_destroy(collection);
  absl::StatusOr<Event> event =
      AwaitResult(queue.get(), absl::StrJoin(topics, ", "),
                  TopicRequest::kDescribe, timeout_ms);
  if (!event.ok()) return event.status();
  const rd_kafka_DescribeTopics_result_t* result =
      rd_kafka_event_DescribeTopics_result(event->get());
  size_t count = 0;
  const rd_kafka_TopicDescription_t** descriptions =
      rd_kafka_DescribeTopics_result_topics(result, &count);
  std::vector<TopicState*> existing;
  std::vector<std::string> existing_names;
  for (size_t d = 0; d < count; ++d) {
    const std::string name = rd_kafka_TopicDescription_name(descriptions[d]);
    size_t i = 0;
    while (i < topics.size() && topics[i] != name) ++i;
    if (i == topics.size()) continue;  // not asked for
    const rd_kafka_error_t* error =
        rd_kafka_TopicDescription_error(descriptions[d]);
    const rd_kafka_resp_err_t err = error == nullptr
                                        ? RD_KAFKA_RESP_ERR_NO_ERROR
                                        : rd_kafka_error_code(error);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return TopicFailure(name, TopicRequest::kDescribe, err,
                          rd_kafka_error_string(error));
    }
    (*exists)[i] = true;
    size_t partitions = 0;
    const rd_kafka_TopicPartitionInfo_t** infos =
        rd_kafka_TopicDescription_partitions(descriptions[d], &partitions);
    (*states)[i].partitions = static_cast<int>(partitions);
    if (partitions > 0) {
      size_t replicas = 0;
      rd_kafka_TopicPartitionInfo_replicas(infos[0], &replicas);
      (*states)[i].replication_factor = static_cast<int>(replicas);
    }
    existing.push_back(&(*states)[i]);
    existing_names.push_back(name);
  }
  if (settings_.configs.empty() || existing.empty()) return absl::OkStatus();
  return DescribeConfigs(existing_names, timeout_ms, &existing);
}

absl::Status TopicAdmin::DescribeConfigs(const std::vector<std::string>& topics,
                                         int timeout_ms,
                                         std::vector<TopicState*>* states) {
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const std::string& t : topics) {
    resources.push_back(
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.c_str()));
  }
  Queue queue(rd_kafka_queue_new(client_));
  Options options =
      NewOptions(client_, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
  rd_kafka_DescribeConfigs(client_, resources.data(), resources.size(),
                           options.get(), queue.get());
  for (rd_kafka_ConfigResource_t* r : resources) {
    rd_kafka_ConfigResource_destroy(r);
  }
  absl::StatusOr<Event> event =
      AwaitResult(queue.get(), absl::StrJoin(topics, ", "),
                  TopicRequest::kDescribe, timeout_ms);
  if (!event.ok()) return event.status();
  const rd_kafka_DescribeConfigs_result_t* result =
      rd_kafka_event_DescribeConfigs_result(event->get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described =
      rd_kafka_DescribeConfigs_result_resources(result, &count);
  for (size_t r = 0; r < count; ++r) {
    const std::string name = rd_kafka_ConfigResource_name(described[r]);
    size_t i = 0;
    while (i < topics.size() && topics[i] != name) ++i;
    if (i == topics.size()) continue;
    const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(described[r]);
    // Reading configs takes a right of its own, which producing does not
    // need: what cannot be read is not compared.
    if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      (*states)[i]->configs_known = false;
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* text = rd_kafka_ConfigResource_error_string(described[r]);
      return TopicFailure(name, TopicRequest::kDescribe, err,
                          text != nullptr ? text : "");
    }
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs =
        rd_kafka_ConfigResource_configs(described[r], &entries);
    for (size_t e = 0; e < entries; ++e) {
      const std::string key = rd_kafka_ConfigEntry_name(configs[e]);
      if (settings_.configs.count(key) == 0) continue;
      const char* value = rd_kafka_ConfigEntry_value(configs[e]);
      (*states)[i]->configs[key] = value != nullptr ? value : "";
    }
  }
  return absl::OkStatus();
}

absl::Status TopicAdmin::AwaitEveryBroker(const std::string& topic,
                                          int timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto remaining_ms = [&deadline] {
    return static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now())
               .count()));
  };
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(client_, /*all_topics=*/0, nullptr, &raw, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return TopicFailure(topic, TopicRequest::kDescribe, err,
                        rd_kafka_err2str(err));
  }
  const Metadata cluster(raw);
  for (int b = 0; b < cluster->broker_cnt; ++b) {
    const rd_kafka_metadata_broker_t& broker = cluster->brokers[b];
    // A client of this broker alone, with the producer's settings
    // (credentials, TLS): its first request can go nowhere else, and the
    // answer names the broker that gave it.
    // It produces nothing and is never polled: none of the producer's
    // callbacks, which take the producer as their opaque, may reach it.
    rd_kafka_conf_t* conf = rd_kafka_conf_dup(rd_kafka_conf(client_));
    rd_kafka_conf_set_dr_msg_cb(conf, nullptr);
    rd_kafka_conf_set_error_cb(conf, nullptr);
    rd_kafka_conf_set_opaque(conf, nullptr);
    char errstr[512];
    const std::string address = absl::StrCat(broker.host, ":", broker.port);
    if (rd_kafka_conf_set(conf, "enable.gapless.guarantee", "false", errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "false", errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "bootstrap.servers", address.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return TopicFailure(topic, TopicRequest::kDescribe,
                          RD_KAFKA_RESP_ERR__INVALID_ARG, errstr);
    }
    // rd_kafka_new owns conf from here, also when it fails.
    const Client probe(
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
    if (probe == nullptr) {
      return TopicFailure(topic, TopicRequest::kDescribe,
                          RD_KAFKA_RESP_ERR__INVALID_ARG, errstr);
    }
    const TopicHandle handle(
        rd_kafka_topic_new(probe.get(), topic.c_str(), nullptr));
    for (;;) {
      raw = nullptr;
      err = rd_kafka_metadata(probe.get(), /*all_topics=*/0, handle.get(), &raw,
                              remaining_ms());
      const Metadata seen(raw);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR &&
          seen->orig_broker_id == broker.id && ShowsTopicLed(*seen, topic)) {
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return TopicFailure(
            topic, TopicRequest::kDescribe, RD_KAFKA_RESP_ERR__TIMED_OUT,
            absl::StrCat("created, but broker ", broker.id, " at ", address,
                         " does not show it with a leader for every "
                         "partition yet"));
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(kPropagationPollMs));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TopicOutcome::What> TopicAdmin::Create(const std::string& topic,
                                                      int timeout_ms,
                                                      bool validate_only) {
  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
      topic.c_str(), settings_.partitions, settings_.replication_factor, errstr,
      sizeof(errstr));
  if (new_topic == nullptr) {
    return TopicFailure(topic, TopicRequest::kCreate,
                        RD_KAFKA_RESP_ERR__INVALID_ARG, errstr);
  }
  for (const auto& [name, value] : settings_.configs) {
    if (rd_kafka_NewTopic_set_config(new_topic, name.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(new_topic);
      return TopicFailure(topic, TopicRequest::kCreate,
                          RD_KAFKA_RESP_ERR__INVALID_ARG,
                          absl::StrCat("config ", name));
    }
  }
  Queue queue(rd_kafka_queue_new(client_));
  Options options =
      NewOptions(client_, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
  if (validate_only) {
    (void)rd_kafka_AdminOptions_set_validate_only(options.get(), 1, errstr,
                                                  sizeof(errstr));
  }
  rd_kafka_CreateTopics(client_, &new_topic, 1, options.get(), queue.get());
  rd_kafka_NewTopic_destroy(new_topic);
  Event event(rd_kafka_queue_poll(queue.get(), timeout_ms + kResultGraceMs));
  if (event == nullptr) {
    return TopicFailure(topic, TopicRequest::kCreate,
                        RD_KAFKA_RESP_ERR__TIMED_OUT,
                        "no result from librdkafka");
  }
  const rd_kafka_resp_err_t request_err = rd_kafka_event_error(event.get());
  // A broker without CreateTopics: librdkafka's mock cluster. It makes a
  // topic when a producer asks for its metadata.
  if (request_err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
    return TopicOutcome::What::kAutoCreated;
  }
  if (request_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* text = rd_kafka_event_error_string(event.get());
    return TopicFailure(topic, TopicRequest::kCreate, request_err,
                        text != nullptr ? text : "");
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
      rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (size_t r = 0; r < count; ++r) {
    if (topic != rd_kafka_topic_result_name(results[r])) continue;
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[r]);
    // Made by someone else since it was described (another instance, the
    // broker's auto-creation): there now, as wanted.
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return TopicOutcome::What::kExists;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* text = rd_kafka_topic_result_error_string(results[r]);
      return TopicFailure(topic, TopicRequest::kCreate, err,
                          text != nullptr ? text : "");
    }
    if (validate_only) return TopicOutcome::What::kWouldCreate;
    CDC_RETURN_IF_ERROR(AwaitEveryBroker(topic, timeout_ms));
    return TopicOutcome::What::kCreated;
  }
  return TopicFailure(topic, TopicRequest::kCreate, RD_KAFKA_RESP_ERR__BAD_MSG,
                      "no result for the topic");
}

}  // namespace cdc::kafka
