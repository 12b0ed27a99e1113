// The topics pgcdc writes to, on a real Apache Kafka 4.x that will not make
// them itself (auto.create.topics.enable=false) and that authorizes every
// request (StandardAuthorizer; SCRAM users over SASL_PLAINTEXT):
// - pgcdc creates a missing topic before its first record, with the
//   partitions, replication factor and configs of kafka.topics, also for a
//   table renamed while it runs; `check` says what it would create and
//   creates nothing;
// - an existing topic is used as it is, with a warning naming each setting
//   that differs;
// - a principal without CREATE gets exit 3 naming the topic and the ACL,
//   before any slot is made, and streams once the topic exists;
// - settings the broker refuses end `run` with exit 2 and its reason.
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cdc/kafka/producer.h"
#include "cdc/kafka/topic_admin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/real_kafka.h"
#include "tests/integration/harness/real_kafka_fixture.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdmin[] = "admin";  // the cluster's superuser
constexpr char kAdminPassword[] = "Admin-Pass-91ce07";
constexpr char kPgcdc[] = "pgcdc";  // every right on every topic
constexpr char kPgcdcPassword[] = "Pgcdc-Pass-3b7d52";
constexpr char kWriter[] = "writer";  // WRITE on every topic, no CREATE
constexpr char kWriterPassword[] = "Writer-Pass-c40a18";
constexpr char kStranger[] = "stranger";  // no ACL at all
constexpr char kStrangerPassword[] = "Stranger-Pass-5e2f90";

std::map<std::string, std::string> Login(const std::string& user,
                                         const std::string& password) {
  return {{"security.protocol", "SASL_PLAINTEXT"},
          {"sasl.mechanism", "SCRAM-SHA-512"},
          {"sasl.username", user},
          {"sasl.password", password}};
}

// A librdkafka client of the superuser, for what the tests set up and look
// at behind pgcdc's back.
class AdminClient {
 public:
  AdminClient() {
    absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
        kafka::Producer::Create(RealKafkaEnvironment::kafka()->bootstrap(),
                                Login(kAdmin, kAdminPassword),
                                [](const kafka::DeliveryReport&) {});
    EXPECT_TRUE(producer.ok()) << producer.status();
    if (producer.ok()) producer_ = *std::move(producer);
  }
  rd_kafka_t* client() const { return producer_->client(); }

  // Allows `user` `operation` on every topic.
  absl::Status Grant(const std::string& user,
                     rd_kafka_AclOperation_t operation) {
    char errstr[512];
    rd_kafka_AclBinding_t* acl = rd_kafka_AclBinding_new(
        RD_KAFKA_RESOURCE_TOPIC, "*", RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        absl::StrCat("User:", user).c_str(), "*", operation,
        RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr));
    if (acl == nullptr) return absl::InvalidArgumentError(errstr);
    rd_kafka_queue_t* queue = rd_kafka_queue_new(client());
    rd_kafka_CreateAcls(client(), &acl, 1, nullptr, queue);
    rd_kafka_AclBinding_destroy(acl);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
    absl::Status status;
    if (event == nullptr) {
      status = absl::DeadlineExceededError("CreateAcls: no result");
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = absl::InternalError(rd_kafka_event_error_string(event));
    } else {
      size_t count = 0;
      const rd_kafka_acl_result_t** results = rd_kafka_CreateAcls_result_acls(
          rd_kafka_event_CreateAcls_result(event), &count);
      for (size_t i = 0; i < count; ++i) {
        if (const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[i])) {
          status = absl::InternalError(rd_kafka_error_string(e));
        }
      }
    }
    if (event != nullptr) rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    return status;
  }

  // Partitions and replicas of `topic` from the cluster's metadata (0
  // partitions when it does not exist).
  std::pair<int, int> Shape(const std::string& topic) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(client(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    std::pair<int, int> shape = {0, 0};
    if (rd_kafka_metadata(client(), 0, rkt, &metadata, 10000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int t = 0; t < metadata->topic_cnt; ++t) {
        const rd_kafka_metadata_topic_t& mt = metadata->topics[t];
        if (topic != mt.topic || mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        shape.first = mt.partition_cnt;
        if (mt.partition_cnt > 0) shape.second = mt.partitions[0].replica_cnt;
      }
      rd_kafka_metadata_destroy(metadata);
    }
    rd_kafka_topic_destroy(rkt);
    return shape;
  }

  // The topic's value of each config of `configs` (only the names count).
  std::map<std::string, std::string> Configs(
      const std::string& topic,
      const std::map<std::string, std::string>& configs) {
    config::TopicsConfig settings;
    settings.create = false;
    settings.configs = configs;
    kafka::TopicAdmin admin(client(), settings);
    absl::StatusOr<std::vector<kafka::TopicOutcome>> outcomes =
        admin.Ensure({topic}, 10000, /*validate_only=*/true);
    EXPECT_TRUE(outcomes.ok()) << outcomes.status();
    if (!outcomes.ok() || outcomes->empty()) return {};
    return (*outcomes)[0].state.configs;
  }

  // Makes `topic` with `partitions`, the broker's defaults otherwise.
  absl::Status Create(const std::string& topic, int partitions) {
    config::TopicsConfig settings;
    settings.partitions = partitions;
    kafka::TopicAdmin admin(client(), settings);
    return admin.Ensure({topic}, 10000).status();
  }

 private:
  std::unique_ptr<kafka::Producer> producer_;
};

// The cluster of this binary, with its users' ACLs.
class TopicsEnvironment : public RealKafkaEnvironment {
 public:
  TopicsEnvironment() : RealKafkaEnvironment(Options()) {}
  void SetUp() override {
    RealKafkaEnvironment::SetUp();
    ASSERT_NE(kafka(), nullptr);
    AdminClient admin;
    // pgcdc may do anything to topics (its idempotent producer needs
    // nothing more: WRITE implies IDEMPOTENT_WRITE since Kafka 2.8); the
    // writer may only write to them (which implies DESCRIBE).
    ASSERT_TRUE(admin.Grant(kPgcdc, RD_KAFKA_ACL_OPERATION_ALL).ok());
    ASSERT_TRUE(admin.Grant(kWriter, RD_KAFKA_ACL_OPERATION_WRITE).ok());
  }

 private:
  static RealKafka::Options Options() {
    RealKafka::Options options;
    options.sasl = true;
    options.auto_create = false;
    options.acl_superuser = kAdmin;
    options.users = {absl::StrCat(kAdmin, "=", kAdminPassword),
                     absl::StrCat(kPgcdc, "=", kPgcdcPassword),
                     absl::StrCat(kWriter, "=", kWriterPassword),
                     absl::StrCat(kStranger, "=", kStrangerPassword)};
    return options;
  }
};


class TopicsTest : public RealKafkaTest {
 protected:
  std::string TopicOf(const std::string& table) const {
    return RealKafkaTest::TopicOf("public." + table);
  }

  // A config for `tables` logging in as `user`, with `topics` (YAML lines
  // under kafka.topics, indented four spaces) when not empty.
  std::string Config(const std::vector<std::string>& tables,
                     const std::string& user, const std::string& password,
                     const std::string& topics = "") {
    std::string kafka = "  properties:\n";
    for (const auto& [name, value] : Login(user, password)) {
      absl::StrAppend(&kafka, "    ", name, ": \"", value, "\"\n");
    }
    if (!topics.empty()) absl::StrAppend(&kafka, "  topics:\n", topics);
    return RealConfig(tables, kafka);
  }

  // The events of `table`'s topic rebuild the table.
  void ExpectTopicRebuildsTable(const std::string& table,
                                const std::string& topic_table = "") {
    absl::StatusOr<std::vector<ReadEvent>> events =
        ReadAll(kafka().bootstrap(),
                TopicOf(topic_table.empty() ? table : topic_table),
                Login(kAdmin, kAdminPassword));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_FALSE(events->empty());
    EXPECT_EQ(CheckOrderAndDuplicates(*events), "");
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(cluster_->Dsn(db_));
    ASSERT_TRUE(conn.ok()) << conn.status();
    absl::StatusOr<TableImage> image = SelectTable(**conn, table, {"id"});
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_TRUE(RebuildsTo(*events, *image));
  }

  bool SlotExists() {
    return !Rows(absl::StrCat("SELECT 1 FROM pg_replication_slots WHERE "
                              "slot_name = '",
                              slot_, "'"))
                .empty();
  }

};

TEST_F(TopicsTest, MissingTopicsAreCreatedAsConfigured) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  Sql("CREATE TABLE u (id int PRIMARY KEY, body text)");
  const std::string config =
      Config({"public.t", "public.u"}, kPgcdc, kPgcdcPassword,
             "    partitions: 3\n"
             "    configs:\n"
             "      retention.ms: \"3600000\"\n"
             "      max.message.bytes: \"2000000\"\n");
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  for (const std::string table : {"t", "u"}) {
    EXPECT_THAT(output,
                HasSubstr(absl::StrCat(
                    "ok    topic ", TopicOf(table),
                    " does not exist: run will create it (3 partitions, its "
                    "default replication factor, max.message.bytes=2000000, "
                    "retention.ms=3600000)")))
        << output;
  }
  AdminClient admin;
  EXPECT_EQ(admin.Shape(TopicOf("t")).first, 0) << "check creates nothing";

  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g");
  Sql("INSERT INTO u SELECT g, 'w' || g FROM generate_series(1, 200) g");
  Sql("UPDATE t SET body = 'x' WHERE id % 7 = 0");
  Sql("DELETE FROM u WHERE id % 5 = 0");
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr(absl::StrCat("created topic ", TopicOf("t"),
                                                  " (3 partitions")));
  for (const std::string table : {"t", "u"}) {
    SCOPED_TRACE(table);
    EXPECT_EQ(admin.Shape(TopicOf(table)), std::make_pair(3, 1));
    EXPECT_EQ(admin.Configs(TopicOf(table), {{"retention.ms", ""},
                                             {"max.message.bytes", ""}}),
              (std::map<std::string, std::string>{
                  {"retention.ms", "3600000"},
                  {"max.message.bytes", "2000000"}}));
    ExpectTopicRebuildsTable(table);
  }
  // Now they exist, as asked: no warning.
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr(absl::StrCat("ok    topic ", TopicOf("t"),
                                             " exists (3 partitions, "
                                             "replication factor 1)")));
  EXPECT_THAT(output, Not(HasSubstr("warn  topic")));
}

TEST_F(TopicsTest, ExistingTopicIsUsedAsItIsWithAWarning) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  AdminClient admin;
  ASSERT_TRUE(admin.Create(TopicOf("t"), 2).ok());
  const std::string config = Config({"public.t"}, kPgcdc, kPgcdcPassword,
                                    "    partitions: 4\n"
                                    "    configs:\n"
                                    "      retention.ms: \"3600000\"\n");
  const std::string warning = absl::StrCat(
      "topic ", TopicOf("t"),
      " exists with settings other than kafka.topics: 2 partitions "
      "(kafka.topics.partitions: 4), retention.ms=604800000 "
      "(kafka.topics.configs: 3600000); it is used as it is");
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("warn  " + warning)) << output;
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 300) g");
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr(warning));
  EXPECT_EQ(admin.Shape(TopicOf("t")).first, 2) << "left as it was";
  ExpectTopicRebuildsTable("t");
}

TEST_F(TopicsTest, PrincipalWithoutCreateGetsExitThreeNamingTopicAndAcl) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  const std::string config = Config({"public.t"}, kWriter, kWriterPassword);
  const std::string cause =
      absl::StrCat("not allowed to create topic ", TopicOf("t"),
                   " (TOPIC_AUTHORIZATION_FAILED");
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 3) << output;
  EXPECT_THAT(LastLine(output), HasSubstr(cause)) << output;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_THAT(LastLine(output), HasSubstr(cause)) << output;
  EXPECT_THAT(LastLine(output),
              HasSubstr(absl::StrCat("needs the CREATE operation on topic ",
                                     TopicOf("t"))));
  EXPECT_THAT(output, Not(HasSubstr(kWriterPassword)));
  EXPECT_FALSE(SlotExists()) << "refused before the slot was made";

  // Made by someone who may: WRITE is all pgcdc needs then. Its configs
  // take DESCRIBE_CONFIGS to read: without it they are not compared.
  AdminClient admin;
  ASSERT_TRUE(admin.Create(TopicOf("t"), 1).ok());
  const std::string with_configs =
      Config({"public.t"}, kWriter, kWriterPassword,
             "    configs: {retention.ms: \"3600000\"}\n");
  EXPECT_EQ(RunPgcdc({"check", "--config", with_configs}, &output), 0)
      << output;
  EXPECT_THAT(output, HasSubstr(absl::StrCat(
                          "warn  topic ", TopicOf("t"),
                          " exists with settings other than kafka.topics: "
                          "kafka.topics.configs not compared (pgcdc's "
                          "principal may not DESCRIBE_CONFIGS the topic)")));
  Subprocess p = StartPgcdc(with_configs);
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
  WaitCaughtUp();
  StopPgcdc(p);
  ExpectTopicRebuildsTable("t");
}

TEST_F(TopicsTest, PrincipalWithoutWriteGetsExitThreeNamingTopicAndAcl) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  const std::string config =
      Config({"public.t"}, kStranger, kStrangerPassword);
  const std::string cause = absl::StrCat(
      "not allowed to describe topic ", TopicOf("t"),
      " (TOPIC_AUTHORIZATION_FAILED");
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 3) << output;
  EXPECT_THAT(LastLine(output), HasSubstr(cause)) << output;
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 3) << output;
  EXPECT_THAT(LastLine(output), HasSubstr(cause)) << output;
  EXPECT_THAT(LastLine(output),
              HasSubstr(absl::StrCat("needs the WRITE operation on topic ",
                                     TopicOf("t"))));
  EXPECT_FALSE(SlotExists());
}

TEST_F(TopicsTest, SettingsTheBrokerRefusesEndRunWithItsReason) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  // One broker cannot hold three replicas.
  const std::string config = Config({"public.t"}, kPgcdc, kPgcdcPassword,
                                    "    replication_factor: 3\n");
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 3) << output;
  EXPECT_THAT(LastLine(output), HasSubstr("INVALID_REPLICATION_FACTOR"));
  EXPECT_EQ(RunPgcdc({"run", "--config", config}, &output), 2) << output;
  EXPECT_THAT(LastLine(output),
              HasSubstr(absl::StrCat("Kafka refused to create topic ",
                                     TopicOf("t"),
                                     " as kafka.topics asks "
                                     "(INVALID_REPLICATION_FACTOR")))
      << output;
  EXPECT_FALSE(SlotExists());
}

TEST_F(TopicsTest, CreateFalseLeavesAMissingTopicToOthers) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  const std::string config = Config({"public.t"}, kPgcdc, kPgcdcPassword,
                                    "    create: false\n");
  std::string output;
  EXPECT_EQ(RunPgcdc({"check", "--config", config}, &output), 0) << output;
  EXPECT_THAT(output,
              HasSubstr(absl::StrCat("warn  topic ", TopicOf("t"),
                                     " does not exist and kafka.topics.create "
                                     "is false")));
  AdminClient admin;
  EXPECT_EQ(admin.Shape(TopicOf("t")).first, 0);
}

TEST_F(TopicsTest, RenamedTableGetsItsTopicBeforeItsFirstEvent) {
  Sql("CREATE TABLE t (id int PRIMARY KEY, body text)");
  const std::string config = Config({"public.t"}, kPgcdc, kPgcdcPassword,
                                    "    partitions: 2\n");
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g");
  Sql("ALTER TABLE t RENAME TO renamed");
  Sql("INSERT INTO renamed SELECT g, 'w' || g FROM generate_series(51, 80) g");
  WaitCaughtUp();
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr(absl::StrCat("created topic ",
                                                  TopicOf("renamed"),
                                                  " (2 partitions")));
  AdminClient admin;
  EXPECT_EQ(admin.Shape(TopicOf("renamed")).first, 2);
  absl::StatusOr<std::vector<ReadEvent>> events =
      ReadAll(kafka().bootstrap(), TopicOf("renamed"),
              Login(kAdmin, kAdminPassword));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 30u);
}

}  // namespace
}  // namespace cdc::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new cdc::testing::TopicsEnvironment());
  return RUN_ALL_TESTS();
}
