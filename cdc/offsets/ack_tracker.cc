#include "cdc/offsets/ack_tracker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cdc::offsets {

AckTracker::AckTracker(Lsn start) : confirmed_(start) {}

absl::StatusOr<TxnId> AckTracker::Begin() {
  if (open_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Begin: transaction ", pending_.back().id, " is still open"));
  }
  Pending txn;
  txn.id = next_id_++;
  pending_.push_back(txn);
  open_ = true;
  return txn.id;
}

AckTracker::Pending* AckTracker::FindPending(TxnId txn) {
  // Ids are consecutive and only the front is ever removed, so the position
  // in the queue follows from the id.
  if (pending_.empty() || txn < pending_.front().id) return nullptr;
  const TxnId index = txn - pending_.front().id;
  if (index >= pending_.size()) return nullptr;
  return &pending_[index];
}

absl::StatusOr<AckTracker::Pending*> AckTracker::OpenTransaction(
    TxnId txn, const char* operation) {
  if (open_ && pending_.back().id == txn) return &pending_.back();
  if (txn == 0 || txn >= next_id_) {
    return absl::NotFoundError(
        absl::StrCat(operation, ": transaction ", txn, " was never begun"));
  }
  if (!open_) {
    return absl::FailedPreconditionError(absl::StrCat(
        operation, ": transaction ", txn, " is not open (none is)"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(operation, ": transaction ", txn,
                   " is not open (transaction ", pending_.back().id, " is)"));
}

absl::Status AckTracker::AddEvent(TxnId txn, size_t bytes) {
  absl::StatusOr<Pending*> pending = OpenTransaction(txn, "AddEvent");
  if (!pending.ok()) return pending.status();
  ++(*pending)->events;
  (*pending)->bytes += bytes;
  ++inflight_events_;
  inflight_bytes_ += bytes;
  return absl::OkStatus();
}

absl::Status AckTracker::Commit(TxnId txn, Lsn end_lsn) {
  absl::StatusOr<Pending*> pending = OpenTransaction(txn, "Commit");
  if (!pending.ok()) return pending.status();
  (*pending)->end_lsn = end_lsn;
  (*pending)->committed = true;
  open_ = false;
  Advance();
  return absl::OkStatus();
}

absl::Status AckTracker::Ack(TxnId txn, size_t bytes) {
  Pending* pending = FindPending(txn);
  if (pending == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Ack: transaction ", txn, " is not in flight"));
  }
  if (pending->events == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Ack: transaction ", txn, " has no unacknowledged events left"));
  }
  if (bytes > pending->bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("Ack: ", bytes, " bytes acknowledged for transaction ",
                     txn, " but only ", pending->bytes, " are in flight"));
  }
  --pending->events;
  pending->bytes -= bytes;
  --inflight_events_;
  inflight_bytes_ -= bytes;
  // Only the front can complete the prefix; a later transaction finishing
  // first just waits for it.
  if (pending == &pending_.front()) Advance();
  return absl::OkStatus();
}

void AckTracker::ObserveServerPosition(Lsn lsn) {
  // Mid-transaction the position lies inside the open transaction, whose end
  // is what will be confirmed once it commits.
  if (open_) return;
  if (pending_.empty()) {
    confirmed_ = std::max(confirmed_, lsn);
    return;
  }
  // The newest pending transaction is committed (none is open), so raising
  // its end confirms `lsn` exactly when everything received before the
  // keepalive is acknowledged — the same as queueing an empty entry.
  Pending& back = pending_.back();
  back.end_lsn = std::max(back.end_lsn, lsn);
}

absl::Status AckTracker::Hold(TxnId txn) {
  Pending* pending = FindPending(txn);
  if (pending == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Hold: transaction ", txn, " is not pending"));
  }
  pending->held = true;
  return absl::OkStatus();
}

absl::Status AckTracker::Release(TxnId txn) {
  Pending* pending = FindPending(txn);
  if (pending == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Release: transaction ", txn, " is not pending"));
  }
  pending->held = false;
  Advance();
  return absl::OkStatus();
}

void AckTracker::AbandonHeld() {
  bool from_here = false;
  for (Pending& pending : pending_) {
    from_here = from_here || pending.held;
    if (!from_here) continue;
    pending.held = false;
    pending.end_lsn = kInvalidLsn;
  }
  Advance();
}

size_t AckTracker::Unacked(TxnId txn) const {
  if (pending_.empty() || txn < pending_.front().id) return 0;
  const TxnId index = txn - pending_.front().id;
  return index < pending_.size() ? pending_[index].events : 0;
}

void AckTracker::Advance() {
  while (!pending_.empty() && pending_.front().committed &&
         pending_.front().events == 0 && !pending_.front().held) {
    confirmed_ = std::max(confirmed_, pending_.front().end_lsn);
    pending_.pop_front();
  }
}

}  // namespace cdc::offsets
