#include "cdc/kafka/broker_faults.h"

#include <gtest/gtest.h>

#include "cdc/kafka/dev_broker.h"

namespace cdc::kafka {
namespace {

TEST(BrokerFaultTest, ParsesDownUpAndRtt) {
  absl::StatusOr<BrokerFault> f = ParseBrokerFault("down");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kind, BrokerFault::Kind::kDown);
  EXPECT_EQ(f->broker, 0);
  EXPECT_EQ(f->Describe(), "every broker down");

  f = ParseBrokerFault("  UP 2\r\n");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kind, BrokerFault::Kind::kUp);
  EXPECT_EQ(f->broker, 2);
  EXPECT_EQ(f->Describe(), "broker 2 up");

  f = ParseBrokerFault("rtt 250 1");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kind, BrokerFault::Kind::kRtt);
  EXPECT_EQ(f->rtt_ms, 250);
  EXPECT_EQ(f->broker, 1);
}

TEST(BrokerFaultTest, ParsesErrorsByNameWithOrWithoutPrefix) {
  absl::StatusOr<BrokerFault> f =
      ParseBrokerFault("errors 5 produce NOT_LEADER_FOR_PARTITION");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kind, BrokerFault::Kind::kErrors);
  EXPECT_EQ(f->count, 5);
  EXPECT_EQ(f->api_key, 0);
  EXPECT_EQ(f->error_code, 6);  // Kafka's NOT_LEADER_FOR_PARTITION
  f = ParseBrokerFault("errors 1 3 rd_kafka_resp_err_msg_size_too_large");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->api_key, 3);
  EXPECT_EQ(f->error_code, 10);
  EXPECT_EQ(f->error_name, "MSG_SIZE_TOO_LARGE");
}

TEST(BrokerFaultTest, MalformedCommandsSayWhatWasExpected) {
  struct Case {
    const char* line;
    const char* says;
  };
  for (Case c :
       {Case{"", "expected \"down [BROKER]\""},
        Case{"explode", "expected \"down [BROKER]\""},
        Case{"down 0", "broker id from 1 to 64"},
        Case{"down 1 2", "broker id from 1 to 64"},
        Case{"rtt", "milliseconds from 0 to 600000"},
        Case{"rtt -5", "milliseconds from 0 to 600000"},
        Case{"rtt 5 x", "milliseconds from 0 to 600000"},
        Case{"errors 0 produce NOT_LEADER_FOR_PARTITION", "COUNT from 1"},
        Case{"errors 2 consume NOT_LEADER_FOR_PARTITION",
             "produce, fetch, metadata or a number"},
        Case{"errors 2 produce NO_SUCH_THING", "unknown Kafka error"},
        // Local (negative) librdkafka codes are not broker errors.
        Case{"errors 2 produce _TRANSPORT", "unknown Kafka error"}}) {
    SCOPED_TRACE(c.line);
    absl::StatusOr<BrokerFault> f = ParseBrokerFault(c.line);
    ASSERT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(f.status().message().find(c.says), std::string::npos)
        << f.status();
  }
}

TEST(BrokerFaultTest, ApplyRefusesABrokerThatDoesNotExist) {
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(2);
  ASSERT_TRUE(broker.ok()) << broker.status();
  absl::StatusOr<BrokerFault> f = ParseBrokerFault("down 3");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*broker)->Apply(*f).code(), absl::StatusCode::kInvalidArgument);
  for (const char* line : {"down 2", "up", "rtt 10", "rtt 0 1",
                           "errors 2 produce NOT_LEADER_FOR_PARTITION"}) {
    f = ParseBrokerFault(line);
    ASSERT_TRUE(f.ok()) << line;
    EXPECT_TRUE((*broker)->Apply(*f).ok()) << line;
  }
}

}  // namespace
}  // namespace cdc::kafka
