// InitialSnapshot: choosing and creating the slot for snapshot.mode, and the
// snapshot that goes with it — the rows already in the tables, read by a
// Snapshotter (cdc/snapshot/snapshotter.h) and published as READ events
// through the pipeline (Host), with a new slot's journal
// (cdc/snapshot/snapshot_journal.h).
//
// Which snapshot, by mode and slot:
//   slot missing, initial / when_needed / always: a TEMPORARY slot is
//     created with an exported snapshot (CREATE_REPLICATION_SLOT ...
//     TEMPORARY ... SNAPSHOT 'export'); the snapshot is exactly the state at
//     its consistent point C. pgcdc then writes a snapshot request for every
//     table into the WAL (a pgcdc.snapshot message, see
//     cdc/snapshot/incremental.h) and only then makes the permanent slot, as
//     a copy of the temporary one (pg_copy_logical_replication_slot: same
//     consistent point C), so the slot never exists without the request
//     after its position. The tables are read in primary key order; as the
//     broker acknowledges segments of rows, progress (table, last key,
//     rows) is journaled the same way, and when all is acknowledged the
//     journal says the request is finished. The stream then starts at C and
//     meets request and journal: nothing left to do. If pgcdc stops or dies
//     mid-snapshot (even kill -9), the next start streams the slot from C,
//     meets the request and the last progress, and reads what is left as an
//     incremental snapshot, chunk by chunk between watermarks, while it
//     streams: consistent, because every change after C is streamed, and
//     resumed, not restarted. (Tables without a primary key are read first;
//     one cut short cannot be resumed, and pgcdc says so: see
//     IncrementalDriver::StartChunkRead.)
//   slot missing, never: the slot is created as before, no snapshot.
//   slot lost (wal_status 'lost'), when_needed: dropped, then as missing.
//     Under the other modes a lost slot is an environment error.
//   slot exists, always: a TEMPORARY slot is created with an exported
//     snapshot only to obtain a consistent point C' and a snapshot exact at
//     it; the temporary slot goes away with its connection. The permanent
//     slot then streams from its own confirmed position X <= C', so the
//     transactions committed in [X, C') are published twice: once inside the
//     snapshot, once replayed by the stream after it. Applying the topic in
//     order still ends in the table's state, since every replayed change is
//     followed by all later changes of its row; a consumer that orders
//     events by (commit_lsn, snapshot first, seq) and skips older ones sees
//     the replayed changes as older than the snapshot (their commit_lsn <
//     C') and skips them. pgcdc itself must not skip them: a snapshot
//     cannot say that a row was deleted, so the replayed DELETEs (and
//     TRUNCATEs) are what removes such rows for a consumer that applies the
//     topic in order (tested: AlwaysSnapshotsOnAnExistingSlot).
//   initial_only: a TEMPORARY slot's exported snapshot; the permanent slot
//     is neither created nor used, and pgcdc exits after the snapshot.
//
// Snapshot events go through the same AckTracker, producer and in-flight
// window as streamed ones: each segment of a table is one tracker
// transaction whose position is the slot's start position, so acknowledging
// them never moves the slot. Run() waits for all of them before it returns.
//
// Owns the exporting connection, the journal and the rows' scratch state;
// borrows the configuration, the tables, the tracker, the signal keys, the
// metrics, the stop flag and the host, which must outlive it. Not
// thread-safe: one owner (the pipeline, before it streams).
#ifndef CDC_SNAPSHOT_INITIAL_SNAPSHOT_H_
#define CDC_SNAPSHOT_INITIAL_SNAPSHOT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/config/config.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/metrics/metrics.h"
#include "cdc/offsets/ack_tracker.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/snapshot/signal_auth.h"
#include "cdc/snapshot/snapshot_journal.h"
#include "cdc/snapshot/snapshotter.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

class InitialSnapshot : private RowSink {
 public:
  // What the snapshot asks of the pipeline that publishes its rows.
  class Host {
   public:
    virtual ~Host() = default;
    // The stream's relation cache takes `relation`, and the types its
    // columns use are read from the catalog.
    virtual absl::Status AddRelation(const pg::RelationMessage& relation) = 0;
    // The READ event of `row` (EnvelopeBuilder::BuildRead).
    virtual absl::Status BuildRead(pg::Oid relation_oid,
                                   const pg::TupleData& row,
                                   const envelope::TxnContext& snapshot,
                                   uint32_t ordinal,
                                   envelope::SnapshotMark mark, int64_t now_us,
                                   envelope::Record* record) = 0;
    // Registers a tracker transaction; its records follow.
    virtual absl::Status OpenTransaction(const envelope::TxnContext& txn) = 0;
    virtual bool in_transaction() const = 0;
    virtual offsets::TxnId open_transaction() const = 0;
    // Commits the open transaction at `end_lsn` and updates what follows
    // from the acknowledgements.
    virtual absl::Status CommitSnapshotTransaction(Lsn end_lsn) = 0;
    // Publishes one record under the open transaction.
    virtual absl::Status ProduceRecord(const envelope::Record& record) = 0;
    // Serves delivery reports for up to `timeout_ms`.
    virtual void ServeAcks(int timeout_ms) = 0;
    virtual void AfterAcks() = 0;
    // The pipeline's fatal error (OK while there is none).
    virtual absl::Status fatal() const = 0;
    // Writes a signal (a logical decoding message) on the SQL session.
    virtual absl::Status WriteSignal(const v1::SnapshotSignal& signal) = 0;
  };

  InitialSnapshot(const config::Config* config,
                  const offsets::AckTracker* tracker, const SignalKeys* keys,
                  metrics::Metrics* metrics, const std::atomic<bool>* stop,
                  Host* host);
  ~InitialSnapshot() override;

  // Finds or creates the slot and decides whether a snapshot is due; returns
  // the slot's start position. May reorder `tables` (keyless ones first);
  // Run() reads them as they are then. `database` names the server in logs.
  absl::StatusOr<Lsn> PrepareSlot(pg::SqlConnection& sql,
                                  const std::string& database,
                                  std::vector<pg::TableInfo>* tables);

  // The snapshot PrepareSlot found due, if any: reads the tables, publishes
  // their rows and returns once the broker acknowledged them all (see
  // Pipeline::Snapshot).
  absl::Status Run();

 private:
  friend class InitialSnapshotTest;  // drives the RowSink without a server
  using Clock = std::chrono::steady_clock;

  absl::Status CreateExportingSlot(const std::string& slot, bool temporary);
  // Copies the temporary slot `from` to the configured slot (same
  // consistent point).
  absl::Status PromoteSnapshotSlot(pg::SqlConnection& sql,
                                   const std::string& from);
  // Writes the journal's request before the slot is made.
  absl::Status WriteInitialRequest(pg::SqlConnection& sql);
  // With source.slot_failover: turns the configured slot's failover flag on
  // when it is off (a slot made before the setting, or by
  // PromoteSnapshotSlot: pg_copy_logical_replication_slot never copies the
  // flag), with ALTER_REPLICATION_SLOT on a replication connection; left to
  // Pipeline::StartSession when another session holds the slot.
  absl::Status EnsureSlotFailover(const pg::SlotInfo& slot);
  // Ends the tracker transaction of the rows read since the last segment
  // (`row` the last of them, nullptr at the table's end) and, unless the
  // table is done, opens the next.
  absl::Status CloseSegment(const pg::TupleData* row, uint64_t rows);
  // Writes progress for the acknowledged segments when due: every few
  // seconds, at a table's end, at once with `now`; with `final`, that the
  // snapshot is done.
  void UpdateJournal(bool final, bool now = false);
  absl::Status CloseSnapshotTable();
  const pg::TableInfo* FindTable(std::string_view qualified) const;
  // Where row `ordinal` of the table being read stands in the snapshot.
  envelope::SnapshotMark MarkOf(uint64_t ordinal, RowPlace place) const;

  absl::Status BeginTable(const pg::RelationMessage& relation) override;
  absl::Status Row(const pg::RelationMessage& relation,
                   const pg::TupleData& row, uint64_t ordinal,
                   RowPlace place) override;
  absl::Status EndTable(const pg::RelationMessage& relation,
                        uint64_t rows) override;

  const config::Config* config_;
  const offsets::AckTracker* tracker_;
  const SignalKeys* keys_;
  metrics::Metrics* metrics_;
  const std::atomic<bool>* stop_;
  Host* host_;

  // What PrepareSlot decided.
  const std::vector<pg::TableInfo>* tables_ = nullptr;
  Lsn start_lsn_ = kInvalidLsn;
  std::unique_ptr<pg::ReplicationStream> exporter_;
  pg::ReplicationStream::CreatedSlot exported_;
  bool due_ = false;
  // nullptr: this snapshot keeps no journal.
  std::unique_ptr<SnapshotJournal> journal_;

  // Rows this snapshot has published (the first is marked so), and the
  // table being read: its key columns.
  uint64_t rows_read_ = 0;
  std::vector<size_t> key_positions_;
  Clock::time_point next_segment_;
  envelope::TxnContext txn_;
  envelope::Record record_;
  std::string table_;  // "schema.table", for metrics
};

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_INITIAL_SNAPSHOT_H_
