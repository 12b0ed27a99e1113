#include "cdc/offsets/ack_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <vector>

#include "absl/status/status.h"

namespace cdc::offsets {
namespace {

// Registers a committed transaction with `events` events of `bytes` each and
// returns its id.
TxnId AddTxn(AckTracker& tracker, size_t events, Lsn end_lsn, size_t bytes = 10,
             int64_t commit_time = 0) {
  absl::StatusOr<TxnId> txn = tracker.Begin();
  EXPECT_TRUE(txn.ok()) << txn.status();
  for (size_t i = 0; i < events; ++i) {
    EXPECT_TRUE(tracker.AddEvent(*txn, bytes).ok());
  }
  EXPECT_TRUE(tracker.Commit(*txn, end_lsn, commit_time).ok());
  return *txn;
}

// The tracker as it was before complete transactions were merged: one entry
// per pending transaction, found by its id's offset from the front. Kept as
// the model the merged representation must agree with, call for call (apart
// from Hold of a transaction already complete, which it allowed).
class ReferenceTracker {
 public:
  explicit ReferenceTracker(Lsn start) : confirmed_(start) {}

  absl::StatusOr<TxnId> Begin() {
    if (open_) return absl::FailedPreconditionError("open");
    Pending txn;
    txn.id = next_id_++;
    pending_.push_back(txn);
    open_ = true;
    return txn.id;
  }
  absl::Status AddEvent(TxnId txn, size_t bytes) {
    absl::StatusOr<Pending*> pending = OpenTransaction(txn);
    if (!pending.ok()) return pending.status();
    ++(*pending)->events;
    (*pending)->bytes += bytes;
    ++inflight_events_;
    inflight_bytes_ += bytes;
    return absl::OkStatus();
  }
  absl::Status Commit(TxnId txn, Lsn end_lsn, int64_t commit_time) {
    absl::StatusOr<Pending*> pending = OpenTransaction(txn);
    if (!pending.ok()) return pending.status();
    (*pending)->end_lsn = end_lsn;
    (*pending)->commit_time = commit_time;
    (*pending)->committed = true;
    open_ = false;
    Advance();
    return absl::OkStatus();
  }
  absl::Status Ack(TxnId txn, size_t bytes) {
    Pending* pending = FindPending(txn);
    if (pending == nullptr) return absl::NotFoundError("not in flight");
    if (pending->events == 0) {
      return absl::FailedPreconditionError("no events left");
    }
    if (bytes > pending->bytes) {
      return absl::FailedPreconditionError("too many bytes");
    }
    --pending->events;
    pending->bytes -= bytes;
    --inflight_events_;
    inflight_bytes_ -= bytes;
    if (pending == &pending_.front()) Advance();
    return absl::OkStatus();
  }
  void ObserveServerPosition(Lsn lsn) {
    if (open_) return;
    if (pending_.empty()) {
      confirmed_ = std::max(confirmed_, lsn);
      return;
    }
    pending_.back().end_lsn = std::max(pending_.back().end_lsn, lsn);
  }
  absl::Status Hold(TxnId txn) {
    Pending* pending = FindPending(txn);
    if (pending == nullptr) return absl::NotFoundError("not pending");
    pending->held = true;
    return absl::OkStatus();
  }
  absl::Status Release(TxnId txn) {
    Pending* pending = FindPending(txn);
    if (pending == nullptr) return absl::NotFoundError("not pending");
    pending->held = false;
    Advance();
    return absl::OkStatus();
  }
  void AbandonHeld() {
    bool from_here = false;
    for (Pending& pending : pending_) {
      from_here = from_here || pending.held;
      if (!from_here) continue;
      pending.held = false;
      pending.end_lsn = kInvalidLsn;
    }
    Advance();
  }
  size_t Unacked(TxnId txn) {
    Pending* pending = FindPending(txn);
    return pending == nullptr ? 0 : pending->events;
  }

  Lsn confirmed() const { return confirmed_; }
  TxnId confirmed_through() const {
    return pending_.empty() ? next_id_ - 1 : pending_.front().id - 1;
  }
  int64_t confirmed_commit_time() const { return confirmed_commit_time_; }
  size_t inflight_events() const { return inflight_events_; }
  size_t inflight_bytes() const { return inflight_bytes_; }
  size_t pending_transactions() const { return pending_.size(); }
  bool in_transaction() const { return open_; }
  TxnId next_id() const { return next_id_; }
  // Pending, committed, fully acknowledged and not held.
  bool Complete(TxnId txn) {
    Pending* pending = FindPending(txn);
    return pending != nullptr && pending->committed && pending->events == 0 &&
           !pending->held;
  }
  // Transactions open, held or not fully acknowledged.
  size_t Incomplete() const {
    size_t n = 0;
    for (const Pending& p : pending_) {
      n += !(p.committed && p.events == 0 && !p.held);
    }
    return n;
  }

 private:
  struct Pending {
    TxnId id = 0;
    Lsn end_lsn = kInvalidLsn;
    int64_t commit_time = 0;
    size_t events = 0;
    size_t bytes = 0;
    bool committed = false;
    bool held = false;
  };
  Pending* FindPending(TxnId txn) {
    if (pending_.empty() || txn < pending_.front().id) return nullptr;
    const TxnId index = txn - pending_.front().id;
    if (index >= pending_.size()) return nullptr;
    return &pending_[index];
  }
  absl::StatusOr<Pending*> OpenTransaction(TxnId txn) {
    if (open_ && pending_.back().id == txn) return &pending_.back();
    if (txn == 0 || txn >= next_id_) return absl::NotFoundError("never");
    return absl::FailedPreconditionError("not open");
  }
  void Advance() {
    while (!pending_.empty() && pending_.front().committed &&
           pending_.front().events == 0 && !pending_.front().held) {
      confirmed_ = std::max(confirmed_, pending_.front().end_lsn);
      confirmed_commit_time_ = pending_.front().commit_time;
      pending_.pop_front();
    }
  }

  Lsn confirmed_;
  int64_t confirmed_commit_time_ = 0;
  TxnId next_id_ = 1;
  bool open_ = false;
  size_t inflight_events_ = 0;
  size_t inflight_bytes_ = 0;
  std::deque<Pending> pending_;
};

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
    ReferenceTracker reference(kStart);
    std::vector<TxnId> ids;
    for (size_t t = 0; t < sizes.size(); ++t) {
      ids.push_back(AddTxn(tracker, sizes[t], ends[t], /*bytes=*/t + 1));
      ASSERT_TRUE(reference.Begin().ok());
      for (size_t e = 0; e < sizes[t]; ++e) {
        ASSERT_TRUE(reference.AddEvent(ids.back(), t + 1).ok());
      }
      ASSERT_TRUE(reference.Commit(ids.back(), ends[t], 0).ok());
    }
    tracker.ObserveServerPosition(kKeepalive);
    reference.ObserveServerPosition(kKeepalive);
    // Every transaction's count and the queue agree with the reference.
    auto same_as_reference = [&] {
      if (tracker.pending_transactions() != reference.pending_transactions() ||
          tracker.confirmed_through() != reference.confirmed_through()) {
        return false;
      }
      for (TxnId txn = 0; txn <= ids.back() + 1; ++txn) {
        if (tracker.Unacked(txn) != reference.Unacked(txn)) return false;
      }
      return true;
    };

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
      ASSERT_TRUE(reference.Ack(ids[t], t + 1).ok());
      --unacked[t];
      ASSERT_EQ(tracker.confirmed(), expected());
      ASSERT_TRUE(same_as_reference());
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
  ReferenceTracker reference(kStart);
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
      ASSERT_TRUE(reference.Begin().ok());
      open = true;
      open_id = *txn;
      model.push_back({});
    } else if (action < 5 && open) {
      const size_t bytes = rng() % 100;
      ASSERT_TRUE(tracker.AddEvent(open_id, bytes).ok());
      ASSERT_TRUE(reference.AddEvent(open_id, bytes).ok());
      ++model.back().unacked;
      in_flight.push_back({open_id, model.size() - 1, bytes});
      inflight_bytes += bytes;
    } else if (action < 6 && open) {
      lsn += 1 + rng() % 100;
      ASSERT_TRUE(tracker.Commit(open_id, lsn).ok());
      ASSERT_TRUE(reference.Commit(open_id, lsn, 0).ok());
      model.back().end = lsn;
      model.back().committed = true;
      open = false;
    } else if (action < 7) {
      lsn += rng() % 50;
      tracker.ObserveServerPosition(lsn);
      reference.ObserveServerPosition(lsn);
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
      ASSERT_TRUE(reference.Ack(event.txn, event.bytes).ok());
      --model[event.model_index].unacked;
      inflight_bytes -= event.bytes;
      ASSERT_EQ(tracker.Unacked(event.txn), reference.Unacked(event.txn));
    }
    ASSERT_EQ(tracker.confirmed(), expected()) << "step " << step;
    ASSERT_GE(tracker.confirmed(), previous);
    ASSERT_EQ(tracker.inflight_events(), in_flight.size());
    ASSERT_EQ(tracker.inflight_bytes(), inflight_bytes);
    ASSERT_EQ(tracker.in_transaction(), open);
    ASSERT_EQ(tracker.pending_transactions(), reference.pending_transactions());
    ASSERT_EQ(tracker.confirmed(), reference.confirmed());
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

// One event is never acknowledged (a partition without enough in-sync
// replicas, its delivery retried for hours) while a million transactions
// behind it complete: some with events acknowledged out of order, some with
// none, keepalives between them. What the tracker keeps must not grow with
// them, and the stuck event's acknowledgement must confirm the newest
// position at once.
TEST(AckTrackerTest, CompletedTransactionsBehindAStuckEventAreMerged) {
  constexpr int kTransactions = 1000000;
  // Never more than 8 events (so 9 transactions) in flight besides the stuck
  // one: 4 entries per incomplete transaction and 64 more at most.
  constexpr size_t kMaxEntries = 4 * (1 + 1 + 8) + 64;
  AckTracker tracker(100);
  const TxnId stuck = AddTxn(tracker, 1, 200, /*bytes=*/7, /*commit_time=*/1);
  struct Event {
    TxnId txn;
    size_t bytes;
  };
  std::vector<Event> in_flight;
  std::mt19937 rng(2024);
  Lsn end = 200;
  Lsn newest = end;
  TxnId last = stuck;
  size_t most_entries = 0;
  for (int i = 0; i < kTransactions; ++i) {
    end += 1 + rng() % 50;
    const size_t events = rng() % 4;
    const size_t bytes = 1 + i % 13;
    last = AddTxn(tracker, events, end, bytes, /*commit_time=*/i + 2);
    newest = std::max(newest, end);
    for (size_t e = 0; e < events; ++e) in_flight.push_back({last, bytes});
    if (rng() % 5 == 0) {
      const Lsn keepalive = end + rng() % 20;
      tracker.ObserveServerPosition(keepalive);
      newest = std::max(newest, keepalive);
    }
    // Acknowledged a few transactions later, in any order.
    const size_t keep = rng() % 6;
    while (in_flight.size() > keep) {
      const size_t pick = rng() % in_flight.size();
      ASSERT_TRUE(tracker.Ack(in_flight[pick].txn, in_flight[pick].bytes).ok());
      in_flight[pick] = in_flight.back();
      in_flight.pop_back();
    }
    most_entries = std::max(most_entries, tracker.pending_entries());
    ASSERT_LE(tracker.pending_entries(), kMaxEntries)
        << "after " << i + 1 << " transactions behind the stuck one";
    ASSERT_EQ(tracker.confirmed(), 100u);
  }
  for (const Event& event : in_flight) {
    ASSERT_TRUE(tracker.Ack(event.txn, event.bytes).ok());
  }
  EXPECT_EQ(tracker.confirmed(), 100u);
  EXPECT_EQ(tracker.confirmed_through(), stuck - 1);
  EXPECT_EQ(tracker.pending_transactions(), kTransactions + 1u);
  // Only the stuck transaction is incomplete.
  EXPECT_LE(tracker.pending_entries(), 4u * 1 + 64);
  EXPECT_EQ(tracker.inflight_events(), 1u);
  EXPECT_EQ(tracker.inflight_bytes(), 7u);

  // Merged transactions still answer for themselves.
  EXPECT_EQ(tracker.Unacked(stuck), 1u);
  for (TxnId txn : {stuck + 1, stuck + 500000, last}) {
    SCOPED_TRACE(txn);
    EXPECT_EQ(tracker.Unacked(txn), 0u);
    EXPECT_EQ(tracker.Ack(txn, 1).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(tracker.Hold(txn).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(tracker.Release(txn).ok());
  }
  EXPECT_EQ(tracker.Unacked(last + 1), 0u);
  EXPECT_EQ(tracker.Ack(last + 1, 1).code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(tracker.Ack(stuck, 7).ok());
  EXPECT_EQ(tracker.confirmed(), newest);
  EXPECT_EQ(tracker.confirmed_through(), last);
  EXPECT_EQ(tracker.confirmed_commit_time_us(), kTransactions + 1);
  EXPECT_EQ(tracker.pending_transactions(), 0u);
  EXPECT_EQ(tracker.pending_entries(), 0u);
  EXPECT_EQ(tracker.inflight_events(), 0u);
  EXPECT_EQ(tracker.inflight_bytes(), 0u);
  EXPECT_EQ(tracker.Ack(last, 1).code(), absl::StatusCode::kNotFound);
}

// Transactions that publish nothing (only logical messages left out by the
// configuration, say) behind one that waits take no entry at all.
TEST(AckTrackerTest, EmptyTransactionsBehindAWaitingOneTakeNoEntry) {
  AckTracker tracker(10);
  const TxnId busy = AddTxn(tracker, 1, 20);
  const TxnId first_empty = AddTxn(tracker, 0, 30);
  TxnId last = first_empty;
  for (int i = 0; i < 1000; ++i) {
    last = AddTxn(tracker, 0, 40 + i, 10, /*commit_time=*/i);
    ASSERT_EQ(tracker.pending_entries(), 2u);
  }
  EXPECT_EQ(tracker.pending_transactions(), 1002u);
  EXPECT_EQ(tracker.Unacked(first_empty), 0u);
  ASSERT_TRUE(tracker.Ack(busy, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 1039u);
  EXPECT_EQ(tracker.confirmed_through(), last);
  EXPECT_EQ(tracker.confirmed_commit_time_us(), 999);
}

TEST(AckTrackerTest, ConfirmedThroughNamesTheNewestConfirmedTransaction) {
  AckTracker tracker(10);
  EXPECT_EQ(tracker.confirmed_through(), 0u);
  EXPECT_EQ(tracker.confirmed_commit_time_us(), 0);
  const TxnId a = AddTxn(tracker, 1, 20, 10, /*commit_time=*/111);
  const TxnId b = AddTxn(tracker, 1, 30, 10, /*commit_time=*/222);
  EXPECT_EQ(tracker.confirmed_through(), a - 1);
  ASSERT_TRUE(tracker.Ack(b, 10).ok());
  EXPECT_EQ(tracker.confirmed_through(), a - 1);
  ASSERT_TRUE(tracker.Ack(a, 10).ok());
  EXPECT_EQ(tracker.confirmed_through(), b);
  EXPECT_EQ(tracker.confirmed_commit_time_us(), 222);
  // A keepalive moves the position, not the transaction.
  tracker.ObserveServerPosition(50);
  EXPECT_EQ(tracker.confirmed(), 50u);
  EXPECT_EQ(tracker.confirmed_through(), b);
  EXPECT_EQ(tracker.confirmed_commit_time_us(), 222);
}

// Holding is for a transaction that is not yet complete (the pipeline holds
// the open one); a complete one may already be merged with its neighbours.
TEST(AckTrackerTest, HoldingACompleteTransactionIsRefused) {
  AckTracker tracker(10);
  const TxnId waiting = AddTxn(tracker, 1, 20);
  const TxnId done = AddTxn(tracker, 1, 30);
  const TxnId later = AddTxn(tracker, 1, 40);
  ASSERT_TRUE(tracker.Ack(done, 10).ok());
  EXPECT_EQ(tracker.Hold(done).code(), absl::StatusCode::kFailedPrecondition);
  // Not yet acknowledged: held, and it stays held once it is.
  ASSERT_TRUE(tracker.Hold(later).ok());
  ASSERT_TRUE(tracker.Ack(later, 10).ok());
  ASSERT_TRUE(tracker.Hold(later).ok());
  ASSERT_TRUE(tracker.Ack(waiting, 10).ok());
  EXPECT_EQ(tracker.confirmed(), 30u);
  ASSERT_TRUE(tracker.Release(later).ok());
  EXPECT_EQ(tracker.confirmed(), 40u);
}

// Random schedules of everything the tracker does — begins, events, commits
// (some at positions below the start, or none, as an abandoned transaction
// has), acknowledgements in any order with one partition often stalled for a
// long time, keepalives, holds, releases, AbandonHeld, and misuse — run on
// the tracker and on ReferenceTracker side by side: every call must answer
// the same and every observable agree, while the tracker's entries stay
// within their bound.
TEST(AckTrackerTest, RandomSchedulesMatchTheReferenceTracker) {
  constexpr Lsn kStart = 1000;
  struct Event {
    TxnId txn;
    size_t bytes;
  };
  int merged_schedules = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    // How rarely the oldest event in flight is acknowledged: a partition
    // stalled for a while, or for the whole schedule.
    const unsigned stall = std::vector<unsigned>{1, 20, 300, 100000}[seed % 4];
    AckTracker tracker(kStart);
    ReferenceTracker model(kStart);
    std::vector<Event> in_flight;
    std::vector<TxnId> held;
    bool open = false;
    TxnId open_id = 0;
    Lsn lsn = kStart;
    bool merged = false;
    auto random_id = [&] {
      const TxnId next = model.next_id();
      return next < 50 ? TxnId{rng() % (next + 2)}
                       : next - 50 + TxnId{rng() % 52};
    };
    for (int step = 0; step < 6000; ++step) {
      SCOPED_TRACE(::testing::Message() << "step " << step);
      const unsigned action = rng() % 100;
      if (action < 14) {
        absl::StatusOr<TxnId> a = tracker.Begin();
        absl::StatusOr<TxnId> b = model.Begin();
        ASSERT_EQ(a.status().code(), b.status().code());
        if (a.ok()) {
          ASSERT_EQ(*a, *b);
          open = true;
          open_id = *a;
        }
      } else if (action < 40) {
        const size_t bytes = 1 + rng() % 100;
        const TxnId txn = open && rng() % 20 != 0 ? open_id : random_id();
        absl::Status a = tracker.AddEvent(txn, bytes);
        ASSERT_EQ(a.code(), model.AddEvent(txn, bytes).code());
        if (a.ok()) in_flight.push_back({txn, bytes});
      } else if (action < 52) {
        const TxnId txn = open && rng() % 20 != 0 ? open_id : random_id();
        Lsn end = kInvalidLsn;
        switch (rng() % 10) {
          case 0:
            end = kStart / 2;  // sent again after a restart
            break;
          case 1:
            break;  // abandoned
          default:
            lsn += 1 + rng() % 100;
            end = lsn;
        }
        const int64_t time = static_cast<int64_t>(rng() % 1000000);
        absl::Status a = tracker.Commit(txn, end, time);
        ASSERT_EQ(a.code(), model.Commit(txn, end, time).code());
        if (a.ok()) open = false;
      } else if (action < 82) {
        if (in_flight.empty()) continue;
        const bool stalled = rng() % stall != 0;
        if (in_flight.size() == 1 && stalled) continue;
        size_t pick;
        if (stalled) {
          // Anything but the oldest: mostly recent ones, sometimes any.
          pick = rng() % 3 == 0
                     ? 1 + rng() % (in_flight.size() - 1)
                     : in_flight.size() - 1 -
                           rng() % std::min<size_t>(3, in_flight.size() - 1);
        } else {
          pick = rng() % in_flight.size();
        }
        const Event event = in_flight[pick];
        in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(pick));
        ASSERT_TRUE(tracker.Ack(event.txn, event.bytes).ok());
        ASSERT_TRUE(model.Ack(event.txn, event.bytes).ok());
      } else if (action < 87) {
        const Lsn position =
            rng() % 5 == 0 ? kStart + rng() % 100 : (lsn += rng() % 50);
        tracker.ObserveServerPosition(position);
        model.ObserveServerPosition(position);
      } else if (action < 90) {
        const TxnId txn = open && rng() % 4 != 0 ? open_id : random_id();
        absl::Status a = tracker.Hold(txn);
        if (model.Complete(txn)) {
          // The one call that answers differently (see Hold).
          ASSERT_EQ(a.code(), absl::StatusCode::kFailedPrecondition);
        } else {
          ASSERT_EQ(a.code(), model.Hold(txn).code());
          if (a.ok()) held.push_back(txn);
        }
      } else if (action < 93) {
        TxnId txn = random_id();
        if (!held.empty() && rng() % 4 != 0) {
          const size_t i = rng() % held.size();
          txn = held[i];
          held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
        }
        ASSERT_EQ(tracker.Release(txn).code(), model.Release(txn).code());
      } else if (action < 94) {
        if (rng() % 3 != 0) continue;
        if (open && rng() % 2 == 0) {
          // As the pipeline does when its connection is lost.
          ASSERT_TRUE(tracker.Commit(open_id, kInvalidLsn).ok());
          ASSERT_TRUE(model.Commit(open_id, kInvalidLsn, 0).ok());
          open = false;
        }
        tracker.AbandonHeld();
        model.AbandonHeld();
        held.clear();
      } else if (action < 97) {
        // More bytes than anything has in flight: refused by both.
        const TxnId txn = random_id();
        ASSERT_EQ(tracker.Ack(txn, 1 << 20).code(),
                  model.Ack(txn, 1 << 20).code());
      } else {
        if (rng() % 2 == 0 && open) {
          ASSERT_EQ(tracker.Begin().status().code(),
                    model.Begin().status().code());
        }
      }

      ASSERT_EQ(tracker.confirmed(), model.confirmed());
      ASSERT_EQ(tracker.confirmed_through(), model.confirmed_through());
      ASSERT_EQ(tracker.confirmed_commit_time_us(),
                model.confirmed_commit_time());
      ASSERT_EQ(tracker.inflight_events(), model.inflight_events());
      ASSERT_EQ(tracker.inflight_bytes(), model.inflight_bytes());
      ASSERT_EQ(tracker.pending_transactions(), model.pending_transactions());
      ASSERT_EQ(tracker.in_transaction(), model.in_transaction());
      for (int k = 0; k < 3; ++k) {
        const TxnId txn = random_id();
        ASSERT_EQ(tracker.Unacked(txn), model.Unacked(txn)) << "txn " << txn;
      }
      if (open) {
        ASSERT_EQ(tracker.Unacked(open_id), model.Unacked(open_id));
      }
      if (tracker.pending_entries() < tracker.pending_transactions()) {
        merged = true;
      }
      if (step % 64 == 0) {
        ASSERT_LE(tracker.pending_entries(), 4 * model.Incomplete() + 64);
      }
    }
    ASSERT_LE(tracker.pending_entries(), 4 * model.Incomplete() + 64);
    merged_schedules += merged;
  }
  // The merging was exercised, not just the single entries.
  EXPECT_GT(merged_schedules, 100);
}

TEST(AckTrackerTest, CommitLsnNamesTransactionsWithEventsInFlight) {
  AckTracker tracker(10);
  absl::StatusOr<TxnId> a = tracker.Begin(/*commit_lsn=*/100);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(tracker.CommitLsn(*a), 100u);  // open, nothing in flight yet
  ASSERT_TRUE(tracker.AddEvent(*a, 10).ok());
  ASSERT_TRUE(tracker.AddEvent(*a, 10).ok());
  ASSERT_TRUE(tracker.Commit(*a, 110).ok());
  absl::StatusOr<TxnId> b = tracker.Begin(/*commit_lsn=*/200);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(tracker.AddEvent(*b, 10).ok());
  ASSERT_TRUE(tracker.Commit(*b, 210).ok());
  EXPECT_EQ(tracker.CommitLsn(*a), 100u);
  EXPECT_EQ(tracker.CommitLsn(*b), 200u);
  // b is all acknowledged but still pending behind a: no longer named.
  ASSERT_TRUE(tracker.Ack(*b, 10).ok());
  EXPECT_EQ(tracker.CommitLsn(*b), kInvalidLsn);
  EXPECT_EQ(tracker.CommitLsn(*a), 100u);
  ASSERT_TRUE(tracker.Ack(*a, 10).ok());
  ASSERT_TRUE(tracker.Ack(*a, 10).ok());
  EXPECT_EQ(tracker.CommitLsn(*a), kInvalidLsn);
  EXPECT_EQ(tracker.CommitLsn(*b + 1), kInvalidLsn);  // never begun
  EXPECT_EQ(tracker.CommitLsn(0), kInvalidLsn);
}

TEST(AckTrackerTest, LastAckOfTimedTransactionGivesItsCommitTime) {
  AckTracker tracker(10);
  absl::StatusOr<TxnId> timed = tracker.Begin(100);
  ASSERT_TRUE(timed.ok());
  ASSERT_TRUE(tracker.AddEvent(*timed, 10).ok());
  ASSERT_TRUE(tracker.AddEvent(*timed, 10).ok());
  std::optional<int64_t> commit_us = 1;
  // Acknowledged while open: not yet committed, so not timed yet.
  ASSERT_TRUE(tracker.Ack(*timed, 10, &commit_us).ok());
  EXPECT_FALSE(commit_us.has_value());
  ASSERT_TRUE(tracker
                  .Commit(*timed, 110, /*commit_time_us=*/5000,
                          /*timed=*/true)
                  .ok());
  ASSERT_TRUE(tracker.Ack(*timed, 10, &commit_us).ok());
  EXPECT_EQ(commit_us, std::optional<int64_t>(5000));

  // Untimed (a snapshot's, an abandoned one): its last ack says nothing.
  absl::StatusOr<TxnId> untimed = tracker.Begin(200);
  ASSERT_TRUE(untimed.ok());
  ASSERT_TRUE(tracker.AddEvent(*untimed, 10).ok());
  ASSERT_TRUE(tracker.Commit(*untimed, 210, 6000).ok());
  commit_us = 1;
  ASSERT_TRUE(tracker.Ack(*untimed, 10, &commit_us).ok());
  EXPECT_FALSE(commit_us.has_value());

  // Timed behind an unacknowledged one: timed at its own last ack, not when
  // the position reaches it; a held one too.
  absl::StatusOr<TxnId> stuck = tracker.Begin(300);
  ASSERT_TRUE(stuck.ok());
  ASSERT_TRUE(tracker.AddEvent(*stuck, 10).ok());
  ASSERT_TRUE(tracker.Commit(*stuck, 310, 7000, true).ok());
  absl::StatusOr<TxnId> later = tracker.Begin(400);
  ASSERT_TRUE(later.ok());
  ASSERT_TRUE(tracker.AddEvent(*later, 10).ok());
  ASSERT_TRUE(tracker.Hold(*later).ok());
  ASSERT_TRUE(tracker.Commit(*later, 410, 8000, true).ok());
  ASSERT_TRUE(tracker.Ack(*later, 10, &commit_us).ok());
  EXPECT_EQ(commit_us, std::optional<int64_t>(8000));
  ASSERT_TRUE(tracker.Ack(*stuck, 10, &commit_us).ok());
  EXPECT_EQ(commit_us, std::optional<int64_t>(7000));
  EXPECT_EQ(tracker.confirmed(), 310u);  // `later` is held

  // A failed Ack leaves it unset.
  commit_us = 1;
  EXPECT_FALSE(tracker.Ack(*stuck, 10, &commit_us).ok());
  EXPECT_FALSE(commit_us.has_value());
}

}  // namespace
}  // namespace cdc::offsets
