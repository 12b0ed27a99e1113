#include "cdc/snapshot/snapshot_journal.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cdc/offsets/ack_tracker.h"
#include "cdc/snapshot/signal.h"

namespace cdc::snapshot {
namespace {

using Clock = SnapshotJournal::Clock;

// A snapshot segment as the pipeline makes it: one tracker transaction of
// `events` events at the slot's start position.
offsets::TxnId Segment(offsets::AckTracker& tracker, int events) {
  absl::StatusOr<offsets::TxnId> txn = tracker.Begin(0x100);
  EXPECT_TRUE(txn.ok());
  for (int i = 0; i < events; ++i) {
    EXPECT_TRUE(tracker.AddEvent(*txn, 10).ok());
  }
  EXPECT_TRUE(tracker.Commit(*txn, 0x50).ok());
  return *txn;
}

TEST(SnapshotJournalTest, RequestNamesEveryTable) {
  SnapshotJournal journal("s", "initial-0/100", {"public.a", "public.b"});
  EXPECT_EQ(journal.id(), "initial-0/100");
  const v1::SnapshotSignal& request = journal.request();
  EXPECT_EQ(request.slot(), "s");
  EXPECT_EQ(request.request().id(), "initial-0/100");
  ASSERT_EQ(request.request().tables_size(), 2);
  EXPECT_EQ(request.request().tables(1), "public.b");
}

TEST(SnapshotJournalTest, ProgressFollowsAcknowledgedSegmentsInOrder) {
  offsets::AckTracker tracker(0x50);
  SnapshotJournal journal("s", "initial-x", {"public.a", "public.b"});
  const Clock::time_point t0 = Clock::now();
  journal.Written(t0);
  EXPECT_FALSE(journal.Update(tracker, false, true, t0).has_value());

  const offsets::TxnId first = Segment(tracker, 1);
  journal.AddSegment(first, "public.a", {"10"}, 256);
  const offsets::TxnId second = Segment(tracker, 1);
  journal.AddSegment(second, "public.a", {"20"}, 512);
  // Nothing acknowledged: nothing to say, even at once.
  EXPECT_FALSE(journal.Update(tracker, false, true, t0).has_value());
  // The second acknowledged first: it waits for the first.
  ASSERT_TRUE(tracker.Ack(second, 10).ok());
  EXPECT_FALSE(journal.Update(tracker, false, true, t0).has_value());
  EXPECT_EQ(journal.pending_segments(), 2u);
  ASSERT_TRUE(tracker.Ack(first, 10).ok());
  // Changed, but not due before the interval unless asked at once.
  EXPECT_FALSE(journal.Update(tracker, false, false, t0).has_value());
  EXPECT_EQ(journal.pending_segments(), 0u);
  std::optional<v1::SnapshotSignal> progress =
      journal.Update(tracker, false, false, t0 + SnapshotJournal::kInterval);
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->slot(), "s");
  EXPECT_EQ(progress->progress().nonce(), "initial-x");
  ASSERT_EQ(progress->state().tasks_size(), 2);
  EXPECT_EQ(progress->state().tasks(0).table(), "public.a");
  EXPECT_EQ(AfterKey(progress->state().tasks(0)),
            std::vector<std::string>{"20"});
  EXPECT_EQ(progress->state().tasks(0).rows(), 512u);
  EXPECT_EQ(progress->state().tasks(1).rows(), 0u);
  journal.Written(t0 + SnapshotJournal::kInterval);
  // Nothing changed since: nothing to write.
  EXPECT_FALSE(
      journal.Update(tracker, false, true, t0 + 10 * SnapshotJournal::kInterval)
          .has_value());
}

TEST(SnapshotJournalTest, TableEndIsWrittenAtOnceAndFinalEndsTheRequest) {
  offsets::AckTracker tracker(0x50);
  SnapshotJournal journal("s", "initial-x", {"public.a", "public.b"});
  const Clock::time_point t0 = Clock::now();
  journal.Written(t0);
  const offsets::TxnId done = Segment(tracker, 1);
  journal.AddSegment(done, "public.a", {}, 300);
  ASSERT_TRUE(tracker.Ack(done, 10).ok());
  std::optional<v1::SnapshotSignal> progress =
      journal.Update(tracker, false, false, t0);
  ASSERT_TRUE(progress.has_value());
  ASSERT_EQ(progress->state().tasks_size(), 1);
  EXPECT_EQ(progress->state().tasks(0).table(), "public.b");
  // Not written (the write failed): the next update says it again.
  EXPECT_TRUE(journal.Update(tracker, false, true, t0).has_value());

  progress = journal.Update(tracker, /*final=*/true, true, t0);
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->state().tasks_size(), 0);
  ASSERT_EQ(progress->state().finished_size(), 1);
  EXPECT_EQ(progress->state().finished(0), "initial-x");
}

}  // namespace
}  // namespace cdc::snapshot
