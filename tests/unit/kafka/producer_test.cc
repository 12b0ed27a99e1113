// The Kafka edge against librdkafka's mock cluster: the real protocol over
// loopback TCP, in-process, with fault injection.
#include "cdc/kafka/producer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/kafka/dev_broker.h"
#include "cdc/kafka/topic_reader.h"

namespace cdc::kafka {
namespace {

using ::testing::HasSubstr;

constexpr int16_t kProduceApiKey = 0;

std::unique_ptr<DevBroker> StartBroker(int brokers = 1) {
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(brokers);
  EXPECT_TRUE(broker.ok()) << broker.status();
  return broker.ok() ? std::move(*broker) : nullptr;
}

// Collects delivery reports; the producer calls back on the test's thread.
struct Reports {
  std::vector<DeliveryReport> all;
  Producer::DeliveryCallback Callback() {
    return [this](const DeliveryReport& r) { all.push_back(r); };
  }
};

std::unique_ptr<Producer> MakeProducer(
    const DevBroker& broker, Reports* reports,
    std::map<std::string, std::string> properties = {}) {
  absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(
      broker.bootstrap_servers(), properties, reports->Callback());
  EXPECT_TRUE(producer.ok()) << producer.status();
  return producer.ok() ? std::move(*producer) : nullptr;
}

// Polls until `n` reports came or `timeout_ms` passed.
void AwaitReports(Producer& producer, const Reports& reports, size_t n,
                  int timeout_ms = 20000) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (reports.all.size() < n &&
         std::chrono::steady_clock::now() < deadline) {
    producer.Poll(50);
  }
}

std::vector<ConsumedMessage> ReadAll(const DevBroker& broker,
                                     const std::string& topic) {
  absl::StatusOr<std::unique_ptr<TopicReader>> reader =
      TopicReader::Open(broker.bootstrap_servers(), topic,
                        /*from_beginning=*/true);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  absl::StatusOr<std::vector<ConsumedMessage>> all = (*reader)->ReadToEnd();
  EXPECT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE((*reader)->AtEnd());
  return all.ok() ? *all : std::vector<ConsumedMessage>{};
}

TEST(KafkaProducerTest, ProducesKeyedRecordsAndReadsThemBack) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);

  constexpr int kCount = 1000;
  auto key_of = [](int i) { return absl::StrCat("key-", i % 37); };
  auto value_of = [](int i) { return absl::StrCat("value-", i); };
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(
        producer->Produce("orders", key_of(i), value_of(i), 1000 + i).ok());
  }
  ASSERT_TRUE(producer->Flush(20000).ok());
  EXPECT_EQ(producer->OutstandingMessages(), 0);
  EXPECT_TRUE(producer->FatalError().ok());

  ASSERT_EQ(reports.all.size(), kCount);
  std::set<uint64_t> opaques;
  std::map<std::string, int32_t> partition_of_key;
  for (const DeliveryReport& r : reports.all) {
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_GE(r.opaque, 1000u);
    ASSERT_LT(r.opaque, 1000u + kCount);
    const int i = static_cast<int>(r.opaque - 1000);
    EXPECT_TRUE(opaques.insert(r.opaque).second) << "reported twice: " << i;
    EXPECT_EQ(r.bytes, key_of(i).size() + value_of(i).size());
    EXPECT_EQ(r.topic, "orders");
    EXPECT_GE(r.partition, 0);
    EXPECT_GE(r.offset, 0);
    auto [it, inserted] = partition_of_key.emplace(key_of(i), r.partition);
    EXPECT_EQ(it->second, r.partition) << "key " << key_of(i) << " moved";
  }
  // 37 keys over 4 partitions: hashing spreads them.
  std::set<int32_t> used;
  for (const auto& [key, p] : partition_of_key) used.insert(p);
  EXPECT_GT(used.size(), 1u);

  std::vector<ConsumedMessage> read = ReadAll(*broker, "orders");
  ASSERT_EQ(read.size(), kCount);
  std::map<int32_t, int> last_index;  // per partition
  std::map<int32_t, int64_t> last_offset;
  std::set<std::string> values;
  for (const ConsumedMessage& m : read) {
    ASSERT_TRUE(m.key.has_value());
    ASSERT_EQ(m.value.rfind("value-", 0), 0u);
    const int i = std::stoi(m.value.substr(6));
    EXPECT_EQ(*m.key, key_of(i));
    EXPECT_EQ(m.partition, partition_of_key[*m.key]);
    values.insert(m.value);
    // Within a partition, records come back in the order produced.
    if (last_index.count(m.partition)) {
      EXPECT_GT(i, last_index[m.partition]);
      EXPECT_EQ(m.offset, last_offset[m.partition] + 1);
    }
    last_index[m.partition] = i;
    last_offset[m.partition] = m.offset;
  }
  EXPECT_EQ(values.size(), kCount);
}

// Whether `fd` becomes readable within `timeout_ms`.
bool Readable(int fd, int timeout_ms) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return ::poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN) != 0;
}

TEST(KafkaProducerTest, WakeFdSignalsWaitingDeliveryReports) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  const int fd = producer->WakeFd();
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(Readable(fd, 0)) << "nothing produced yet";

  // The pipeline's loop: wait on the fd, then Poll(0) serves the reports
  // without waiting. Three rounds: after each serve the fd is clear, and the
  // next report sets it again.
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(producer->Produce("wake", "k", "v", round).ok());
    ASSERT_TRUE(Readable(fd, 20000)) << "round " << round;
    // The report may land a moment after the byte: what Poll(0) does not
    // find yet, the fd announces again.
    while (reports.all.size() < static_cast<size_t>(round + 1)) {
      producer->Poll(0);
      if (reports.all.size() < static_cast<size_t>(round + 1)) {
        ASSERT_TRUE(Readable(fd, 20000)) << "round " << round;
      }
    }
    ASSERT_EQ(reports.all.size(), static_cast<size_t>(round + 1));
    EXPECT_TRUE(reports.all.back().status.ok()) << reports.all.back().status;
    EXPECT_EQ(reports.all.back().opaque, static_cast<uint64_t>(round));
    EXPECT_FALSE(Readable(fd, 0)) << "Poll left the fd set, round " << round;
  }
}

// A tombstone is a null value, not an empty one, and headers arrive as
// given, in order (Debezium's format needs both).
TEST(KafkaProducerTest, NullValuesAndHeadersReachTheBroker) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  const HeaderView headers[] = {{"__debezium.newkey", "{\"id\":20}"},
                                {"empty", ""},
                                {"__debezium.newkey", "again"}};
  ASSERT_TRUE(producer->Produce("tomb", "k1", std::nullopt, 1, headers).ok());
  ASSERT_TRUE(producer->Produce("tomb", "k2", "", 2).ok());
  ASSERT_TRUE(producer->Flush(10000).ok());
  ASSERT_EQ(reports.all.size(), 2u);
  for (const DeliveryReport& r : reports.all) EXPECT_TRUE(r.status.ok());
  std::vector<ConsumedMessage> read = ReadAll(*broker, "tomb");
  ASSERT_EQ(read.size(), 2u);
  std::sort(read.begin(), read.end(),
            [](const ConsumedMessage& a, const ConsumedMessage& b) {
              return a.key < b.key;
            });
  EXPECT_TRUE(read[0].null_value);
  EXPECT_EQ(read[0].headers, (std::vector<std::pair<std::string, std::string>>{
                                 {"__debezium.newkey", "{\"id\":20}"},
                                 {"empty", ""},
                                 {"__debezium.newkey", "again"}}));
  EXPECT_FALSE(read[1].null_value);
  EXPECT_EQ(read[1].value, "");
  EXPECT_TRUE(read[1].headers.empty());
}

TEST(KafkaProducerTest, NullKeyAndEmptyKeyStayDistinct) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Produce("keys", std::nullopt, "no key", 1).ok());
  ASSERT_TRUE(producer->Produce("keys", std::string(), "empty key", 2).ok());
  ASSERT_TRUE(producer->Produce("keys", std::nullopt, "", 3).ok());
  ASSERT_TRUE(producer->Flush(10000).ok());
  ASSERT_EQ(reports.all.size(), 3u);
  std::map<uint64_t, size_t> bytes_by_opaque;
  for (const DeliveryReport& r : reports.all) {
    EXPECT_TRUE(r.status.ok()) << r.status;
    bytes_by_opaque[r.opaque] = r.bytes;
  }
  EXPECT_EQ(bytes_by_opaque,
            (std::map<uint64_t, size_t>{{1, 6}, {2, 9}, {3, 0}}));

  std::map<std::string, std::optional<std::string>> key_by_value;
  for (const ConsumedMessage& m : ReadAll(*broker, "keys")) {
    key_by_value[m.value] = m.key;
  }
  ASSERT_EQ(key_by_value.size(), 3u);
  EXPECT_EQ(key_by_value["no key"], std::nullopt);
  EXPECT_EQ(key_by_value["empty key"], std::optional<std::string>(""));
  EXPECT_EQ(key_by_value[""], std::nullopt);
}

TEST(KafkaProducerTest, RefusesPropertiesThatWeakenDelivery) {
  const std::vector<std::pair<std::string, std::string>> kWeakening = {
      {"enable.idempotence", "false"},
      {"enable.idempotence", "0"},
      {"enable.idempotence", "nope"},
      {"acks", "1"},
      {"acks", "0"},
      {"request.required.acks", "1"},
      {"max.in.flight", "6"},
      {"max.in.flight.requests.per.connection", "1000"},
      {"max.in.flight", "five"},
      {"retries", "0"},
      {"message.send.max.retries", "0"},
      {"enable.gapless.guarantee", "false"},
  };
  for (const auto& [name, value] : kWeakening) {
    absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(
        "127.0.0.1:1", {{name, value}}, [](const DeliveryReport&) {});
    EXPECT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument)
        << name << "=" << value;
    EXPECT_THAT(producer.status().message(), HasSubstr(name));
  }
  // The same properties at values that keep the guarantees are fine.
  absl::StatusOr<std::unique_ptr<Producer>> fine =
      Producer::Create("127.0.0.1:1",
                       {{"enable.idempotence", "TRUE"},
                        {"acks", "-1"},
                        {"request.required.acks", "all"},
                        {"max.in.flight", "5"},
                        {"retries", "10"},
                        {"linger.ms", "0"}},
                       [](const DeliveryReport&) {});
  EXPECT_TRUE(fine.ok()) << fine.status();
}

TEST(KafkaProducerTest, UnknownPropertyIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(
      "127.0.0.1:1", {{"no.such.property", "1"}}, [](const DeliveryReport&) {});
  EXPECT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(producer.status().message(), HasSubstr("no.such.property"));
}

// A refused property is named with librdkafka's reason, worded by pgcdc from
// the result code: never with its value, which may be a password, although
// librdkafka's own message for a bad value quotes it.
TEST(KafkaProducerTest, PropertyErrorsNeverQuoteTheValue) {
  const std::string secret = "Top Secret 'q\"%41=x\\";
  const std::vector<std::pair<std::string, std::string>> kRefused = {
      {"sasl.pasword", "no such librdkafka configuration property"},
      {"topic.sasl.pasword", "no such librdkafka configuration property"},
      {"compression.type", "librdkafka refuses the value"},
      {"security.protocol", "librdkafka refuses the value"},
      {"linger.ms", "librdkafka refuses the value"},
      {"plugin.library.paths", "librdkafka refuses the value"},
  };
  for (const auto& [name, reason] : kRefused) {
    absl::StatusOr<std::unique_ptr<Producer>> producer = Producer::Create(
        "127.0.0.1:1", {{name, secret}}, [](const DeliveryReport&) {});
    ASSERT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument)
        << name;
    const std::string message(producer.status().message());
    EXPECT_THAT(message, HasSubstr(absl::StrCat("Kafka property ", name)));
    EXPECT_THAT(message, HasSubstr(reason));
    for (const char* part : {"Top", "Secret", "%41"}) {
      EXPECT_THAT(message, ::testing::Not(HasSubstr(part))) << message;
    }
  }
  // A secret-bearing property set right is no error.
  absl::StatusOr<std::unique_ptr<Producer>> fine = Producer::Create(
      "127.0.0.1:1", {{"sasl.password", secret}}, [](const DeliveryReport&) {});
  EXPECT_TRUE(fine.ok()) << fine.status();
}

// Produces one record after the next `errors` Produce requests were set to
// fail, and returns its report.
DeliveryReport ProduceThroughErrors(
    DevBroker& broker, Producer& producer, Reports& reports,
    const std::string& topic, const std::vector<rd_kafka_resp_err_t>& errors) {
  // A first record creates the topic and gets a producer id, so that the
  // injected errors hit the Produce request under test.
  const size_t before = reports.all.size();
  EXPECT_TRUE(producer.Produce(topic, "k", "warm-up", 1).ok());
  AwaitReports(producer, reports, before + 1);
  rd_kafka_mock_push_request_errors_array(broker.mock(), kProduceApiKey,
                                          errors.size(), errors.data());
  EXPECT_TRUE(producer.Produce(topic, "k", "under test", 2).ok());
  AwaitReports(producer, reports, before + 2);
  EXPECT_EQ(reports.all.size(), before + 2);
  return reports.all.empty() ? DeliveryReport{} : reports.all.back();
}

// What librdkafka 2.8's idempotent producer makes of an error the broker
// returns for a Produce request, as the mock injects it.
TEST(KafkaProducerTest, RetriableProduceErrorsEndInOneDelivery) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  // All retried, one after the other, for the same record.
  DeliveryReport r = ProduceThroughErrors(
      *broker, *producer, reports, "retried",
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
       RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
       RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
       RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
       RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
       RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
       RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
       // CORRUPT_MESSAGE: retried since librdkafka 2.4 (KIP-467), as Kafka's
       // own producer retries a CorruptRecordException.
       RD_KAFKA_RESP_ERR_INVALID_MSG,
       RD_KAFKA_RESP_ERR__TRANSPORT});  // the mock drops the connection
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.opaque, 2u);
  EXPECT_TRUE(producer->FatalError().ok());
  // Retried, not duplicated.
  std::vector<ConsumedMessage> read = ReadAll(*broker, "retried");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].value, "warm-up");
  EXPECT_EQ(read[1].value, "under test");
}

// On its own, UNKNOWN_PRODUCER_ID is retried too (librdkafka takes it for
// the broker having lost the producer's state and bumps the epoch); right
// after a NOT_LEADER_FOR_PARTITION or disconnect on the same batch it is a
// fatal error instead ("unable to retry without risking duplication").
// The epoch bump is the one retry that can write a record twice (what was in
// flight elsewhere is renumbered), so pgcdc warns of it.
TEST(KafkaProducerTest, UnknownProducerIdAloneIsRetried) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  ::testing::internal::CaptureStderr();
  DeliveryReport r =
      ProduceThroughErrors(*broker, *producer, reports, "pid",
                           {RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID});
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr(" WARN librdkafka "));
  EXPECT_THAT(log, HasSubstr("the idempotent producer starts a new epoch; "
                             "records that were in flight when their broker "
                             "connection failed may be written twice"));
  EXPECT_THAT(log, HasSubstr("unknown producer id"));
  // The rest of the "eos" debug context stays below the default level.
  EXPECT_THAT(log, ::testing::Not(HasSubstr("IDEMPSTATE")));
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(producer->FatalError().ok());
  EXPECT_EQ(ReadAll(*broker, "pid").size(), 2u);
}

// A broker that keeps answering CORRUPT_MESSAGE is retried like one that is
// down: for as long as message.timeout.ms allows (pgcdc's default 0 waits
// forever, as for any outage). With a timeout the record fails in time, and
// the producer with it (gapless).
TEST(KafkaProducerTest, CorruptMessageIsRetriedUntilTheMessageTimeout) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer =
      MakeProducer(*broker, &reports, {{"message.timeout.ms", "3000"}});
  ASSERT_NE(producer, nullptr);
  const std::vector<rd_kafka_resp_err_t> corrupt(10000,
                                                 RD_KAFKA_RESP_ERR_INVALID_MSG);
  const auto start = std::chrono::steady_clock::now();
  DeliveryReport r =
      ProduceThroughErrors(*broker, *producer, reports, "corrupt", corrupt);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDeadlineExceeded) << r.status;
  EXPECT_EQ(r.opaque, 2u);
  EXPECT_GE(waited, std::chrono::milliseconds(3000));
  std::vector<ConsumedMessage> read = ReadAll(*broker, "corrupt");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].value, "warm-up");
}

TEST(KafkaProducerTest, PermanentProduceErrorStopsTheProducer) {
  const std::vector<std::pair<rd_kafka_resp_err_t, absl::StatusCode>>
      kPermanent = {
          {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
           absl::StatusCode::kInvalidArgument},
          {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
           absl::StatusCode::kPermissionDenied},
          // Retriable in Kafka's book, yet not retried by librdkafka 2.8.
          {RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, absl::StatusCode::kUnavailable},
          {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
           absl::StatusCode::kInternal},
      };
  for (const auto& [err, code] : kPermanent) {
    SCOPED_TRACE(rd_kafka_err2name(err));
    auto broker = StartBroker();
    ASSERT_NE(broker, nullptr);
    Reports reports;
    auto producer = MakeProducer(*broker, &reports);
    ASSERT_NE(producer, nullptr);
    DeliveryReport r =
        ProduceThroughErrors(*broker, *producer, reports, "rejected", {err});
    EXPECT_EQ(r.status.code(), code) << r.status;
    EXPECT_EQ(r.opaque, 2u);
    EXPECT_THAT(r.status.message(), HasSubstr("\"rejected\""));
    EXPECT_THAT(r.status.message(), HasSubstr(rd_kafka_err2str(err)));
    // Gapless: a record that failed for good stops the producer, so no later
    // record of the partition can overtake its replay.
    EXPECT_EQ(producer->FatalError().code(), absl::StatusCode::kInternal);
    EXPECT_FALSE(producer->Produce("rejected", "k", "after", 3).ok());
    std::vector<ConsumedMessage> read = ReadAll(*broker, "rejected");
    ASSERT_EQ(read.size(), 1u);
    EXPECT_EQ(read[0].value, "warm-up");
  }
}

TEST(KafkaProducerTest, SequenceGapIsFatal) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  DeliveryReport r =
      ProduceThroughErrors(*broker, *producer, reports, "gap",
                           {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER});
  EXPECT_FALSE(r.status.ok());
  const absl::Status fatal = producer->FatalError();
  EXPECT_EQ(fatal.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(fatal.message(), HasSubstr("OUT_OF_ORDER_SEQUENCE_NUMBER"));
  const absl::Status again = producer->Produce("gap", "k", "refused", 3);
  EXPECT_EQ(again.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(again.message(), HasSubstr("fatal"));
}

TEST(KafkaProducerTest, MessageTimeoutIsDeadlineExceeded) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer =
      MakeProducer(*broker, &reports, {{"message.timeout.ms", "1000"}});
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Produce("slow", "k", "first", 1).ok());
  AwaitReports(*producer, reports, 1);
  ASSERT_TRUE(reports.all[0].status.ok());
  ASSERT_EQ(rd_kafka_mock_broker_set_down(broker->mock(), -1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(producer->Produce("slow", "k", "second", 2).ok());
  EXPECT_EQ(producer->Flush(200).code(), absl::StatusCode::kDeadlineExceeded);
  AwaitReports(*producer, reports, 2, 10000);
  ASSERT_EQ(reports.all.size(), 2u);
  EXPECT_EQ(reports.all[1].status.code(), absl::StatusCode::kDeadlineExceeded)
      << reports.all[1].status;
  EXPECT_THAT(reports.all[1].status.message(), HasSubstr("slow"));
}

TEST(KafkaProducerTest, FullLocalQueueIsResourceExhausted) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer =
      MakeProducer(*broker, &reports, {{"queue.buffering.max.messages", "5"}});
  ASSERT_NE(producer, nullptr);
  absl::Status last;
  for (int i = 0; i < 6 && last.ok(); ++i) {
    last = producer->Produce("full", std::nullopt, "x", i);
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  ASSERT_TRUE(producer->Flush(10000).ok());
  EXPECT_TRUE(producer->Produce("full", std::nullopt, "x", 9).ok());
}

TEST(KafkaProducerTest, DestroyWithRecordsInFlightIsPrompt) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  ASSERT_EQ(rd_kafka_mock_broker_set_down(broker->mock(), -1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(producer->Produce("stuck", "k", "v", i).ok());
  }
  const auto start = std::chrono::steady_clock::now();
  producer.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(reports.all.empty());
}

TEST(DevBrokerTest, AutoCreatedTopicsGetFourPartitions) {
  auto broker = StartBroker(3);
  ASSERT_NE(broker, nullptr);
  EXPECT_THAT(broker->bootstrap_servers(), HasSubstr(","));
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Produce("auto", std::nullopt, "v", 1).ok());
  ASSERT_TRUE(producer->Flush(10000).ok());
  auto reader = TopicReader::Open(broker->bootstrap_servers(), "auto", true);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->partition_count(), DevBroker::kAutoCreatePartitions);
}

TEST(DevBrokerTest, OtherDefaultPartitionCountIsRefused) {
  EXPECT_EQ(DevBroker::Start(1, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DevBroker::Start(0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DevBrokerTest, CreateTopicSetsPartitionCount) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  ASSERT_TRUE(broker->CreateTopic("seven", 7).ok());
  EXPECT_EQ(broker->CreateTopic("seven", 7).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(broker->CreateTopic("zero", 0).code(),
            absl::StatusCode::kInvalidArgument);
  auto reader = TopicReader::Open(broker->bootstrap_servers(), "seven", true);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->partition_count(), 7);
  // Empty partitions are at their end right away.
  auto none = (*reader)->ReadToEnd();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE((*reader)->AtEnd());
}

TEST(DevBrokerTest, KeepsAboutFiveMegabytesPerPartition) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  ASSERT_TRUE(broker->CreateTopic("big", 1).ok());
  Reports reports;
  // One record per batch and no compression: batch size ~= record size.
  auto producer =
      MakeProducer(*broker, &reports,
                   {{"compression.type", "none"}, {"batch.num.messages", "1"}});
  ASSERT_NE(producer, nullptr);
  constexpr int kRecords = 80;
  const std::string value(100 * 1024, 'x');  // 8000 KiB in all
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(producer->Produce("big", std::nullopt, value, i).ok());
  }
  ASSERT_TRUE(producer->Flush(30000).ok());
  for (const DeliveryReport& r : reports.all) ASSERT_TRUE(r.status.ok());
  std::vector<ConsumedMessage> kept = ReadAll(*broker, "big");
  ASSERT_FALSE(kept.empty());
  EXPECT_LT(kept.size(), static_cast<size_t>(kRecords));
  EXPECT_GT(kept.front().offset, 0);
  EXPECT_EQ(kept.back().offset, kRecords - 1);
  const int64_t kept_bytes = static_cast<int64_t>(kept.size() * value.size());
  EXPECT_LE(kept_bytes, DevBroker::kRetainedBytesPerPartition);
  EXPECT_GT(kept_bytes, DevBroker::kRetainedBytesPerPartition -
                            2 * static_cast<int64_t>(value.size()));
}

TEST(TopicReaderTest, MissingTopicIsNotFoundAndNotCreated) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  auto reader = TopicReader::Open(broker->bootstrap_servers(), "missing", true,
                                  /*metadata_timeout_ms=*/1000);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound)
      << reader.status();
  EXPECT_THAT(reader.status().message(), HasSubstr("missing"));
  // Had the reader created it, this would be kAlreadyExists.
  EXPECT_TRUE(broker->CreateTopic("missing", 2).ok());
}

TEST(TopicReaderTest, UnreachableClusterIsDeadlineExceeded) {
  // Port 1 on loopback: nothing listens, connections are refused.
  auto reader = TopicReader::Open("127.0.0.1:1", "t", true,
                                  /*metadata_timeout_ms=*/1000);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDeadlineExceeded)
      << reader.status();
}

TEST(TopicReaderTest, FromEndSeesOnlyNewRecords) {
  auto broker = StartBroker();
  ASSERT_NE(broker, nullptr);
  Reports reports;
  auto producer = MakeProducer(*broker, &reports);
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Produce("live", "k", "old", 1).ok());
  ASSERT_TRUE(producer->Flush(10000).ok());

  auto reader = TopicReader::Open(broker->bootstrap_servers(), "live",
                                  /*from_beginning=*/false);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto nothing = (*reader)->ReadToEnd();
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_TRUE(nothing->empty());
  EXPECT_TRUE((*reader)->AtEnd());

  ASSERT_TRUE(producer->Produce("live", "k", "new", 2).ok());
  ASSERT_TRUE(producer->Flush(10000).ok());
  auto next = (*reader)->Next(10000);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->value, "new");
  EXPECT_EQ((*next)->offset, 1);
  EXPECT_FALSE((*reader)->AtEnd());
  auto idle = (*reader)->Next(300);
  ASSERT_TRUE(idle.ok());
  EXPECT_FALSE(idle->has_value());
}

}  // namespace
}  // namespace cdc::kafka
