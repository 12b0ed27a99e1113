#include "cdc/offsets/ack_tracker.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace cdc::offsets {
namespace {

// Entries allowed beyond 4 per incomplete transaction before complete runs
// are merged: a few dozen entries are not worth a pass over them.
constexpr size_t kCompactSlack = 64;

}  // namespace

AckTracker::AckTracker(Lsn start) : confirmed_(start) {}

absl::StatusOr<TxnId> AckTracker::Begin(Lsn commit_lsn) {
  if (open_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Begin: transaction ", pending_.back().id, " is still open"));
  }
  Pending txn;
  txn.id = next_id_++;
  txn.commit_lsn = commit_lsn;
  pending_.push_back(txn);
  ++incomplete_;
  open_ = true;
  return txn.id;
}

const AckTracker::Pending* AckTracker::FindPending(TxnId txn) const {
  if (pending_.empty() || txn < pending_.front().id) return nullptr;
  // Every entry covers at least one id, so the one covering `txn` is at or
  // before `offset`; with no merged run before it (most often), exactly
  // there. Or, with none after it (a recent transaction behind a run),
  // exactly as far from the newest entry as its id is.
  const size_t size = pending_.size();
  const TxnId offset = txn - pending_.front().id;
  if (offset < size && pending_[offset].id == txn) return &pending_[offset];
  if (txn >= next_id_) return nullptr;
  if (txn >= pending_.back().id) return &pending_.back();
  const TxnId from_back = pending_.back().id - txn;
  if (from_back < size && pending_[size - 1 - from_back].id == txn) {
    return &pending_[size - 1 - from_back];
  }
  const auto begin = pending_.begin();
  const auto after = std::upper_bound(
      begin, begin + static_cast<std::ptrdiff_t>(std::min<TxnId>(offset, size)),
      txn, [](TxnId id, const Pending& entry) { return id < entry.id; });
  return &*std::prev(after);
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
  if ((*pending)->events == UINT32_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat("AddEvent: transaction ", txn, " has ", UINT32_MAX,
                     " events in flight already"));
  }
  ++(*pending)->events;
  (*pending)->bytes += bytes;
  ++inflight_events_;
  inflight_bytes_ += bytes;
  return absl::OkStatus();
}

absl::Status AckTracker::Commit(TxnId txn, Lsn end_lsn, int64_t commit_time_us,
                                bool timed) {
  absl::StatusOr<Pending*> pending = OpenTransaction(txn, "Commit");
  if (!pending.ok()) return pending.status();
  Pending& committed = **pending;
  committed.end_lsn = end_lsn;
  committed.commit_time = commit_time_us;
  committed.committed = true;
  committed.timed = timed;
  open_ = false;
  if (Complete(committed)) {
    // Nothing in flight (no events, or all acknowledged while it was open):
    // behind a complete run it joins that run at once, so transactions that
    // publish nothing cost no entry while something before them waits.
    const size_t size = pending_.size();
    if (size >= 2 && Complete(pending_[size - 2])) {
      Pending& run = pending_[size - 2];
      run.end_lsn = std::max(run.end_lsn, committed.end_lsn);
      run.commit_time = committed.commit_time;
      pending_.pop_back();
    }
    --incomplete_;
    Advance();
    MaybeCompact();
  }
  return absl::OkStatus();
}

absl::Status AckTracker::Ack(TxnId txn, size_t bytes,
                             std::optional<int64_t>* timed_commit_us) {
  if (timed_commit_us != nullptr) timed_commit_us->reset();
  Pending* found = FindPending(txn);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Ack: transaction ", txn, " is not in flight"));
  }
  Pending& pending = *found;
  if (pending.events == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Ack: transaction ", txn, " has no unacknowledged events left"));
  }
  if (bytes > pending.bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("Ack: ", bytes, " bytes acknowledged for transaction ",
                     txn, " but only ", pending.bytes, " are in flight"));
  }
  --pending.events;
  pending.bytes -= bytes;
  --inflight_events_;
  inflight_bytes_ -= bytes;
  if (timed_commit_us != nullptr && pending.events == 0 && pending.committed &&
      pending.timed) {
    *timed_commit_us = pending.commit_time;
  }
  if (Complete(pending)) {
    // Only the front can complete the prefix; a later transaction finishing
    // first just waits for it.
    --incomplete_;
    if (found == &pending_.front()) Advance();
    MaybeCompact();
  }
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
  Pending* found = FindPending(txn);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Hold: transaction ", txn, " is not pending"));
  }
  Pending& pending = *found;
  if (Complete(pending)) {
    return absl::FailedPreconditionError(
        absl::StrCat("Hold: transaction ", txn,
                     " is committed and fully acknowledged already"));
  }
  pending.held = true;  // incomplete before, incomplete still
  return absl::OkStatus();
}

absl::Status AckTracker::Release(TxnId txn) {
  Pending* found = FindPending(txn);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Release: transaction ", txn, " is not pending"));
  }
  Pending& pending = *found;
  if (!pending.held) return absl::OkStatus();
  pending.held = false;
  if (Complete(pending)) {
    --incomplete_;
    Advance();
    MaybeCompact();
  }
  return absl::OkStatus();
}

void AckTracker::AbandonHeld() {
  bool from_here = false;
  for (Pending& pending : pending_) {
    from_here = from_here || pending.held;
    if (!from_here) continue;
    if (pending.held) {
      pending.held = false;
      if (Complete(pending)) --incomplete_;
    }
    pending.end_lsn = kInvalidLsn;
  }
  Advance();
  MaybeCompact();
}

size_t AckTracker::Unacked(TxnId txn) const {
  const Pending* pending = FindPending(txn);
  return pending == nullptr ? 0 : pending->events;
}

Lsn AckTracker::CommitLsn(TxnId txn) const {
  const Pending* pending = FindPending(txn);
  if (pending == nullptr || pending->id != txn) return kInvalidLsn;
  if (pending->committed && pending->events == 0) return kInvalidLsn;
  return pending->commit_lsn;
}

void AckTracker::Advance() {
  while (!pending_.empty() && Complete(pending_.front())) {
    confirmed_ = std::max(confirmed_, pending_.front().end_lsn);
    confirmed_commit_time_ = pending_.front().commit_time;
    pending_.pop_front();
  }
}

void AckTracker::MaybeCompact() {
  if (pending_.size() > 4 * incomplete_ + kCompactSlack) Compact();
}

void AckTracker::Compact() {
  // Complete runs are at most one more than the incomplete entries between
  // them: afterwards at most 2 × incomplete + 1 entries are left, at least
  // half fewer than there were.
  size_t out = 0;
  for (size_t in = 0; in < pending_.size(); ++in) {
    const Pending& entry = pending_[in];
    if (out > 0 && Complete(entry) && Complete(pending_[out - 1])) {
      Pending& run = pending_[out - 1];
      run.end_lsn = std::max(run.end_lsn, entry.end_lsn);
      run.commit_time = entry.commit_time;
      continue;
    }
    if (out != in) pending_[out] = entry;
    ++out;
  }
  pending_.resize(out);
}

}  // namespace cdc::offsets
