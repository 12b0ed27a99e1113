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
// Pure and thread-compatible: one owner (the pipeline loop) calls it.
#ifndef CDC_OFFSETS_ACK_TRACKER_H_
#define CDC_OFFSETS_ACK_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <deque>

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
  // (kFailedPrecondition otherwise).
  absl::StatusOr<TxnId> Begin();
  // One more event of the open transaction `txn` is in flight.
  absl::Status AddEvent(TxnId txn, size_t bytes);
  // Closes the open transaction; its position is `end_lsn`.
  absl::Status Commit(TxnId txn, Lsn end_lsn);
  // The broker acknowledged one event of `txn` of `bytes`. kNotFound for a
  // transaction not in flight; kFailedPrecondition for more acks than events.
  absl::Status Ack(TxnId txn, size_t bytes);
  // The server says it has sent everything up to `lsn`. Ignored while a
  // transaction is open.
  void ObserveServerPosition(Lsn lsn);

  // Holding: a transaction (open, or committed and not yet confirmed) that
  // must stay unconfirmed after its events are acknowledged, until
  // Release — the pipeline holds the newest snapshot journal so that a
  // restart replays it. kNotFound when `txn` is no longer pending.
  absl::Status Hold(TxnId txn);
  absl::Status Release(TxnId txn);
  // After a lost connection the server sends again everything from the
  // confirmed position: from the first transaction held, nothing pending
  // may move the position any more (their positions are dropped and holds
  // lifted), so the replay meets the held journal again.
  void AbandonHeld();
  // Events of `txn` not yet acknowledged (0 once it is no longer pending).
  size_t Unacked(TxnId txn) const;

  // The position safe to confirm: never decreases.
  Lsn confirmed() const { return confirmed_; }
  size_t inflight_events() const { return inflight_events_; }
  size_t inflight_bytes() const { return inflight_bytes_; }
  // Transactions not yet confirmed (a queued server position is folded into
  // the transaction before it, so it adds none).
  size_t pending_transactions() const { return pending_.size(); }
  bool in_transaction() const { return open_; }

 private:
  struct Pending {
    TxnId id = 0;
    Lsn end_lsn = kInvalidLsn;
    size_t events = 0;  // not yet acknowledged
    size_t bytes = 0;   // not yet acknowledged
    bool committed = false;
    bool held = false;
  };
  Pending* FindPending(TxnId txn);
  // The open transaction if it is `txn`; otherwise the error for misuse.
  absl::StatusOr<Pending*> OpenTransaction(TxnId txn, const char* operation);
  void Advance();

  Lsn confirmed_;
  TxnId next_id_ = 1;
  bool open_ = false;
  size_t inflight_events_ = 0;
  size_t inflight_bytes_ = 0;
  std::deque<Pending> pending_;
};

}  // namespace cdc::offsets

#endif  // CDC_OFFSETS_ACK_TRACKER_H_
