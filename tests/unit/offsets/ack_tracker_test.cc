#include "cdc/offsets/ack_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <random>
#include <vector>

#include "absl/status/status.h"

namespace cdc::offsets {
namespace {

// Registers a committed transaction with `events` events of `bytes` each and
// returns its id.
TxnId AddTxn(AckTracker& tracker, size_t events, Lsn end_lsn,
             size_t bytes = 10) {
  absl::StatusOr<TxnId> txn = tracker.Begin();
  EXPECT_TRUE(txn.ok()) << txn.status();
  for (size_t i = 0; i < events; ++i) {
    EXPECT_TRUE(tracker.AddEvent(*txn, bytes).ok());
  }
  EXPECT_TRUE(tracker.Commit(*txn, end_lsn).ok());
  return *txn;
}

TEST(AckTrackerTest, StartsAtStartPosition) {
  AckTracker tracker(0x1000);
  EXPECT_EQ(tracker.confirmed(), 0x1000u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
  EXPECT_EQ(tracker.inflight_events(), 0u);
  EXPECT_EQ(tracker.inflight_bytes(), 0u);
  EXPECT_FALSE(tracker.in_transaction());
  EXPECT_EQ(AckTracker().confirmed(), kInvalidLsn);
}

TEST(AckTrackerTest, SingleTransactionConfirmsAfterAllAcks) {
  AckTracker tracker(100);
  absl::StatusOr<TxnId> txn = tracker.Begin();
  ASSERT_TRUE(txn.ok());
  EXPECT_TRUE(tracker.in_transaction());
  ASSERT_TRUE(tracker.AddEvent(*txn, 30).ok());
  ASSERT_TRUE(tracker.AddEvent(*txn, 70).ok());
  EXPECT_EQ(tracker.inflight_events(), 2u);
  EXPECT_EQ(tracker.inflight_bytes(), 100u);
  ASSERT_TRUE(tracker.Commit(*txn, 200).ok());
  EXPECT_FALSE(tracker.in_transaction());
  EXPECT_EQ(tracker.confirmed(), 100u);

  ASSERT_TRUE(tracker.Ack(*txn, 70).ok());
  EXPECT_EQ(tracker.confirmed(), 100u);
  EXPECT_EQ(tracker.inflight_events(), 1u);
  EXPECT_EQ(tracker.inflight_bytes(), 30u);
  ASSERT_TRUE(tracker.Ack(*txn, 30).ok());
  EXPECT_EQ(tracker.confirmed(), 200u);
  EXPECT_EQ(tracker.inflight_events(), 0u);
  EXPECT_EQ(tracker.inflight_bytes(), 0u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
}

TEST(AckTrackerTest, IdsIncreaseByOnePerBegin) {
  AckTracker tracker;
  TxnId first = AddTxn(tracker, 0, 10);
  tracker.ObserveServerPosition(15);
  TxnId second = AddTxn(tracker, 1, 20);
  TxnId third = AddTxn(tracker, 0, 30);
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(third, second + 1);
}

TEST(AckTrackerTest, AcksBeforeCommitDoNotConfirmUntilCommit) {
  AckTracker tracker(5);
  absl::StatusOr<TxnId> txn = tracker.Begin();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(tracker.AddEvent(*txn, 1).ok());
  ASSERT_TRUE(tracker.Ack(*txn, 1).ok());
  EXPECT_EQ(tracker.confirmed(), 5u);
  ASSERT_TRUE(tracker.AddEvent(*txn, 1).ok());
  ASSERT_TRUE(tracker.Ack(*txn, 1).ok());
  EXPECT_EQ(tracker.confirmed(), 5u);
  ASSERT_TRUE(tracker.Commit(*txn, 50).ok());
  EXPECT_EQ(tracker.confirmed(), 50u);
}

TEST(AckTrackerTest, LaterTransactionAckedFirstWaitsForEarlier) {
  AckTracker tracker;
  TxnId a = AddTxn(tracker, 1, 100);
  TxnId b = AddTxn(tracker, 1, 200);
  ASSERT_TRUE(tracker.Ack(b, 10).ok());
  EXPECT_EQ(tracker.confirmed(), kInvalidLsn);
  EXPECT_EQ(tracker.pending_transactions(), 2u);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 200u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
}

TEST(AckTrackerTest, EmptyTransactionsDoNotHoldBack) {
  AckTracker tracker(10);
  AddTxn(tracker, 0, 20);
  EXPECT_EQ(tracker.confirmed(), 20u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);

  TxnId busy = AddTxn(tracker, 1, 30);
  AddTxn(tracker, 0, 40);
  AddTxn(tracker, 0, 50);
  // Empty transactions behind an unacknowledged one wait for it...
  EXPECT_EQ(tracker.confirmed(), 20u);
  ASSERT_TRUE(tracker.Ack(busy, 10).ok());
  // ...and complete with it.
  EXPECT_EQ(tracker.confirmed(), 50u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
}

TEST(AckTrackerTest, KeepaliveWithNothingPendingConfirmsAtOnce) {
  AckTracker tracker(10);
  tracker.ObserveServerPosition(500);
  EXPECT_EQ(tracker.confirmed(), 500u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
}

TEST(AckTrackerTest, KeepaliveConfirmedOnlyAfterEarlierEventsAcked) {
  AckTracker tracker;
  TxnId a = AddTxn(tracker, 2, 100);
  tracker.ObserveServerPosition(150);
  tracker.ObserveServerPosition(180);  // coalesces with the one before
  EXPECT_EQ(tracker.confirmed(), kInvalidLsn);
  EXPECT_EQ(tracker.pending_transactions(), 1u);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed(), kInvalidLsn);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 180u);
}

TEST(AckTrackerTest, KeepaliveBetweenTransactionsOnlyCoversEarlierOnes) {
  AckTracker tracker;
  TxnId a = AddTxn(tracker, 1, 100);
  tracker.ObserveServerPosition(150);
  TxnId b = AddTxn(tracker, 1, 200);
  tracker.ObserveServerPosition(250);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 150u);
  ASSERT_TRUE(tracker.Ack(b, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 250u);
}

TEST(AckTrackerTest, KeepaliveIgnoredMidTransaction) {
  AckTracker tracker;
  absl::StatusOr<TxnId> txn = tracker.Begin();
  ASSERT_TRUE(txn.ok());
  tracker.ObserveServerPosition(1000);
  EXPECT_EQ(tracker.confirmed(), kInvalidLsn);
  ASSERT_TRUE(tracker.AddEvent(*txn, 1).ok());
  tracker.ObserveServerPosition(2000);
  ASSERT_TRUE(tracker.Commit(*txn, 300).ok());
  ASSERT_TRUE(tracker.Ack(*txn, 1).ok());
  // Neither keepalive counted: only the commit's end is confirmed.
  EXPECT_EQ(tracker.confirmed(), 300u);

  // An empty open transaction ignores it too.
  txn = tracker.Begin();
  ASSERT_TRUE(txn.ok());
  tracker.ObserveServerPosition(5000);
  EXPECT_EQ(tracker.confirmed(), 300u);
  ASSERT_TRUE(tracker.Commit(*txn, 400).ok());
  EXPECT_EQ(tracker.confirmed(), 400u);
}

TEST(AckTrackerTest, NeverDecreases) {
  AckTracker tracker(1000);
  // Positions below the start (e.g. transactions resent after a restart) and
  // keepalives that go backwards leave the confirmed position where it is.
  TxnId a = AddTxn(tracker, 1, 500);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 1000u);
  tracker.ObserveServerPosition(2000);
  EXPECT_EQ(tracker.confirmed(), 2000u);
  tracker.ObserveServerPosition(1500);
  EXPECT_EQ(tracker.confirmed(), 2000u);
  AddTxn(tracker, 0, 1800);
  EXPECT_EQ(tracker.confirmed(), 2000u);
}

TEST(AckTrackerTest, UnackedEventHoldsConfirmedForever) {
  AckTracker tracker;
  TxnId first = AddTxn(tracker, 1, 100);
  ASSERT_TRUE(tracker.Ack(first, 10).ok());
  ASSERT_EQ(tracker.confirmed(), 100u);

  TxnId stuck = AddTxn(tracker, 3, 200);
  ASSERT_TRUE(tracker.Ack(stuck, 10).ok());
  ASSERT_TRUE(tracker.Ack(stuck, 10).ok());  // one of three never acked
  Lsn end = 200;
  for (int i = 0; i < 1000; ++i) {
    end += 100;
    TxnId later = AddTxn(tracker, 2, end);
    ASSERT_TRUE(tracker.Ack(later, 10).ok());
    ASSERT_TRUE(tracker.Ack(later, 10).ok());
    tracker.ObserveServerPosition(end + 50);
    ASSERT_EQ(tracker.confirmed(), 100u);
  }
  EXPECT_EQ(tracker.pending_transactions(), 1001u);
  EXPECT_EQ(tracker.inflight_events(), 1u);
  EXPECT_EQ(tracker.inflight_bytes(), 10u);

  // The last ack releases the whole backlog, keepalive included.
  ASSERT_TRUE(tracker.Ack(stuck, 10).ok());
  EXPECT_EQ(tracker.confirmed(), end + 50);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
}

TEST(AckTrackerTest, BeginWhileOpenFails) {
  AckTracker tracker;
  ASSERT_TRUE(tracker.Begin().ok());
  EXPECT_EQ(tracker.Begin().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AckTrackerTest, AddEventAndCommitNeedTheOpenTransaction) {
  AckTracker tracker;
  // Nothing begun yet.
  EXPECT_EQ(tracker.AddEvent(1, 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Commit(1, 10).code(), absl::StatusCode::kNotFound);

  TxnId a = AddTxn(tracker, 1, 10);
  // `a` is committed and none is open.
  EXPECT_EQ(tracker.AddEvent(a, 1).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tracker.Commit(a, 10).code(),
            absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<TxnId> b = tracker.Begin();
  ASSERT_TRUE(b.ok());
  // Another transaction is open.
  EXPECT_EQ(tracker.AddEvent(a, 1).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tracker.Commit(a, 10).code(),
            absl::StatusCode::kFailedPrecondition);
  // An id never handed out.
  EXPECT_EQ(tracker.AddEvent(*b + 1, 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Commit(*b + 1, 10).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.AddEvent(0, 1).code(), absl::StatusCode::kNotFound);

  // Failed calls changed nothing.
  EXPECT_EQ(tracker.inflight_events(), 1u);
  EXPECT_EQ(tracker.inflight_bytes(), 10u);
  EXPECT_TRUE(tracker.in_transaction());
}

TEST(AckTrackerTest, AckOfUnknownTransactionIsNotFound) {
  AckTracker tracker;
  EXPECT_EQ(tracker.Ack(1, 1).code(), absl::StatusCode::kNotFound);
  TxnId a = AddTxn(tracker, 1, 10);
  EXPECT_EQ(tracker.Ack(a + 1, 10).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Ack(0, 10).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  // Confirmed and gone.
  EXPECT_EQ(tracker.Ack(a, 10).code(), absl::StatusCode::kNotFound);
}

TEST(AckTrackerTest, MoreAcksThanEventsFails) {
  AckTracker tracker;
  TxnId a = AddTxn(tracker, 1, 10);
  TxnId b = AddTxn(tracker, 1, 20);
  ASSERT_TRUE(tracker.Ack(b, 10).ok());
  // `b` is still pending (behind `a`) but has nothing left to acknowledge.
  EXPECT_EQ(tracker.Ack(b, 10).code(), absl::StatusCode::kFailedPrecondition);
  // More bytes than were added.
  EXPECT_EQ(tracker.Ack(a, 11).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tracker.inflight_events(), 1u);
  EXPECT_EQ(tracker.inflight_bytes(), 10u);
  EXPECT_EQ(tracker.confirmed(), kInvalidLsn);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 20u);
}

TEST(AckTrackerTest, EmptyOpenTransactionHasNothingToAck) {
  AckTracker tracker;
  absl::StatusOr<TxnId> txn = tracker.Begin();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(tracker.Ack(*txn, 0).code(), absl::StatusCode::kFailedPrecondition);
}

// Acknowledgements from different partitions arrive in any order. Whatever the
// order, after every ack the confirmed position must be the end of the
// longest fully acknowledged prefix of transactions, computed here without
// the tracker.
TEST(AckTrackerTest, EveryAckOrderConfirmsTheAcknowledgedPrefix) {
  constexpr Lsn kStart = 50;
  // Transaction sizes (one empty one in the middle) and their end positions;
  // a keepalive at 700 follows the last one. 7 events: 5040 orders.
  const std::vector<size_t> sizes = {1, 2, 0, 1, 3};
  const std::vector<Lsn> ends = {100, 200, 300, 400, 500};
  constexpr Lsn kKeepalive = 700;

  std::vector<size_t> event_txn;  // index into `sizes` of each event
  for (size_t t = 0; t < sizes.size(); ++t) {
    event_txn.insert(event_txn.end(), sizes[t], t);
  }
  std::vector<size_t> order(event_txn.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;

  int permutations = 0;
  do {
    ++permutations;
    AckTracker tracker(kStart);
    std::vector<TxnId> ids;
    for (size_t t = 0; t < sizes.size(); ++t) {
      ids.push_back(AddTxn(tracker, sizes[t], ends[t], /*bytes=*/t + 1));
    }
    tracker.ObserveServerPosition(kKeepalive);

    std::vector<size_t> unacked = sizes;
    // Before any ack: the leading transactions with no events are complete.
    auto expected = [&] {
      Lsn lsn = kStart;
      for (size_t t = 0; t < sizes.size(); ++t) {
        if (unacked[t] != 0) return lsn;
        lsn = ends[t];
      }
      return kKeepalive;
    };
    ASSERT_EQ(tracker.confirmed(), expected());
    Lsn previous = tracker.confirmed();
    for (size_t e : order) {
      const size_t t = event_txn[e];
      ASSERT_TRUE(tracker.Ack(ids[t], t + 1).ok());
      --unacked[t];
      ASSERT_EQ(tracker.confirmed(), expected());
      ASSERT_GE(tracker.confirmed(), previous);
      previous = tracker.confirmed();
    }
    ASSERT_EQ(tracker.confirmed(), kKeepalive);
    ASSERT_EQ(tracker.inflight_events(), 0u);
    ASSERT_EQ(tracker.inflight_bytes(), 0u);
    ASSERT_EQ(tracker.pending_transactions(), 0u);
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 5040);
}

// A long random interleaving of begins, events, commits, keepalives and
// out-of-order acks, checked after every step against a straightforward model
// that keeps keepalives as entries of their own.
TEST(AckTrackerTest, RandomInterleavingMatchesModel) {
  struct ModelEntry {
    Lsn end = kInvalidLsn;
    size_t unacked = 0;
    bool committed = false;
  };
  struct InFlight {
    TxnId txn;
    size_t model_index;
    size_t bytes;
  };
  constexpr Lsn kStart = 1000;
  std::mt19937 rng(12345);
  AckTracker tracker(kStart);
  std::vector<ModelEntry> model;
  std::vector<InFlight> in_flight;
  size_t inflight_bytes = 0;
  Lsn lsn = kStart;
  bool open = false;
  TxnId open_id = 0;

  auto expected = [&] {
    Lsn confirmed = kStart;
    for (const ModelEntry& entry : model) {
      if (!entry.committed || entry.unacked != 0) break;
      confirmed = std::max(confirmed, entry.end);
    }
    return confirmed;
  };

  Lsn previous = tracker.confirmed();
  for (int step = 0; step < 100000; ++step) {
    const unsigned action = rng() % 10;
    if (action < 2 && !open) {
      absl::StatusOr<TxnId> txn = tracker.Begin();
      ASSERT_TRUE(txn.ok());
      open = true;
      open_id = *txn;
      model.push_back({});
    } else if (action < 5 && open) {
      const size_t bytes = rng() % 100;
      ASSERT_TRUE(tracker.AddEvent(open_id, bytes).ok());
      ++model.back().unacked;
      in_flight.push_back({open_id, model.size() - 1, bytes});
      inflight_bytes += bytes;
    } else if (action < 6 && open) {
      lsn += 1 + rng() % 100;
      ASSERT_TRUE(tracker.Commit(open_id, lsn).ok());
      model.back().end = lsn;
      model.back().committed = true;
      open = false;
    } else if (action < 7) {
      lsn += rng() % 50;
      tracker.ObserveServerPosition(lsn);
      if (!open) model.push_back({lsn, 0, true});
    } else if (!in_flight.empty()) {
      // Mostly recent events (one partition racing another), sometimes one
      // from far behind.
      const size_t pick =
          rng() % 4 == 0 ? rng() % in_flight.size()
                         : in_flight.size() - 1 -
                               rng() % std::min<size_t>(3, in_flight.size());
      const InFlight event = in_flight[pick];
      in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(pick));
      ASSERT_TRUE(tracker.Ack(event.txn, event.bytes).ok());
      --model[event.model_index].unacked;
      inflight_bytes -= event.bytes;
    }
    ASSERT_EQ(tracker.confirmed(), expected()) << "step " << step;
    ASSERT_GE(tracker.confirmed(), previous);
    ASSERT_EQ(tracker.inflight_events(), in_flight.size());
    ASSERT_EQ(tracker.inflight_bytes(), inflight_bytes);
    ASSERT_EQ(tracker.in_transaction(), open);
    previous = tracker.confirmed();
  }
  EXPECT_GT(tracker.confirmed(), kStart);
}


TEST(AckTrackerTest, AHeldTransactionStopsTheConfirmedPositionUntilReleased) {
  AckTracker tracker(100);
  TxnId held = *tracker.Begin();
  ASSERT_TRUE(tracker.AddEvent(held, 10).ok());
  ASSERT_TRUE(tracker.Hold(held).ok());
  ASSERT_TRUE(tracker.Commit(held, 200).ok());
  TxnId next = *tracker.Begin();
  ASSERT_TRUE(tracker.Commit(next, 300).ok());
  EXPECT_EQ(tracker.Unacked(held), 1u);
  ASSERT_TRUE(tracker.Ack(held, 10).ok());
  EXPECT_EQ(tracker.Unacked(held), 0u);
  EXPECT_EQ(tracker.confirmed(), 100u);  // acknowledged, but held
  ASSERT_TRUE(tracker.Release(held).ok());
  EXPECT_EQ(tracker.confirmed(), 300u);
  EXPECT_EQ(tracker.Release(held).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Hold(held).code(), absl::StatusCode::kNotFound);
}

TEST(AckTrackerTest, AbandonHeldKeepsEverythingFromTheHoldUnconfirmed) {
  AckTracker tracker(100);
  TxnId before = *tracker.Begin();
  ASSERT_TRUE(tracker.AddEvent(before, 1).ok());
  ASSERT_TRUE(tracker.Commit(before, 150).ok());
  TxnId held = *tracker.Begin();
  ASSERT_TRUE(tracker.Hold(held).ok());
  ASSERT_TRUE(tracker.Commit(held, 200).ok());
  TxnId after = *tracker.Begin();
  ASSERT_TRUE(tracker.AddEvent(after, 1).ok());
  ASSERT_TRUE(tracker.Commit(after, 300).ok());
  tracker.AbandonHeld();
  ASSERT_TRUE(tracker.Ack(after, 1).ok());
  ASSERT_TRUE(tracker.Ack(before, 1).ok());
  // The transaction before the hold still counts; nothing from it on does.
  EXPECT_EQ(tracker.confirmed(), 150u);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
}

}  // namespace
}  // namespace cdc::offsets
