// The pure decisions of TopicAdmin: what differs on an existing topic, what
// a failed request means (from librdkafka's code, never its text), and how
// each outcome reads; and TopicsOf, the topics a configuration writes to.
#include "cdc/kafka/topic_admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>
#include <vector>

#include "cdc/kafka/topic_names.h"

namespace cdc::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::TopicsConfig Wanted() {
  config::TopicsConfig wanted;
  wanted.partitions = 6;
  wanted.replication_factor = 3;
  wanted.configs = {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}};
  return wanted;
}

TEST(DifferencesFromTest, NoneWhenTheTopicIsAsWanted) {
  TopicState state;
  state.partitions = 6;
  state.replication_factor = 3;
  state.configs = {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}};
  EXPECT_TRUE(DifferencesFrom(Wanted(), state).empty());
}

TEST(DifferencesFromTest, NamesEachSettingThatDiffers) {
  TopicState state;
  state.partitions = 4;
  state.replication_factor = 1;
  state.configs = {{"cleanup.policy", "delete"}};
  EXPECT_THAT(
      DifferencesFrom(Wanted(), state),
      ElementsAre("4 partitions (kafka.topics.partitions: 6)",
                  "replication factor 1 (kafka.topics.replication_factor: 3)",
                  "cleanup.policy=delete (kafka.topics.configs: compact)",
                  "retention.ms=unknown (kafka.topics.configs: 1000)"));
}

TEST(DifferencesFromTest, ConfigsThatCouldNotBeReadAreSaidNotCompared) {
  TopicState state;
  state.partitions = 6;
  state.replication_factor = 3;
  state.configs_known = false;
  EXPECT_THAT(DifferencesFrom(Wanted(), state),
              ElementsAre("kafka.topics.configs not compared (pgcdc's "
                          "principal may not DESCRIBE_CONFIGS the topic)"));
  EXPECT_TRUE(DifferencesFrom(config::TopicsConfig(), state).empty());
}

TEST(DifferencesFromTest, BrokerDefaultsAreNotCompared) {
  TopicState state;
  state.partitions = 4;
  state.replication_factor = 1;
  EXPECT_TRUE(DifferencesFrom(config::TopicsConfig(), state).empty());
}

TEST(TopicFailureTest, MissingCreateRightNamesTheTopicAndTheAcl) {
  for (rd_kafka_resp_err_t err :
       {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED}) {
    absl::Status s =
        TopicFailure("app.public.t", TopicRequest::kCreate, err, "denied");
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(s.message(),
                HasSubstr("not allowed to create topic app.public.t"));
    EXPECT_THAT(s.message(), HasSubstr(rd_kafka_err2name(err)));
    EXPECT_THAT(s.message(),
                HasSubstr("needs the CREATE operation on topic app.public.t"));
  }
  absl::Status s =
      TopicFailure("t", TopicRequest::kDescribe,
                   RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("needs the WRITE operation on topic t"));
}

TEST(TopicFailureTest, RefusedSettingsAreInvalidArguments) {
  for (rd_kafka_resp_err_t err :
       {RD_KAFKA_RESP_ERR_INVALID_PARTITIONS,
        RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR,
        RD_KAFKA_RESP_ERR_INVALID_CONFIG, RD_KAFKA_RESP_ERR_POLICY_VIOLATION}) {
    absl::Status s = TopicFailure("t", TopicRequest::kCreate, err, "why");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << err;
    EXPECT_THAT(s.message(),
                HasSubstr(std::string("Kafka refused to create topic t as "
                                      "kafka.topics asks (") +
                          rd_kafka_err2name(err) + ": why)"));
  }
}

TEST(TopicFailureTest, NoAnswerIsUnavailableAndBadLoginUnauthenticated) {
  for (rd_kafka_resp_err_t err :
       {RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_CONTROLLER}) {
    EXPECT_EQ(TopicFailure("t", TopicRequest::kDescribe, err, "").code(),
              absl::StatusCode::kUnavailable)
        << err;
  }
  EXPECT_EQ(TopicFailure("t", TopicRequest::kCreate,
                         RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, "")
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(TopicFailure("t", TopicRequest::kCreate,
                         RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, "")
                .code(),
            absl::StatusCode::kInternal);
}

TopicOutcome Outcome(TopicOutcome::What what, int partitions = 0,
                     int replication_factor = 0,
                     std::vector<std::string> differences = {}) {
  TopicOutcome outcome;
  outcome.topic = "t";
  outcome.what = what;
  outcome.state.partitions = partitions;
  outcome.state.replication_factor = replication_factor;
  outcome.differences = std::move(differences);
  return outcome;
}

TEST(DescribeOutcomeTest, EachOutcomeReadsAsWhatItIs) {
  bool warning = true;
  const TopicOutcome created = Outcome(TopicOutcome::What::kCreated);
  EXPECT_EQ(DescribeOutcome(created, Wanted(), &warning),
            "created topic t (6 partitions, replication factor 3, "
            "cleanup.policy=compact, retention.ms=1000)");
  EXPECT_FALSE(warning);
  const TopicOutcome would = Outcome(TopicOutcome::What::kWouldCreate);
  EXPECT_EQ(DescribeOutcome(would, config::TopicsConfig(), &warning),
            "topic t does not exist: run will create it (the broker's default "
            "partitions, its default replication factor)");
  EXPECT_FALSE(warning);
  const TopicOutcome exists = Outcome(TopicOutcome::What::kExists, 6, 3);
  EXPECT_EQ(DescribeOutcome(exists, Wanted(), &warning),
            "topic t exists (6 partitions, replication factor 3)");
  EXPECT_FALSE(warning);
  const TopicOutcome differs =
      Outcome(TopicOutcome::What::kExists, 4, 3,
              {"4 partitions (kafka.topics.partitions: 6)"});
  EXPECT_EQ(DescribeOutcome(differs, Wanted(), &warning),
            "topic t exists with settings other than kafka.topics: 4 "
            "partitions (kafka.topics.partitions: 6); it is used as it is");
  EXPECT_TRUE(warning);
  const TopicOutcome missing = Outcome(TopicOutcome::What::kMissing);
  EXPECT_THAT(DescribeOutcome(missing, Wanted(), &warning),
              HasSubstr("does not exist and kafka.topics.create is false"));
  EXPECT_TRUE(warning);
}

TEST(TopicsOfTest, TablesThenMessagesThenDeadLetters) {
  config::Config config;
  config.kafka.topic_prefix = "app";
  config.source.tables = {{"public", "a"}, {"sales", "b c"}};
  EXPECT_THAT(TopicsOf(config), ElementsAre("app.public.a", "app.sales.b_c"));
  config.messages.prefixes = {"*"};
  config.messages.topic = "app.messages";
  config.kafka.dead_letter_topic = "app.public.a";  // already there: once
  EXPECT_THAT(TopicsOf(config),
              ElementsAre("app.public.a", "app.sales.b_c", "app.messages"));
  config.kafka.dead_letter_topic = "dlq";
  EXPECT_THAT(TopicsOf(config), ElementsAre("app.public.a", "app.sales.b_c",
                                            "app.messages", "dlq"));
}

}  // namespace
}  // namespace cdc::kafka
