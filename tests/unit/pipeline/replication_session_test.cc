#include "cdc/pipeline/replication_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>

namespace cdc::pipeline {
namespace {

using std::chrono::milliseconds;
using Clock = ReplicationSession::Clock;

class ReplicationSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_ = std::make_unique<ReplicationSession>(metrics_.get());
    session_->set_status_interval(milliseconds(1000));
    session_->SetStart(0x100);
  }

  std::unique_ptr<metrics::Metrics> metrics_ =
      metrics::Metrics::Create("").value();
  std::unique_ptr<ReplicationSession> session_;
};

TEST_F(ReplicationSessionTest, StartsFromConfirmedNeverBelowTheFloor) {
  EXPECT_FALSE(session_->connected());
  EXPECT_EQ(session_->StartPosition(0x80), 0x100u);
  EXPECT_EQ(session_->StartPosition(0x180), 0x180u);
  // Another instance moved the slot on.
  EXPECT_FALSE(session_->RaiseFloor(0x100));
  EXPECT_FALSE(session_->RaiseFloor(0x90));
  EXPECT_TRUE(session_->RaiseFloor(0x200));
  EXPECT_EQ(session_->floor(), 0x200u);
  EXPECT_EQ(session_->StartPosition(0x180), 0x200u);
}

TEST_F(ReplicationSessionTest, StatusReportsConfirmedAtLeastTheFloor) {
  const Clock::time_point t0 = Clock::now();
  std::optional<pg::StandbyStatusUpdate> update =
      session_->DueStatus(0x80, /*force=*/true, false, t0);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->flushed, 0x100u);
  EXPECT_EQ(update->applied, 0x100u);
  EXPECT_EQ(update->written, 0x100u);
  EXPECT_FALSE(update->reply_requested);
  // Written: what was received, when that is further.
  session_->Received(0x300);
  session_->Received(0x250);  // never backwards
  EXPECT_EQ(session_->received_lsn(), 0x300u);
  update = session_->DueStatus(0x180, true, true, t0);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->written, 0x300u);
  EXPECT_EQ(update->flushed, 0x180u);
  EXPECT_TRUE(update->reply_requested);
}

TEST_F(ReplicationSessionTest, StatusDueWhenMovedAfterSpacingOrAtInterval) {
  const Clock::time_point t0 = Clock::now();
  std::optional<pg::StandbyStatusUpdate> update =
      session_->DueStatus(0x100, true, false, t0);
  ASSERT_TRUE(update.has_value());
  session_->StatusSent(*update, t0);
  // Not moved: nothing before the interval.
  EXPECT_FALSE(session_->DueStatus(0x100, false, false, t0 + milliseconds(500))
                   .has_value());
  EXPECT_TRUE(session_->DueStatus(0x100, false, false, t0 + milliseconds(1000))
                  .has_value());
  // Moved: not within 20 ms of the last update, at once after.
  EXPECT_FALSE(session_->DueStatus(0x180, false, false, t0 + milliseconds(10))
                   .has_value());
  update = session_->DueStatus(0x180, false, false, t0 + milliseconds(20));
  ASSERT_TRUE(update.has_value());
  session_->StatusSent(*update, t0 + milliseconds(20));
  EXPECT_FALSE(session_->DueStatus(0x180, false, false, t0 + milliseconds(100))
                   .has_value());
}

TEST_F(ReplicationSessionTest, SilencePingsAtHalfTheTimeoutAndIsLostAtIt) {
  const Clock::time_point t0 = Clock::now();
  session_->NotReading();  // heard "now"
  const Clock::time_point heard = Clock::now();
  EXPECT_EQ(session_->CheckSilence(milliseconds(0), t0 + std::chrono::hours(1)),
            ReplicationSession::Silence::kFine);
  EXPECT_EQ(session_->CheckSilence(milliseconds(1000), heard),
            ReplicationSession::Silence::kFine);
  EXPECT_EQ(
      session_->CheckSilence(milliseconds(1000), heard + milliseconds(500)),
      ReplicationSession::Silence::kPing);
  EXPECT_EQ(
      session_->CheckSilence(milliseconds(1000), heard + milliseconds(1000)),
      ReplicationSession::Silence::kLost);
}

}  // namespace
}  // namespace cdc::pipeline
