// AckTracker: which WAL position may be confirmed to the replication slot.
//
// The rule is PostgreSQL's own apply worker's (get_flush_position in
// logical/worker.c): confirm only the end LSN of the newest transaction whose
// events, and every earlier transaction's events, the broker acknowledged —
// a contiguous acknowledged prefix — and never move backwards, whatever order
// acknowledgements arrive in across partitions.
//
// Transactions are registered in commit order (the order pgoutput sends
// them). A transaction with no published events completes as soon as those
// before it do, so it never holds the position back. A server position from a
// keepalive, seen while no transaction is open, is queued like an empty
// transaction: it is confirmed once everything received before it is acked,
// which keeps WAL from piling up behind a quiet publication. (It rides on the
// newest pending transaction's position rather than taking an entry of its
// own, which keeps TxnIds consecutive and the queue as short as it can be.)
//
// Memory is bounded by what is unfinished, not by how long something stays
// unfinished. A transaction is complete once it is committed, all its events
// are acknowledged and it is not held; a complete transaction still pending
// waits behind an incomplete one, and all it has left to say is its end
// position, which is confirmed (as the maximum with everything before it)
// exactly when the incomplete ones before it complete. So consecutive
// complete transactions are merged into one entry that keeps the highest of
// their ends (and the newest one's commit time): the entries number at most
// 4 × (incomplete transactions) + 64, and an incomplete one is open, held
// (a few at most), or has an unacknowledged event (which the in-flight window
// bounds) — however long one event stays unacknowledged while thousands of
// transactions behind it complete.
//
// Besides positions, a pending transaction keeps what is said of it until
// its events are all acknowledged: its commit LSN, which a failed delivery
// names, and whether its commit-to-ack time means something (a transaction
// the server committed), so that the pipeline keeps no second queue.
//
// Pure and thread-compatible: one owner (the pipeline loop) calls it.
#ifndef CDC_OFFSETS_ACK_TRACKER_H_
#define CDC_OFFSETS_ACK_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"

namespace cdc::offsets {

// Identifies a registered transaction; increases by one per Begin.
using TxnId = uint64_t;

class AckTracker {
 public:
  // `start` is the slot's confirmed position when streaming starts.
  explicit AckTracker(Lsn start = kInvalidLsn);

  // Opens a transaction. Only one may be open at a time
  // (kFailedPrecondition otherwise). `commit_lsn` names it (CommitLsn) while
  // it has events in flight.
  absl::StatusOr<TxnId> Begin(Lsn commit_lsn = kInvalidLsn);
  // One more event of the open transaction `txn` is in flight
  // (kResourceExhausted past 4294967295 of one transaction at a time).
  absl::Status AddEvent(TxnId txn, size_t bytes);
  // Closes the open transaction; its position is `end_lsn`. `commit_time_us`
  // is kept for confirmed_commit_time_us(). `timed`: the server committed it
  // (not a snapshot's, a non-transactional message's, or one abandoned with
  // its connection, which is timed when it comes again), so the time from
  // its commit to its last acknowledgement is worth observing (see Ack).
  absl::Status Commit(TxnId txn, Lsn end_lsn, int64_t commit_time_us = 0,
                      bool timed = false);
  // The broker acknowledged one event of `txn` of `bytes`. kNotFound for a
  // transaction not in flight; kFailedPrecondition for more acks than events.
  // When `timed_commit_us` is given, it is set to the commit time of `txn`
  // when this was the last unacknowledged event of a committed, timed
  // transaction, and to nullopt otherwise.
  absl::Status Ack(TxnId txn, size_t bytes,
                   std::optional<int64_t>* timed_commit_us = nullptr);
  // The server says it has sent everything up to `lsn`. Ignored while a
  // transaction is open.
  void ObserveServerPosition(Lsn lsn);

  // Holding: a transaction (open, or committed with events not yet all
  // acknowledged) that must stay unconfirmed after its events are
  // acknowledged, until Release — the pipeline holds the newest snapshot
  // journal, while its transaction is open, so that a restart replays it.
  // kNotFound when `txn` is no longer pending; kFailedPrecondition when it
  // is already complete (committed and all its events acknowledged: it may
  // be merged with its neighbours, and whether it was even still pending
  // depended on the transactions before it).
  absl::Status Hold(TxnId txn);
  // kNotFound when `txn` is no longer pending; OK (and nothing changes)
  // for a pending transaction that is not held.
  absl::Status Release(TxnId txn);
  // After a lost connection the server sends again everything from the
  // confirmed position: from the first transaction held, nothing pending
  // may move the position any more (their positions are dropped and holds
  // lifted), so the replay meets the held journal again.
  void AbandonHeld();
  // Events of `txn` not yet acknowledged (0 once it is no longer pending).
  size_t Unacked(TxnId txn) const;
  // The commit LSN given to Begin for `txn`, while it is open or has events
  // not yet acknowledged; kInvalidLsn otherwise (what a failed delivery of
  // an unknown transaction names).
  Lsn CommitLsn(TxnId txn) const;

  // The position safe to confirm: never decreases.
  Lsn confirmed() const { return confirmed_; }
  // The newest transaction no longer pending (0 before any): every
  // transaction up to it is acknowledged and its position confirmed (or
  // dropped by AbandonHeld).
  TxnId confirmed_through() const {
    return pending_.empty() ? next_id_ - 1 : pending_.front().id - 1;
  }
  // The commit time given for confirmed_through() (0 before any).
  int64_t confirmed_commit_time_us() const { return confirmed_commit_time_; }
  size_t inflight_events() const { return inflight_events_; }
  size_t inflight_bytes() const { return inflight_bytes_; }
  // Transactions not yet confirmed (a queued server position is folded into
  // the transaction before it, so it adds none).
  size_t pending_transactions() const {
    return pending_.empty() ? 0 : next_id_ - pending_.front().id;
  }
  // Entries kept for them (what the tracker's memory grows with): at most
  // 4 × (open, held or not fully acknowledged transactions) + 64.
  size_t pending_entries() const { return pending_.size(); }
  bool in_transaction() const { return open_; }

 private:
  // One transaction, or a run of consecutive complete ones. An entry covers
  // the ids from its own up to the next entry's (the last one: up to the
  // newest begun); only complete entries cover more than one.
  struct Pending {
    TxnId id = 0;
    Lsn end_lsn = kInvalidLsn;     // a run: the highest of its members'
    Lsn commit_lsn = kInvalidLsn;  // from Begin; a run: meaningless
    int64_t commit_time = 0;       // a run: its newest member's
    size_t bytes = 0;              // not yet acknowledged
    // Not yet acknowledged. 32 bits keep an entry at 48 bytes, which the
    // hot path notices; the window holds far fewer events than that.
    uint32_t events = 0;
    bool committed = false;
    bool held = false;
    bool timed = false;
  };
  static bool Complete(const Pending& p) {
    return p.committed && p.events == 0 && !p.held;
  }
  // The entry covering `txn`, or nullptr when `txn` is not pending.
  const Pending* FindPending(TxnId txn) const;
  Pending* FindPending(TxnId txn) {
    return const_cast<Pending*>(std::as_const(*this).FindPending(txn));
  }
  // The open transaction if it is `txn`; otherwise the error for misuse.
  absl::StatusOr<Pending*> OpenTransaction(TxnId txn, const char* operation);
  // Pops the complete entries at the front, confirming their positions.
  void Advance();
  // Merges the complete runs once the entries outnumber the bound: called
  // whenever an entry completed. Amortized O(1): a merge leaves at most
  // 2 × incomplete + 1 entries, fewer than half of what it found.
  void MaybeCompact();
  void Compact();

  Lsn confirmed_;
  int64_t confirmed_commit_time_ = 0;
  TxnId next_id_ = 1;
  bool open_ = false;
  size_t inflight_events_ = 0;
  size_t inflight_bytes_ = 0;
  // Entries that are not complete (open, held, or with unacknowledged
  // events).
  size_t incomplete_ = 0;
  // Sorted by id; after every call the front (if any) is incomplete.
  std::deque<Pending> pending_;
};

}  // namespace cdc::offsets

#endif  // CDC_OFFSETS_ACK_TRACKER_H_
