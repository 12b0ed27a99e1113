#include "cdc/pipeline/stream_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace cdc::pipeline {
namespace {

using ::testing::HasSubstr;

class StreamReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pgcdc-replay-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { EXPECT_EQ(rmdir(dir_.c_str()), 0); }

  StreamReplay Make(bool streaming, size_t budget = 1 << 20) {
    return StreamReplay(StreamSpool::Options{dir_, budget}, streaming,
                        metrics_.get());
  }
  static pg::StreamCommitMessage Commit(pg::TransactionId xid) {
    pg::StreamCommitMessage commit;
    commit.xid = xid;
    commit.commit_lsn = 0x100;
    commit.end_lsn = 0x108;
    return commit;
  }
  // Replays what is left and ends the replay: the payloads, in order.
  static std::vector<std::string> ReplayAll(StreamReplay& replay) {
    std::vector<std::string> out;
    for (;;) {
      absl::StatusOr<std::optional<SpooledTxn::Entry>> e = replay.Next();
      EXPECT_TRUE(e.ok()) << e.status();
      if (!e.ok() || !e->has_value()) break;
      out.emplace_back((*e)->payload);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<metrics::Metrics> metrics_ =
      metrics::Metrics::Create("").value();
};

TEST_F(StreamReplayTest, CommittedStreamIsReplayedInOrder) {
  StreamReplay replay = Make(true);
  EXPECT_TRUE(replay.CheckDirectory().ok());
  ASSERT_TRUE(replay.Control(pg::StreamStartMessage{7, true}, false).ok());
  EXPECT_TRUE(replay.in_stream());
  ASSERT_TRUE(replay.Append(7, 0x10, "a").ok());
  ASSERT_TRUE(replay.Append(8, 0x20, "b").ok());
  ASSERT_TRUE(replay.Control(pg::StreamStopMessage{}, false).ok());
  EXPECT_FALSE(replay.in_stream());
  ASSERT_TRUE(replay.Control(pg::StreamStartMessage{7, false}, false).ok());
  ASSERT_TRUE(replay.Append(7, 0x30, "c").ok());
  ASSERT_TRUE(replay.Control(pg::StreamStopMessage{}, false).ok());

  absl::StatusOr<std::unique_ptr<SpooledTxn>> txn =
      replay.Control(Commit(7), false);
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_NE(*txn, nullptr);
  EXPECT_EQ((*txn)->messages(), 3u);
  EXPECT_FALSE(replay.replaying());
  replay.StartReplay(*std::move(txn), Commit(7));
  EXPECT_TRUE(replay.replaying());
  EXPECT_EQ(ReplayAll(replay), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(replay.EndReplay(), 0x108u);
  EXPECT_FALSE(replay.replaying());
  EXPECT_THAT(metrics_->Render(),
              HasSubstr("pgcdc_streamed_transactions_total 1"));
}

TEST_F(StreamReplayTest, AbortOfASubtransactionDropsItsPart) {
  StreamReplay replay = Make(true);
  ASSERT_TRUE(replay.Control(pg::StreamStartMessage{7, true}, false).ok());
  ASSERT_TRUE(replay.Append(7, 0x10, "a").ok());
  ASSERT_TRUE(replay.Append(9, 0x20, "sub").ok());
  ASSERT_TRUE(replay.Control(pg::StreamStopMessage{}, false).ok());
  ASSERT_TRUE(replay.Control(pg::StreamAbortMessage{7, 9}, false).ok());
  absl::StatusOr<std::unique_ptr<SpooledTxn>> txn =
      replay.Control(Commit(7), false);
  ASSERT_TRUE(txn.ok());
  replay.StartReplay(*std::move(txn), Commit(7));
  EXPECT_EQ(ReplayAll(replay), (std::vector<std::string>{"a"}));
}

TEST_F(StreamReplayTest, ControlOutOfOrderIsDataLoss) {
  StreamReplay off = Make(false);
  EXPECT_EQ(
      off.Control(pg::StreamStartMessage{7, true}, false).status(),
      absl::DataLossError("Stream Start although streaming was not asked for"));
  EXPECT_TRUE(off.CheckDirectory().ok());  // not checked when not streaming

  StreamReplay replay = Make(true);
  EXPECT_EQ(replay.Control(pg::StreamStartMessage{7, true}, true).status(),
            absl::DataLossError(
                "Stream Start of transaction 7 inside a transaction"));
  EXPECT_EQ(replay.Control(pg::StreamStopMessage{}, false).status(),
            absl::DataLossError("Stream Stop outside a stream"));
  EXPECT_EQ(replay.Control(Commit(7), true).status(),
            absl::DataLossError("Stream Commit inside a transaction"));
  ASSERT_TRUE(replay.Control(pg::StreamStartMessage{7, true}, false).ok());
  EXPECT_EQ(replay.Control(pg::StreamStartMessage{8, true}, false).status(),
            absl::DataLossError(
                "Stream Start of transaction 8 inside another stream"));
  EXPECT_EQ(replay.Control(pg::StreamAbortMessage{7, 7}, false).status(),
            absl::DataLossError("Stream Abort inside a stream"));
}

TEST_F(StreamReplayTest, ResetForgetsStreamsAndReplay) {
  StreamReplay replay = Make(true);
  ASSERT_TRUE(replay.Control(pg::StreamStartMessage{7, true}, false).ok());
  ASSERT_TRUE(replay.Append(7, 0x10, "a").ok());
  replay.Reset();
  EXPECT_FALSE(replay.in_stream());
  EXPECT_FALSE(replay.replaying());
  // The server sends transaction 7 again from its start.
  absl::StatusOr<std::unique_ptr<SpooledTxn>> txn =
      replay.Control(Commit(7), false);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ((*txn)->messages(), 0u);
}

}  // namespace
}  // namespace cdc::pipeline
