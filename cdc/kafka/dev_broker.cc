#include "cdc/kafka/dev_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/kafka/producer.h"  // RouteLibrdkafkaLogs

namespace cdc::kafka {

absl::StatusOr<std::unique_ptr<DevBroker>> DevBroker::Start(
    int brokers, int default_partitions) {
  if (brokers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("dev broker: need at least 1 broker, not ", brokers));
  }
  if (default_partitions != kAutoCreatePartitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dev broker: librdkafka's mock cluster creates topics on first use "
        "with ",
        kAutoCreatePartitions, " partitions and cannot be told otherwise (",
        default_partitions,
        " asked for); create such topics beforehand with CreateTopic"));
  }

  // The mock cluster needs an rd_kafka_t for its bookkeeping and threads;
  // this one never talks to any broker itself.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  // Without bootstrap.servers the handle would log a notice that it cannot
  // connect anywhere, which is the point here.
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("dev broker: ", errstr));
  }
  RouteLibrdkafkaLogs(conf);
  std::unique_ptr<DevBroker> broker(new DevBroker());
  broker->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (broker->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(
        absl::StrCat("dev broker: cannot create librdkafka handle: ", errstr));
  }
  broker->mock_ = rd_kafka_mock_cluster_new(broker->rk_, brokers);
  if (broker->mock_ == nullptr) {
    // The reason (typically a failed listen()) went to librdkafka's log.
    return absl::UnavailableError(
        "dev broker: cannot start librdkafka's mock cluster");
  }
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->mock_);
  broker->brokers_ = brokers;
  return broker;
}

DevBroker::~DevBroker() {
  // The cluster must go before the handle it was created on.
  if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

absl::Status DevBroker::CreateTopic(const std::string& topic, int partitions) {
  if (topic.empty() || partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("dev broker: cannot create topic \"", topic, "\" with ",
                     partitions, " partition(s)"));
  }
  const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
      mock_, topic.c_str(), partitions, std::min(3, brokers_));
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(
          absl::StrCat("dev broker: topic \"", topic, "\" already exists"));
    default:
      return absl::InternalError(absl::StrCat("dev broker: creating topic \"",
                                              topic,
                                              "\": ", rd_kafka_err2str(err)));
  }
}

absl::Status DevBroker::Apply(const BrokerFault& fault) {
  if (fault.broker > brokers_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "there is no broker ", fault.broker, ": the cluster has ", brokers_));
  }
  const int first = fault.broker == 0 ? 1 : fault.broker;
  const int last = fault.broker == 0 ? brokers_ : fault.broker;
  if (fault.kind == BrokerFault::Kind::kErrors) {
    std::vector<rd_kafka_resp_err_t> errors(
        fault.count, static_cast<rd_kafka_resp_err_t>(fault.error_code));
    rd_kafka_mock_push_request_errors_array(mock_, fault.api_key, errors.size(),
                                            errors.data());
    return absl::OkStatus();
  }
  for (int id = first; id <= last; ++id) {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    switch (fault.kind) {
      case BrokerFault::Kind::kDown:
        err = rd_kafka_mock_broker_set_down(mock_, id);
        break;
      case BrokerFault::Kind::kUp:
        err = rd_kafka_mock_broker_set_up(mock_, id);
        break;
      case BrokerFault::Kind::kRtt:
        err = rd_kafka_mock_broker_set_rtt(mock_, id, fault.rtt_ms);
        break;
      case BrokerFault::Kind::kErrors:
        break;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(
          absl::StrCat(fault.Describe(), ": ", rd_kafka_err2str(err)));
    }
  }
  return absl::OkStatus();
}

}  // namespace cdc::kafka
