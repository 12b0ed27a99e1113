// IncrementalDriver: the I/O of incremental snapshots, around the pure
// IncrementalSnapshot machine (cdc/snapshot/incremental.h, which says what
// the protocol is and why it is exact): snapshot signals from the stream
// are checked here, chunks are read here, and their rows are published
// here, as READ events, through the coordinator (Host).
//
// Signals are honoured only when sealed with pgcdc's key and written in the
// transaction they name (cdc/snapshot/signal_auth.h); any other message with
// the prefix is refused, logged (at most once a minute) and counted.
//
// Chunks are read by a ChunkReader, on a thread and session of its own, so
// that the pipeline's loop streams, confirms and stops while a chunk is
// read: the condition of a request is SQL, and a slow one must not hold the
// slot. Each chunk's shape comes from the catalog at the time it is read,
// into a relation cache of its own, so the stream's cache keeps following
// the stream. A chunk that fails for a passing reason (a lost session, a
// lock, a serialization conflict, its timeout) is tried again from a new
// low watermark; one that cannot be read is given up and said so, except a
// slot's own snapshot, whose rows would be lost: that stops pgcdc.
//
// A chunk's READ events belong to the tracker transaction of its close
// watermark; their identity is (commit_lsn = the close's commit LSN,
// snapshot, seq = row index in the chunk), ordered right before anything
// the stream sends after the close.
//
// A new machine, with a new nonce, for every replication session (Restart):
// a reconnect replays the journal like a restart.
//
// Owns the machine, the chunk reader and the chunk's relation cache and
// builder; borrows the configuration, the captured tables, the stream's
// relation cache, the signal keys, the tracker, the metrics and the host,
// which must outlive it. Not thread-safe: one owner (the pipeline loop).
#ifndef CDC_SNAPSHOT_INCREMENTAL_DRIVER_H_
#define CDC_SNAPSHOT_INCREMENTAL_DRIVER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cdc/common/lsn.h"
#include "cdc/config/config.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/metrics/metrics.h"
#include "cdc/offsets/ack_tracker.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/snapshot/chunk_reader.h"
#include "cdc/snapshot/incremental.h"
#include "cdc/snapshot/signal_auth.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

class IncrementalDriver {
 public:
  // What the driver asks of the pipeline that streams.
  class Host {
   public:
    virtual ~Host() = default;
    // Reads from the catalog the types `relation`'s columns use into the
    // stream's relation cache (kUnavailable and the like when it cannot).
    virtual absl::Status ResolveTypes(const pg::RelationMessage& relation) = 0;
    // An envelope builder over `relations` with the configured options.
    virtual std::unique_ptr<envelope::EnvelopeBuilder> NewBuilder(
        const pg::RelationCache* relations) const = 0;
    // Publishes one record under the open transaction.
    virtual absl::Status ProduceRecord(const envelope::Record& record) = 0;
    // Writes a signal (a logical decoding message) on the SQL session.
    virtual absl::Status WriteSignal(const v1::SnapshotSignal& signal) = 0;
    // Stops pgcdc with `status` (a fatal error).
    virtual void Fail(const absl::Status& status) = 0;
  };

  // The stream's open transaction, in which a signal arrived.
  struct Txn {
    offsets::TxnId id = 0;
    uint32_t xid = 0;
    Lsn commit_lsn = 0;
  };

  IncrementalDriver(const config::Config* config,
                    const std::vector<pg::TableInfo>* tables,
                    const pg::RelationCache* relations, const SignalKeys* keys,
                    offsets::AckTracker* tracker, metrics::Metrics* metrics,
                    Host* host);
  ~IncrementalDriver();

  // A new machine, with a new nonce: at start and for every replication
  // session. A read in progress belongs to the machine it is replaced with.
  void Restart();

  // Tables about to be added to the publication: when the slot exists (and
  // snapshot.mode is not never), writes a snapshot request for them on
  // `sql`.
  absl::Status RequestSnapshotOfAdded(pg::SqlConnection& sql,
                                      const std::vector<std::string>& added);

  // The stream opened a transaction the server committed: a chunk's
  // snapshot must see it (ChunkReader::Start).
  void ObserveCommitted(uint32_t xid);

  // A pgcdc.snapshot message from the stream; `open` the transaction it
  // arrived in (nullptr: none). Errors are fatal.
  absl::Status HandleSignal(const pg::LogicalMessage& message, const Txn* open);
  // A streamed change: inside an open chunk's window it supersedes the
  // chunk's copy of its row.
  void WatchChange(const pg::PgOutputMessage& change);
  bool WindowOpen() const { return machine_->WindowOpen(); }
  // The changes a chunk being read must answer for are at their budget: the
  // stream waits until the chunk arrives.
  bool WatchFull() const { return machine_->WatchFull(); }
  // From the loop: a chunk read, chunk acknowledgements, retries, progress.
  void Tick();
  // Readable when a chunk read ends (-1: no reader).
  int wake_fd() const;

 private:
  using Clock = std::chrono::steady_clock;
  using Effects = IncrementalSnapshot::Effects;

  // A message with the signal prefix that is no signal of pgcdc's: counted,
  // and logged at most once a minute.
  void RejectSignal(const pg::LogicalMessage& message, std::string_view why);
  // The effects that need no transaction: log notes, start a read, write.
  void ApplyEffects(Effects effects);
  // Hands a chunk to the chunk reader (or gives the table up).
  void StartChunkRead(const IncrementalSnapshot::Chunk& chunk);
  // Gives up the task being read (`what`), saying `why`, and counts it.
  void Skip(const std::string& what, absl::string_view why);
  // The read chunk to the machine; a failed read tried again or given up.
  void ChunkDone(ChunkReader::Result result);
  // Publishes the closed chunk's rows in the open transaction `txn`.
  absl::Status PublishChunk(const Txn& txn, uint64_t chunk);
  // Every 10 s (and at once for the first chunk): the table being read,
  // rows against the catalog's estimate, this run's rate, time left.
  void LogProgress();
  const pg::TableInfo* FindTable(std::string_view qualified) const;

  const config::Config* config_;
  const std::vector<pg::TableInfo>* tables_;
  const pg::RelationCache* relations_;  // the stream's
  const SignalKeys* keys_;
  offsets::AckTracker* tracker_;
  metrics::Metrics* metrics_;
  Host* host_;

  std::unique_ptr<IncrementalSnapshot> machine_;
  // Reading.
  std::unique_ptr<ChunkReader> chunk_reader_;
  std::optional<IncrementalSnapshot::Chunk> reading_;
  // The ids of the last kRecentXids transactions the stream delivered: a
  // chunk's snapshot must see them all (ChunkReader::Start).
  static constexpr size_t kRecentXids = 65536;
  std::deque<uint32_t> recent_xids_;
  int chunk_failures_ = 0;  // reads failed in a row
  int chunk_timeouts_ = 0;  // reads past snapshot.chunk_timeout_ms in a row
  Clock::time_point next_tick_;
  // Publishing: the read chunk's shape, and the tracker transactions of
  // published chunks with their numbers, until acknowledged.
  std::unique_ptr<pg::RelationCache> chunk_relations_;
  std::unique_ptr<envelope::EnvelopeBuilder> chunk_builder_;
  pg::RelationMessage chunk_relation_;
  envelope::Record record_;
  std::vector<std::pair<offsets::TxnId, uint64_t>> chunk_txns_;
  // Rejected signals not yet logged.
  uint64_t rejects_unlogged_ = 0;
  Clock::time_point next_reject_log_;
  // For the progress line: the task, since when and from how many rows this
  // run has read it, and the catalog's estimate of its table.
  Clock::time_point next_log_;
  std::string progress_task_;
  Clock::time_point progress_since_;
  uint64_t progress_rows0_ = 0;
  int64_t chunk_estimate_ = -1;
};

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_INCREMENTAL_DRIVER_H_
