// Which position pgcdc confirms after each kind of message, pinned by
// stopping right there and starting again: one byte too far and the server
// skips the next transaction (see pg::ConfirmPositionOf).
//
// The transaction that cannot be published (an event larger than the
// producer's message.max.bytes) makes pgcdc stop exactly after confirming
// whatever came before it; the second run, with a dead-letter topic, must
// then receive it.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/kafka/topic_reader.h"
#include "cdc/v1/dead_letter.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;

class ConfirmPositionTest : public PgcdcTest {
 protected:
  // Runs `transaction` (which must insert row 2 of docs with kHugeValue and
  // write, last, a non-transactional message pgcdc acts on) under `config`:
  // pgcdc stops on row 2 (exit 1). Then starts again with a dead-letter
  // topic and expects row 2 there and row 3, committed after it, on the
  // table's topic.
  void StopOnTheCommitRightAfterAMessage(const std::string& config,
                                         const std::string& transaction) {
    Subprocess first = StartPgcdc(config);
    Sql("INSERT INTO docs VALUES (1, 'before')");
    WaitCaughtUp();
    // The message's record is the last before the commit record: nothing
    // else in this session writes in between.
    Sql(transaction);
    Sql("INSERT INTO docs VALUES (3, 'after')");
    std::optional<int> code = first.Wait(30000);
    ASSERT_TRUE(code.has_value()) << "pgcdc did not stop";
    ASSERT_EQ(*code, 1) << first.ReadLog();
    ASSERT_THAT(first.ReadLog(),
                HasSubstr("the CREATE event of public.docs (commit LSN"));

    EditConfig(config, "kafka:\n", "kafka:\n  dead_letter_topic: test.dead\n");
    Subprocess second = StartPgcdc(config);
    WaitCaughtUp();
    StopPgcdc(second);

    absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
        kafka::TopicReader::Open(broker_->bootstrap_servers(), "test.dead",
                                 /*from_beginning=*/true);
    ASSERT_TRUE(reader.ok()) << reader.status();
    absl::StatusOr<std::vector<kafka::ConsumedMessage>> letters =
        (*reader)->ReadToEnd();
    ASSERT_TRUE(letters.ok()) << letters.status();
    ASSERT_EQ(letters->size(), 1u)
        << "the transaction committed right after the message was skipped: "
        << second.ReadLog();
    v1::DeadLetter letter;
    ASSERT_TRUE(letter.ParseFromString(letters->front().value));
    EXPECT_EQ(letter.source().table(), "docs");

    std::vector<int64_t> ids;
    for (const ReadEvent& e : ReadTopic("public.docs")) {
      ids.push_back(e.key->columns(0).value().int_value());
    }
    EXPECT_THAT(ids, ::testing::ElementsAre(1, 3));
  }
};

// The case from the field: an outbox message written just before the commit
// of a transaction whose row cannot be published.
TEST_F(ConfirmPositionTest, PublishedMessageRightBeforeACommit) {
  Sql("CREATE TABLE docs (id int PRIMARY KEY, body text)");
  const std::string config =
      WriteConfig({"public.docs"}, "", "messages:\n  prefixes: [outbox]\n");
  StopOnTheCommitRightAfterAMessage(
      config, absl::StrCat("BEGIN; INSERT INTO docs VALUES (2, ", kHugeValue,
                           "); SELECT pg_logical_emit_message(false, 'outbox', "
                           "'hello'); COMMIT"));
}

// pgcdc's own snapshot signals are the last records before a stop (the
// end of an incremental snapshot, with nothing written after it), and the
// first thing written after the restart is a message: it starts exactly
// where the last signal's record ends, and must be published.
TEST_F(ConfirmPositionTest, MessageRightAfterPgcdcsOwnSignals) {
  Sql("CREATE TABLE docs (id int PRIMARY KEY, body text)");
  Sql("INSERT INTO docs SELECT g, 'row' FROM generate_series(1, 10) g");
  const std::string config =
      WriteConfig({"public.docs"}, "", "messages:\n  prefixes: [outbox]\n");
  Subprocess first = StartPgcdc(config);
  WaitCaughtUp();
  std::string output;
  ASSERT_EQ(RunPgcdc({"snapshot", "--config", config, "--table", "public.docs"},
                     &output),
            0)
      << output;
  // Done, and everything written so far confirmed: the signals were last.
  ASSERT_TRUE(WaitForLog(first, "public.docs read", 30000)) << first.ReadLog();
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
            // (Up to a page header apart: a record that ends a WAL page
            // ends where the next page's header begins.)
            "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), "
            "confirmed_flush_lsn) BETWEEN 0 AND 40 "
            "FROM pg_replication_slots WHERE slot_name = '",
            slot_, "'"));
        return !rows.empty() && rows[0][0] == std::optional<std::string>("t");
      },
      30000))
      << first.ReadLog();
  StopPgcdc(first);
  Subprocess second = StartPgcdc(config);
  Sql("SELECT pg_logical_emit_message(false, 'outbox', 'first after restart')");
  WaitCaughtUp();
  StopPgcdc(second);
  absl::StatusOr<std::vector<ReadEvent>> messages =
      ReadAll(broker_->bootstrap_servers(), "test.messages");
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), 1u) << second.ReadLog();
  EXPECT_EQ(messages->front().event.message().content(), "first after restart");
}

}  // namespace
}  // namespace cdc::testing
