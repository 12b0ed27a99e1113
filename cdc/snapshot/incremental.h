// IncrementalSnapshot: the state machine of snapshots taken while the slot
// streams, by the watermark method of Netflix's DBLog (as Debezium's
// incremental snapshots), journaled in the WAL itself.
//
// A table is read in chunks of up to `chunk_rows` rows in primary key order.
// For each chunk pgcdc writes a low watermark (an `open` signal, a logical
// decoding message); when the stream brings it back, pgcdc reads the chunk
// (SELECT ... WHERE key > last key ORDER BY key LIMIT n, on another thread
// while the stream goes on) and writes a high watermark (`close`). From the
// open until the close comes back, every streamed change to a row of that
// chunk removes the chunk's copy of the row: the change is newer, or as new,
// and is published in its place. (Changes streamed while the chunk is being
// read are remembered by key until it arrives; past `watch_budget_bytes` of
// them, the pipeline waits for the read before it streams on.) At the close the
// remaining rows are published as READ events. Since the chunk was read
// after its open committed and before its close did, each published row is
// the row's state at the close, and everything the stream publishes after
// it is newer: rebuilding the table from its topic gives the table.
//
// Resuming: each signal pgcdc writes carries the state of the snapshot as
// far as the broker acknowledged it (SnapshotState), so any such state is
// true whenever it is read. A run writes no state before its own first
// signal (a sync marker with an empty state) has come back: by then it has
// read every journal an earlier run wrote, since they all lie before it in
// the WAL, so nothing it writes can list work that is already done — a
// later run adopting it would do that work again (or, for a keyless table of
// a slot's own snapshot, stop). The pipeline holds the transaction of the
// newest state (and of each request no state has listed yet) unconfirmed until
// a later signal lists what it vouches for: the slot's confirmed position
// therefore never passes the journal, and after a crash or reconnect the
// stream replays it and pgcdc continues from there (a fresh machine, with a
// fresh nonce). A restart repeats at most the chunks not yet acknowledged.
//
// Pure: the pipeline reads chunks, writes signals and publishes rows as the
// returned Effects say; the machine never touches the database or broker.
// Thread-compatible: one owner.
#ifndef CDC_SNAPSHOT_INCREMENTAL_H_
#define CDC_SNAPSHOT_INCREMENTAL_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

// One string per primary key, equal for equal keys only: the key's column
// texts, each prefixed by its length.
std::string EncodeKey(const std::vector<std::string_view>& values);

struct ChunkRow {
  std::string key;  // EncodeKey of the row's primary key values
  pg::TupleData row;
};

class IncrementalSnapshot {
 public:
  // The pipeline's handle on the transaction a signal arrived in.
  using Token = uint64_t;

  struct Chunk {
    uint64_t number = 0;
    std::string request_id;
    std::string table;                   // "schema.table"
    std::string where;                   // empty: none
    std::vector<std::string> after_key;  // empty: from the first row
    size_t limit = 0;
  };

  // What the pipeline does next, in this order: release, hold (the
  // arriving signal's transaction, before it is committed), publish
  // TakeWindow() (in the arriving close's transaction), read `read` (then
  // ChunkRead, DropTask or RetryLater), write `emit`.
  struct Effects {
    std::vector<Token> release;
    bool hold = false;
    bool publish = false;
    uint64_t published_chunk = 0;  // with `publish`: report its ack
    std::optional<Chunk> read;
    std::optional<v1::SnapshotSignal> emit;
    // Requests taken on and tables finished, for the log.
    std::vector<std::string> notes;
  };

  IncrementalSnapshot(std::string slot, std::string nonce, size_t chunk_rows,
                      size_t watch_budget_bytes = 16 * 1024 * 1024);

  // A snapshot signal from the stream, in the transaction `token`. Signals
  // for other slots are ignored.
  Effects OnSignal(const v1::SnapshotSignal& signal, Token token);

  // The rows of the chunk Effects::read asked for, in key order, and the
  // key values of the last one (ignored when there are none). Fewer rows
  // than the limit means the table's last chunk — unless `cut_short`: the
  // reader stopped keeping rows early (its memory budget), and the next
  // chunk starts after `last_key`.
  Effects ChunkRead(std::vector<ChunkRow> rows,
                    std::vector<std::string> last_key, bool cut_short = false);
  // The current table cannot be read (gone, no key, a bad condition): it is
  // given up; the pipeline logs why.
  Effects DropTask();
  // A read or a write failed for a passing reason: Tick() tries again.
  Effects RetryLater();
  // Starts what is due after RetryLater (or nothing).
  Effects Tick();

  // A streamed change to `table` ("schema.table") with primary key `key`:
  // supersedes the open chunk's copy of that row.
  void OnChange(std::string_view table, std::string_view key);
  void OnTruncate(std::string_view table);
  // Whether a chunk is open (being read, or read and not yet closed):
  // streamed changes may matter.
  bool WindowOpen() const {
    return phase_ == Phase::kReading || phase_ == Phase::kWindow;
  }
  // Whether changes to `table` matter now (a chunk of it is open).
  bool Watching(std::string_view table) const {
    return WindowOpen() && window_table_ == table;
  }
  // Whether the changes remembered while a chunk is read have reached the
  // watch budget: the pipeline streams on only once the chunk arrives.
  bool WatchFull() const {
    return phase_ == Phase::kReading && read_changes_bytes_ > watch_budget_;
  }

  // After Effects::publish: the chunk's rows that no change superseded, in
  // key order.
  std::vector<ChunkRow> TakeWindow();
  // Every event of chunk `chunk` (from Effects::published_chunk) is
  // acknowledged.
  Effects ChunkAcked(uint64_t chunk);

  bool running() const { return !published_.tasks().empty(); }
  // Tables left and the current one, for progress and metrics.
  const v1::SnapshotState& published() const { return published_; }
  const v1::SnapshotState& acknowledged() const { return acked_; }
  const std::string& nonce() const { return nonce_; }

 private:
  enum class Phase {
    kIdle,       // nothing asked of the stream
    kSyncing,    // this run's sync marker written, not yet seen
    kOpening,    // open written, not yet seen
    kReading,    // open seen, chunk being read by the pipeline
    kWindow,     // close written, not yet seen
    kDraining,   // all published; waiting for acks before the last journal
    kFinishing,  // last journal written, not yet seen
  };
  struct ChunkResult {
    uint64_t chunk = 0;
    std::string request_id;
    std::string table;
    std::vector<std::string> after_key;
    uint64_t rows = 0;
    bool table_done = false;
    bool acked = false;
  };
  struct Held {
    Token token = 0;
    std::vector<std::string> ids;  // request ids it vouches for
  };

  v1::SnapshotSignal Signal() const;
  // Writes the sync marker when this run has not seen a signal of its own
  // yet (true), so that what it writes next is informed by every journal.
  bool Sync(Effects* e);
  void StartChunk(Effects* e);
  // Writes the final journal when nothing is left but unlisted holds.
  void MaybeFinish(Effects* e);
  void Release(const v1::SnapshotState& state, Effects* e);
  void Adopt(const v1::SnapshotState& state);
  // Notes the snapshot resumed from adopted journals, if any is left to read.
  void NoteResumed(Effects* e) const;
  bool Known(const std::string& request_id) const;
  static void Apply(const ChunkResult& result, v1::SnapshotState* state);
  static void DropTable(const std::string& request_id, const std::string& table,
                        v1::SnapshotState* state);

  // Forgets what was remembered while a chunk was read.
  void ClearReadChanges();

  std::string slot_;
  std::string nonce_;
  size_t chunk_rows_;
  size_t watch_budget_;
  Phase phase_ = Phase::kIdle;
  uint64_t next_chunk_ = 1;
  uint64_t expected_chunk_ = 0;
  bool own_seen_ = false;
  bool adopted_ = false;  // a journal of an earlier run was adopted
  // What is published (handed to the producer) and what is acknowledged.
  v1::SnapshotState published_;
  v1::SnapshotState acked_;
  std::deque<ChunkResult> unacked_;
  std::vector<Held> held_;

  // The open chunk.
  std::string window_table_;
  ChunkResult window_result_;
  std::vector<ChunkRow> window_rows_;
  std::vector<bool> superseded_;
  absl::flat_hash_map<std::string, size_t> window_index_;
  // Changes streamed while the open chunk is being read.
  absl::flat_hash_set<std::string> read_changes_;
  size_t read_changes_bytes_ = 0;
  bool read_truncated_ = false;
};

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_INCREMENTAL_H_
