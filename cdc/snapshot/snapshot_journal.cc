#include "cdc/snapshot/snapshot_journal.h"

#include <utility>

#include "cdc/snapshot/signal.h"

namespace cdc::snapshot {

SnapshotJournal::SnapshotJournal(std::string slot, std::string id,
                                 const std::vector<std::string>& tables)
    : slot_(std::move(slot)),
      id_(std::move(id)),
      request_(RequestSignal(slot_, id_, tables)) {
  for (const std::string& table : tables) {
    v1::SnapshotTask* task = state_.add_tasks();
    task->set_request_id(id_);
    task->set_table(table);
  }
}

void SnapshotJournal::AddSegment(offsets::TxnId txn, std::string table,
                                 std::vector<std::string> last_key,
                                 uint64_t rows) {
  segments_.push_back({txn, std::move(table), std::move(last_key), rows});
}

std::optional<v1::SnapshotSignal> SnapshotJournal::Update(
    const offsets::AckTracker& tracker, bool final, bool now,
    Clock::time_point at) {
  bool table_done = false;
  while (!segments_.empty() && tracker.Unacked(segments_.front().txn) == 0) {
    const Segment& segment = segments_.front();
    auto* tasks = state_.mutable_tasks();
    for (auto it = tasks->begin(); it != tasks->end(); ++it) {
      if (it->table() != segment.table) continue;
      if (segment.last_key.empty()) {
        tasks->erase(it);
        table_done = true;
      } else {
        SetAfterKey(segment.last_key, &*it);
        it->set_rows(segment.rows);
      }
      break;
    }
    changed_ = true;
    segments_.pop_front();
  }
  if (final) {
    state_.clear_tasks();
    state_.add_finished(id_);
  } else if (!changed_ || (!table_done && !now && at < next_write_)) {
    return std::nullopt;
  }
  v1::SnapshotSignal signal;
  signal.set_slot(slot_);
  signal.mutable_progress()->set_nonce(id_);
  *signal.mutable_state() = state_;
  return signal;
}

void SnapshotJournal::Written(Clock::time_point at) {
  changed_ = false;
  next_write_ = at + kInterval;
}

}  // namespace cdc::snapshot
