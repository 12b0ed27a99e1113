// Events the broker cannot take (here: larger than the producer's
// message.max.bytes): without a dead-letter topic pgcdc stops, naming the
// event and confirming nothing from its transaction on; with one, the event
// goes there as a cdc.v1.DeadLetter and the stream goes on.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/kafka/topic_reader.h"
#include "cdc/v1/dead_letter.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"
#include "tests/integration/harness/http.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(PgcdcTest, OversizedEventStopsWithoutADeadLetterTopic) {
  Sql("CREATE TABLE docs (id int PRIMARY KEY, body text)");
  std::string config = WriteConfig({"public.docs"});
  Subprocess p = StartPgcdc(config);
  Sql("INSERT INTO docs VALUES (1, 'small')");
  WaitCaughtUp();
  Sql(absl::StrCat("INSERT INTO docs VALUES (2, ", kHugeValue, ")"));
  // Just past the commit record of the transaction that cannot be sent.
  const Lsn past_commit = WalLsn();
  Sql("INSERT INTO docs VALUES (3, 'after')");
  std::optional<int> code = p.Wait(30000);
  ASSERT_TRUE(code.has_value()) << "pgcdc did not stop";
  EXPECT_EQ(*code, 1);
  const std::string log = p.ReadLog();
  EXPECT_THAT(log, HasSubstr("the CREATE event of public.docs (commit LSN"));
  EXPECT_THAT(log, HasSubstr("set kafka.dead_letter_topic"));
  // Neither that transaction nor anything after it was confirmed. (The
  // position may move into its WAL before its commit: keepalives confirm
  // what the server sent, and it is sent again from its start.)
  EXPECT_LT(*cluster_->ConfirmedFlush(db_, slot_), past_commit);
  EXPECT_EQ(ReadTopic("public.docs").size(), 1u);
}

TEST_F(PgcdcTest, OversizedEventGoesToTheDeadLetterTopic) {
  Sql("CREATE TABLE docs (id int PRIMARY KEY, body text)");
  const int metrics_port = FreePort();
  std::string config =
      WriteConfig({"public.docs"}, "  dead_letter_topic: test.dead\n",
                  MetricsOn(metrics_port));
  Subprocess p = StartPgcdc(config);
  Sql(
      absl::StrCat("BEGIN; INSERT INTO docs VALUES (1, 'before'); "
                   "INSERT INTO docs VALUES (2, ",
                   kHugeValue,
                   "); INSERT INTO docs VALUES (3, 'same transaction'); "
                   "COMMIT"));
  Sql("INSERT INTO docs VALUES (4, 'after')");
  Sql("UPDATE docs SET body = 'small now' WHERE id = 2");
  WaitCaughtUp();  // the slot moves on past the refused event
  EXPECT_EQ(MetricValue(HttpGet(metrics_port, "/metrics"),
                        "pgcdc_dead_letters_total{table=\"public.docs\"}"),
            1);
  StopPgcdc(p);
  EXPECT_THAT(p.ReadLog(), HasSubstr("sent to the dead-letter topic "
                                     "test.dead instead"));

  std::vector<ReadEvent> events = ReadTopic("public.docs");
  ASSERT_EQ(events.size(), 4u);  // all but the refused one
  std::map<int64_t, std::string> bodies;
  for (const ReadEvent& e : events) {
    bodies[e.key->columns(0).value().int_value()] =
        e.event.after().columns(1).value().text();
  }
  EXPECT_EQ(bodies, (std::map<int64_t, std::string>{{1, "before"},
                                                    {2, "small now"},
                                                    {3, "same transaction"},
                                                    {4, "after"}}));

  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(broker_->bootstrap_servers(), "test.dead",
                               /*from_beginning=*/true);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> letters =
      (*reader)->ReadToEnd();
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 1u);
  v1::DeadLetter letter;
  ASSERT_TRUE(letter.ParseFromString(letters->front().value));
  EXPECT_EQ(letter.topic(), "test.public.docs");
  EXPECT_THAT(letter.error(), HasSubstr("message.max.bytes"));
  EXPECT_EQ(letter.op(), v1::CREATE);
  EXPECT_EQ(letter.source().table(), "docs");
  EXPECT_EQ(letter.source().seq(), 1u);  // the second event of its transaction
  for (const ReadEvent& e : events) {
    if (e.key->columns(0).value().int_value() == 3) {
      EXPECT_EQ(letter.source().commit_lsn(), e.event.source().commit_lsn())
          << "the same transaction as row 3";
    }
  }
  // The event's size: the 1,536,000-character value (48000 md5 digests)
  // and an envelope whose exact size is not this test's business.
  EXPECT_GT(letter.value_bytes(), 48000u * 32u);
  EXPECT_LT(letter.value_bytes(), 48000u * 32u + 1024u);
  EXPECT_TRUE(letter.value().empty());  // too large to carry
  // Keyed like the event: the consumer can find the row.
  ASSERT_TRUE(letters->front().key.has_value());
  v1::Row key;
  ASSERT_TRUE(key.ParseFromString(*letters->front().key));
  EXPECT_EQ(key.columns(0).value().int_value(), 2);
}

}  // namespace
}  // namespace cdc::testing
