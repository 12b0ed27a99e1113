// The snapshot side of the Pipeline: choosing and creating the slot for
// snapshot.mode, and publishing the Snapshotter's rows as READ events.
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
// them never moves the slot. Snapshot() waits for all of them before it
// returns.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cdc/common/log.h"
#include "cdc/common/status.h"
#include "cdc/pg/catalog.h"
#include "cdc/pipeline/pipeline.h"
#include "cdc/snapshot/signal.h"
#include "cdc/snapshot/signal_writer.h"
#include "cdc/snapshot/snapshot_journal.h"

namespace cdc::pipeline {
namespace {

// How often a segment of rows ends (progress is journaled at most every
// SnapshotJournal::kInterval).
constexpr auto kSegmentInterval = std::chrono::seconds(1);

}  // namespace

absl::Status Pipeline::CreateExportingSlot(const std::string& slot,
                                           bool temporary) {
  absl::StatusOr<std::unique_ptr<pg::ReplicationStream>> exporter =
      pg::ReplicationStream::Connect(config_.source.dsn);
  if (!exporter.ok()) return exporter.status();
  absl::StatusOr<pg::ReplicationStream::CreatedSlot> created =
      (*exporter)->CreateSlotWithSnapshot(slot, temporary);
  if (!created.ok()) {
    return WithPrefix(
        created.status(),
        absl::StrCat("cannot create ", temporary ? "temporary " : "",
                     "replication slot \"", slot, "\": "));
  }
  exporter_ = *std::move(exporter);
  exported_ = *std::move(created);
  snapshot_due_ = true;
  return absl::OkStatus();
}

absl::Status Pipeline::PrepareSlot(pg::SqlConnection& sql) {
  const std::string& slot = config_.source.slot;
  const std::string& mode = config_.snapshot.mode;
  // A temporary slot's name: the pid, so that two pgcdc processes of one
  // configuration do not collide.
  const std::string temp =
      absl::StrCat(slot.substr(0, 40), "_snapshot_", getpid());
  if (mode == "initial_only") {
    if (absl::Status s = CreateExportingSlot(temp, /*temporary=*/true);
        !s.ok()) {
      return s;
    }
    start_lsn_ = exported_.consistent_point;
    LogInfo("snapshot only (snapshot.mode initial_only): consistent point ",
            FormatLsn(start_lsn_), " from temporary slot \"", temp, "\" on ",
            sql.Endpoint(), "/", database_);
    return absl::OkStatus();
  }

  absl::StatusOr<pg::SlotInfo> found = pg::FindSlot(sql, slot);
  if (!found.ok()) return found.status();
  if (found->exists && found->lost) {
    if (mode != "when_needed") {
      return absl::FailedPreconditionError(absl::StrCat(
          "replication slot \"", slot,
          "\" is lost (pg_replication_slots.wal_status = 'lost'): the server "
          "removed WAL it still needed, so changes since its position are "
          "gone. Start over with a new snapshot: SELECT "
          "pg_drop_replication_slot('",
          slot, "'), or set snapshot.mode: when_needed"));
    }
    LogWarning("replication slot \"", slot,
               "\" is lost (wal_status 'lost'): dropping it and starting "
               "over with a new snapshot (snapshot.mode when_needed)");
    if (absl::Status s = pg::DropSlot(sql, slot); !s.ok()) return s;
    found->exists = false;
  }

  if (!found->exists && mode != "never") {
    if (absl::Status s = CreateExportingSlot(temp, /*temporary=*/true);
        !s.ok()) {
      return s;
    }
    start_lsn_ = exported_.consistent_point;
    // Keyless tables first: they cannot be resumed, so the sooner they are
    // behind, the more of an interrupted snapshot can be.
    std::stable_partition(
        tables_.begin(), tables_.end(),
        [](const pg::TableInfo& t) { return t.primary_key.empty(); });
    if (absl::Status s = WriteInitialRequest(sql); !s.ok()) return s;
    if (absl::Status s = PromoteSnapshotSlot(sql, temp); !s.ok()) return s;
    LogInfo("created replication slot \"", slot, "\" at ",
            FormatLsn(start_lsn_), " on ", sql.Endpoint(), "/", database_,
            " with a snapshot of the tables at that point (journaled as \"",
            journal_->id(), "\": an interrupted snapshot resumes)");
    return absl::OkStatus();
  }
  if (!found->exists) {
    absl::StatusOr<pg::SlotInfo> created = pg::EnsureSlot(sql, slot);
    if (!created.ok()) return created.status();
    found = created;
  }
  start_lsn_ = found->confirmed_flush;
  LogInfo(found->created ? "created" : "using", " replication slot \"", slot,
          "\" at ", FormatLsn(start_lsn_), " on ", sql.Endpoint(), "/",
          database_);
  if (mode == "always") {
    if (absl::Status s = CreateExportingSlot(temp, /*temporary=*/true);
        !s.ok()) {
      return s;
    }
    LogInfo("snapshot.mode always: snapshot at ",
            FormatLsn(exported_.consistent_point),
            " (temporary slot); the stream replays from ",
            FormatLsn(start_lsn_),
            ", so changes between the two appear again after the snapshot");
  }
  return absl::OkStatus();
}

absl::Status Pipeline::Snapshot() {
  if (!snapshot_due_) return absl::OkStatus();
  snapshot_due_ = false;
  snapshot_txn_ = envelope::TxnContext();
  snapshot_txn_.commit_lsn = exported_.consistent_point;
  snapshot_txn_.commit_ts_us = NowUnixMicros();

  absl::Status status = absl::OkStatus();
  if (stop_->load()) {
    status = absl::CancelledError("stopped before the snapshot began");
  } else {
    snapshot::Snapshotter snapshotter(config_.source.dsn, tables_, this,
                                      metrics_, stop_);
    if (journal_ != nullptr) snapshotter.ReadInKeyOrder();
    // The exported snapshot is importable only while the exporting
    // connection is open and idle: close it once imported (a temporary slot
    // goes with it).
    absl::StatusOr<snapshot::SnapshotResult> result =
        snapshotter.Run(exported_.snapshot_name, [this] { exporter_.reset(); });
    status = result.status();
  }
  exporter_.reset();
  if (in_txn_) {
    // Stopped or failed inside a table: close its tracker transaction so
    // that the acknowledgements still arriving are accounted for.
    (void)CloseSnapshotTable();
  }

  // Everything read is acknowledged before the stream starts (or before
  // the slot is given up): the consistent point is then fully published.
  // No time limit while all is well; shutdown_timeout_ms once stopping.
  bool stopping = !status.ok() || stop_->load();
  const auto grace =
      std::chrono::milliseconds(config_.kafka.shutdown_timeout_ms);
  auto deadline = Clock::now() + grace;
  while (tracker_.inflight_events() > 0 && fatal_.ok()) {
    if (!stopping && stop_->load()) {
      stopping = true;
      deadline = Clock::now() + grace;
    }
    if (stopping && Clock::now() >= deadline) break;
    ServeAcks(50);
    UpdateJournal(/*final=*/false);
  }
  ServeAcks(0);
  AfterAcks();
  if (journal_ != nullptr) {
    UpdateJournal(
        /*final=*/status.ok() && fatal_.ok() && tracker_.inflight_events() == 0,
        /*now=*/true);
  }
  if (status.ok() && !fatal_.ok()) status = fatal_;
  if (status.ok() && tracker_.inflight_events() > 0) {
    status = stop_->load() ? absl::CancelledError(
                                 "stopped before the snapshot was acknowledged")
                           : absl::DeadlineExceededError(absl::StrCat(
                                 tracker_.inflight_events(),
                                 " snapshot event(s) were not acknowledged"));
  }
  journal_.reset();
  exporter_.reset();  // a temporary slot goes with it
  if (status.ok()) return absl::OkStatus();

  if (status.code() == absl::StatusCode::kCancelled) {
    LogInfo(status.message());
    return absl::OkStatus();
  }
  return status;
}

absl::Status Pipeline::PromoteSnapshotSlot(pg::SqlConnection& sql,
                                           const std::string& from) {
  const std::string& slot = config_.source.slot;
  absl::Status s =
      sql.Query("SELECT pg_copy_logical_replication_slot($1, $2, false)",
                {from, slot})
          .status();
  if (!s.ok()) {
    return WithPrefix(s,
                      absl::StrCat("cannot make replication slot \"", slot,
                                   "\" from the snapshot's temporary slot: "));
  }
  return absl::OkStatus();
}

absl::Status Pipeline::WriteInitialRequest(pg::SqlConnection& sql) {
  std::vector<std::string> tables;
  for (const pg::TableInfo& t : tables_) tables.push_back(t.name.Qualified());
  journal_ = std::make_unique<snapshot::SnapshotJournal>(
      config_.source.slot,
      absl::StrCat(snapshot::kInitialRequestPrefix, FormatLsn(start_lsn_)),
      tables);
  absl::Status s =
      snapshot::WriteSignal(sql, signal_keys_, journal_->request()).status();
  if (!s.ok()) {
    return WithPrefix(s,
                      "cannot write the snapshot's journal to the WAL "
                      "(pg_logical_emit_message): ");
  }
  journal_->Written(Clock::now());
  return absl::OkStatus();
}

absl::Status Pipeline::CloseSegment(const pg::TupleData* row, uint64_t rows) {
  const offsets::TxnId txn = txn_id_;
  std::vector<std::string> last_key;
  if (row != nullptr) {
    for (size_t p : key_positions_) last_key.push_back(row->values[p].data);
  }
  if (absl::Status s = CloseSnapshotTable(); !s.ok()) return s;
  journal_->AddSegment(txn, snapshot_table_, std::move(last_key), rows);
  if (row != nullptr) {
    if (absl::Status s = OpenTransaction(snapshot_txn_); !s.ok()) return s;
  }
  next_segment_ = Clock::now() + kSegmentInterval;
  UpdateJournal(/*final=*/false);
  return absl::OkStatus();
}

void Pipeline::UpdateJournal(bool final, bool now) {
  if (journal_ == nullptr) return;
  std::optional<v1::SnapshotSignal> progress =
      journal_->Update(tracker_, final, now, Clock::now());
  if (!progress.has_value()) return;
  if (absl::Status s = WriteSignal(*progress); !s.ok()) {
    // Not fatal: a later entry (or, after a crash, the stream) catches up;
    // at worst a resumed snapshot repeats a segment.
    LogWarning("cannot journal the snapshot's progress: ", s.message());
    return;
  }
  journal_->Written(Clock::now());
}

const pg::TableInfo* Pipeline::FindTable(std::string_view qualified) const {
  for (const pg::TableInfo& t : tables_) {
    if (t.name.Qualified() == qualified) return &t;
  }
  return nullptr;
}

absl::Status Pipeline::BeginTable(const pg::RelationMessage& relation) {
  // Names no event can carry (envelope_builder.h): the error the stream
  // would stop with, before a row is read.
  if (absl::Status s = envelope::CheckRelationNames(relation); !s.ok()) {
    return WithPrefix(
        s, absl::StrCat("at LSN ", FormatLsn(snapshot_txn_.commit_lsn), ": "));
  }
  relations_.Apply(relation);
  if (absl::Status s = ResolveTypes(relation); !s.ok()) return s;
  snapshot_table_ =
      absl::StrCat(relation.namespace_name, ".", relation.relation_name);
  key_positions_.clear();
  if (const pg::TableInfo* table = FindTable(snapshot_table_)) {
    for (const std::string& k : table->primary_key) {
      for (size_t i = 0; i < relation.columns.size(); ++i) {
        if (relation.columns[i].name == k) key_positions_.push_back(i);
      }
    }
  }
  next_segment_ = Clock::now() + kSegmentInterval;
  return OpenTransaction(snapshot_txn_);
}

absl::Status Pipeline::Row(const pg::RelationMessage& relation,
                           const pg::TupleData& row, uint64_t ordinal) {
  const size_t window = static_cast<size_t>(config_.kafka.max_inflight_bytes);
  // Backpressure, as in Stream(): stop reading while the window is full.
  while (tracker_.inflight_bytes() >= window && fatal_.ok()) {
    ServeAcks(10);
    if (stop_->load(std::memory_order_relaxed)) {
      return absl::CancelledError("stopped by a signal");
    }
  }
  if (!fatal_.ok()) return fatal_;
  if (ordinal > UINT32_MAX) {
    return absl::ResourceExhaustedError(
        "more than 4294967295 rows do not fit source.seq");
  }
  if (absl::Status s =
          builder_->BuildRead(relation.relation_oid, row, snapshot_txn_,
                              static_cast<uint32_t>(ordinal),
                              NowUnixMicros() / 1000, &snapshot_record_);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ProduceRecord(snapshot_record_); !s.ok()) return s;
  metrics_->CountEvent(snapshot_table_, v1::READ);
  metrics_->SetInflight(tracker_.inflight_events(), tracker_.inflight_bytes());
  // Serve delivery reports now and then while the window has room.
  if ((ordinal & 255) == 255) {
    ServeAcks(0);
    // A segment ends at a key: only with the whole key known to the
    // journal (a keyless table is one segment).
    if (journal_ != nullptr && !key_positions_.empty() &&
        Clock::now() >= next_segment_) {
      return CloseSegment(&row, ordinal + 1);
    }
  }
  return absl::OkStatus();
}

absl::Status Pipeline::EndTable(const pg::RelationMessage&, uint64_t rows) {
  if (journal_ == nullptr) return CloseSnapshotTable();
  return CloseSegment(nullptr, rows);
}

absl::Status Pipeline::CloseSnapshotTable() {
  // The table's position is the slot's start: acknowledging its events
  // completes the prefix up to there and never moves the slot.
  if (absl::Status s = CommitOpenTransaction(start_lsn_); !s.ok()) return s;
  AfterAcks();
  return absl::OkStatus();
}

}  // namespace cdc::pipeline
