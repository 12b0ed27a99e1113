// SnapshotJournal: the journal of a new slot's snapshot, kept in the WAL so
// that an interrupted snapshot resumes rather than restarts.
//
// The request (a pgcdc.snapshot message for every table, id "initial-<C>")
// is written before the permanent slot is made, so the slot never exists
// without it after its position. Then the tables are read in primary key
// order, in segments of rows, each segment one tracker transaction: as the
// broker acknowledges segments, the journal's state (per table: the last
// key published and the rows so far; a finished table leaves it) is written
// again as a progress message — every few seconds, at a table's end, and at
// the snapshot's end with the request named finished. After a crash the
// stream meets the request and the last progress and reads what is left as
// an incremental snapshot (cdc/snapshot/incremental.h).
//
// This class decides what the journal says and when it is due; the caller
// writes it (snapshot::WriteSignal) and tells it so. Pure: no I/O, the
// clock is given. Thread-compatible: one owner (the pipeline loop).
#ifndef CDC_SNAPSHOT_SNAPSHOT_JOURNAL_H_
#define CDC_SNAPSHOT_SNAPSHOT_JOURNAL_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "cdc/offsets/ack_tracker.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

class SnapshotJournal {
 public:
  using Clock = std::chrono::steady_clock;
  // How often progress is written at most, while no table ends.
  static constexpr auto kInterval = std::chrono::seconds(3);

  // The journal of request `id` for `slot`'s snapshot of `tables`
  // ("schema.table"), in the order they are read.
  SnapshotJournal(std::string slot, std::string id,
                  const std::vector<std::string>& tables);

  const std::string& id() const { return id_; }
  // The request, written before the slot is made.
  const v1::SnapshotSignal& request() const { return request_; }

  // A segment of `table` ended as tracker transaction `txn`: `rows` rows of
  // the table so far, the last with primary key `last_key` (empty: the
  // table is done).
  void AddSegment(offsets::TxnId txn, std::string table,
                  std::vector<std::string> last_key, uint64_t rows);

  // Folds in the segments `tracker` has acknowledged, in order, and returns
  // the progress message to write when one is due: with `final`, always
  // (and it says the request is finished); otherwise when something changed
  // and a table ended, `now` is set, or kInterval passed since the last
  // write. After writing it, call Written; when writing fails, do not (a
  // later call tries again).
  std::optional<v1::SnapshotSignal> Update(const offsets::AckTracker& tracker,
                                           bool final, bool now,
                                           Clock::time_point at);
  // The request or a progress message was written at `at`.
  void Written(Clock::time_point at);

  // Segments ended but not yet acknowledged.
  size_t pending_segments() const { return segments_.size(); }

 private:
  struct Segment {
    offsets::TxnId txn = 0;
    std::string table;
    std::vector<std::string> last_key;  // empty: the table is done
    uint64_t rows = 0;                  // of the table, so far
  };

  std::string slot_;
  std::string id_;
  v1::SnapshotSignal request_;
  std::deque<Segment> segments_;
  v1::SnapshotState state_;  // as far as acknowledged
  bool changed_ = false;
  Clock::time_point next_write_;
};

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_SNAPSHOT_JOURNAL_H_
