// Publisher against librdkafka's mock cluster (kafka::DevBroker): records
// under the host's open transaction, acknowledgements into the tracker, a
// record too large for the producer to the dead-letter topic or refused
// with a message naming it, a failed delivery stopping pgcdc.
#include "cdc/pipeline/publisher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cdc/kafka/broker_faults.h"
#include "cdc/kafka/dev_broker.h"
#include "cdc/kafka/topic_reader.h"
#include "cdc/v1/change_event.pb.h"
#include "cdc/v1/dead_letter.pb.h"

namespace cdc::pipeline {
namespace {

using ::testing::HasSubstr;

// A record larger than this is refused by the producer (message.max.bytes).
constexpr int kMaxMessageBytes = 100000;

class FakeHost : public Publisher::Host {
 public:
  offsets::TxnId open_transaction() const override { return txn; }
  absl::Status fatal() const override { return failed; }
  void Fail(const absl::Status& status) override { failed = status; }
  void AfterAcks() override { ++after_acks; }

  offsets::TxnId txn = 0;
  absl::Status failed;
  int after_acks = 0;
};

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<kafka::DevBroker>> broker =
        kafka::DevBroker::Start(1);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    absl::StatusOr<std::unique_ptr<metrics::Metrics>> metrics =
        metrics::Metrics::Create("");
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    metrics_ = *std::move(metrics);
    config_.kafka.bootstrap_servers = broker_->bootstrap_servers();
    config_.kafka.properties["message.max.bytes"] =
        std::to_string(kMaxMessageBytes);
    config_.kafka.startup_timeout_ms = 10000;
  }

  // A publisher connected to the broker, with a tracker transaction open.
  std::unique_ptr<Publisher> Connect() {
    auto publisher = std::make_unique<Publisher>(
        &config_, &tracker_, metrics_.get(), &stop_, &host_);
    absl::Status connected = publisher->Connect();
    EXPECT_TRUE(connected.ok()) << connected;
    absl::StatusOr<offsets::TxnId> id = tracker_.Begin(0x5000);
    EXPECT_TRUE(id.ok()) << id.status();
    host_.txn = id.ok() ? *id : 0;
    return publisher;
  }

  // A CREATE event of public.big, `value_bytes` long or a little more.
  static envelope::Record Event(size_t value_bytes) {
    v1::ChangeEvent event;
    event.set_op(v1::CREATE);
    event.mutable_source()->set_commit_lsn(0x5000);
    event.mutable_source()->set_seq(3);
    event.mutable_message()->set_content(std::string(value_bytes, 'x'));
    envelope::Record record;
    record.topic = "pgcdc.public.big";
    record.key = "k";
    record.value = event.SerializeAsString();
    record.schema = "public";
    record.table = "big";
    record.op = v1::CREATE;
    return record;
  }

  // Serves acknowledgements until nothing is in flight or 20 s passed.
  void AwaitAcks(Publisher& publisher) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (tracker_.inflight_events() > 0 && host_.failed.ok() &&
           std::chrono::steady_clock::now() < deadline) {
      publisher.ServeAcks(50);
    }
  }

  std::vector<kafka::ConsumedMessage> ReadAll(const std::string& topic) {
    absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
        kafka::TopicReader::Open(broker_->bootstrap_servers(), topic,
                                 /*from_beginning=*/true);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    absl::StatusOr<std::vector<kafka::ConsumedMessage>> all =
        (*reader)->ReadToEnd();
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : std::vector<kafka::ConsumedMessage>{};
  }

  std::unique_ptr<kafka::DevBroker> broker_;
  std::unique_ptr<metrics::Metrics> metrics_;
  config::Config config_;
  offsets::AckTracker tracker_{0x1000};
  std::atomic<bool> stop_{false};
  FakeHost host_;
};

TEST_F(PublisherTest, ProducesUnderTheOpenTransactionAndCountsItsAck) {
  std::unique_ptr<Publisher> publisher = Connect();
  const envelope::Record record = Event(100);
  ASSERT_TRUE(publisher->ProduceRecord(record).ok());
  EXPECT_EQ(publisher->events_published(), 1u);
  EXPECT_EQ(tracker_.inflight_events(), 1u);
  EXPECT_EQ(tracker_.inflight_bytes(), record.value.size() + 1);

  ASSERT_TRUE(tracker_.Commit(host_.txn, 0x5008).ok());
  AwaitAcks(*publisher);
  EXPECT_TRUE(host_.failed.ok()) << host_.failed;
  EXPECT_EQ(publisher->events_acked(), 1u);
  EXPECT_GE(host_.after_acks, 1);
  EXPECT_EQ(tracker_.confirmed(), 0x5008u);

  std::vector<kafka::ConsumedMessage> read = ReadAll(record.topic);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].key, record.key);
  EXPECT_EQ(read[0].value, record.value);
}

TEST_F(PublisherTest, RecordTooLargeGoesToTheDeadLetterTopic) {
  config_.kafka.dead_letter_topic = "pgcdc.dead";
  std::unique_ptr<Publisher> publisher = Connect();
  // Larger than message.max.bytes, and than a dead letter carries whole.
  const envelope::Record record = Event(kMaxMessageBytes + 1000);
  ASSERT_TRUE(publisher->ProduceRecord(record).ok());
  EXPECT_EQ(publisher->events_published(), 1u);
  EXPECT_EQ(tracker_.inflight_events(), 1u);  // the dead letter
  AwaitAcks(*publisher);
  EXPECT_TRUE(host_.failed.ok()) << host_.failed;
  EXPECT_EQ(publisher->events_acked(), 1u);
  EXPECT_THAT(metrics_->Render(),
              HasSubstr("pgcdc_dead_letters_total{table=\"public.big\"} 1"));

  std::vector<kafka::ConsumedMessage> read = ReadAll("pgcdc.dead");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].key, record.key);
  v1::DeadLetter letter;
  ASSERT_TRUE(letter.ParseFromString(read[0].value));
  EXPECT_EQ(letter.topic(), record.topic);
  EXPECT_EQ(letter.op(), v1::CREATE);
  EXPECT_EQ(letter.source().commit_lsn(), 0x5000u);
  EXPECT_EQ(letter.source().seq(), 3u);
  EXPECT_EQ(letter.value_bytes(), record.value.size());
  EXPECT_TRUE(letter.value().empty());  // too large to carry whole
  EXPECT_FALSE(letter.error().empty());
}

TEST_F(PublisherTest, RecordTooLargeWithoutDeadLetterTopicIsNamed) {
  std::unique_ptr<Publisher> publisher = Connect();
  const envelope::Record record = Event(kMaxMessageBytes + 1000);
  absl::Status s = publisher->ProduceRecord(record);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat("the CREATE event of public.big (commit "
                                     "LSN 0/5000, seq 3, ",
                                     record.value.size(),
                                     " bytes) cannot be "
                                     "published: ")));
  EXPECT_THAT(s.message(), HasSubstr("or set kafka.dead_letter_topic"));
  EXPECT_EQ(publisher->events_published(), 0u);
  EXPECT_EQ(tracker_.inflight_events(), 0u);
}

TEST_F(PublisherTest, FailedDeliveryStopsNamingTopicAndTransaction) {
  std::unique_ptr<Publisher> publisher = Connect();
  absl::StatusOr<kafka::BrokerFault> fault =
      kafka::ParseBrokerFault("errors 10 produce TOPIC_AUTHORIZATION_FAILED");
  ASSERT_TRUE(fault.ok()) << fault.status();
  ASSERT_TRUE(broker_->Apply(*fault).ok());
  ASSERT_TRUE(publisher->ProduceRecord(Event(100)).ok());
  AwaitAcks(*publisher);
  ASSERT_FALSE(host_.failed.ok());
  EXPECT_THAT(host_.failed.message(),
              HasSubstr("delivery to topic pgcdc.public.big failed for an "
                        "event of the transaction committed at 0/5000: "));
  EXPECT_EQ(publisher->events_acked(), 0u);
  EXPECT_THAT(metrics_->Render(), HasSubstr("pgcdc_delivery_errors_total 1"));
}

}  // namespace
}  // namespace cdc::pipeline
