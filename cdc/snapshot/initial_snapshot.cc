#include "cdc/snapshot/initial_snapshot.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdc/common/log.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/wall_clock.h"
#include "cdc/snapshot/signal.h"
#include "cdc/snapshot/signal_writer.h"

namespace cdc::snapshot {
namespace {

// How often a segment of rows ends (progress is journaled at most every
// SnapshotJournal::kInterval).
constexpr auto kSegmentInterval = std::chrono::seconds(1);

}  // namespace

InitialSnapshot::InitialSnapshot(const config::Config* config,
                                 const offsets::AckTracker* tracker,
                                 const SignalKeys* keys,
                                 metrics::Metrics* metrics,
                                 const std::atomic<bool>* stop, Host* host)
    : config_(config),
      tracker_(tracker),
      keys_(keys),
      metrics_(metrics),
      stop_(stop),
      host_(host) {}

InitialSnapshot::~InitialSnapshot() = default;

absl::Status InitialSnapshot::CreateExportingSlot(const std::string& slot,
                                                  bool temporary) {
  absl::StatusOr<std::unique_ptr<pg::ReplicationStream>> exporter =
      pg::ReplicationStream::Connect(config_->source.dsn);
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
  due_ = true;
  return absl::OkStatus();
}

absl::StatusOr<Lsn> InitialSnapshot::PrepareSlot(
    pg::SqlConnection& sql, const std::string& database,
    std::vector<pg::TableInfo>* tables) {
  tables_ = tables;
  const std::string& slot = config_->source.slot;
  const std::string& mode = config_->snapshot.mode;
  // A temporary slot's name: the pid, so that two pgcdc processes of one
  // configuration do not collide.
  const std::string temp =
      absl::StrCat(slot.substr(0, 40), "_snapshot_", getpid());
  if (mode == "initial_only") {
    CDC_RETURN_IF_ERROR(CreateExportingSlot(temp, /*temporary=*/true));
    start_lsn_ = exported_.consistent_point;
    LogInfo("snapshot only (snapshot.mode initial_only): consistent point ",
            FormatLsn(start_lsn_), " from temporary slot \"", temp, "\" on ",
            sql.Endpoint(), "/", database);
    return start_lsn_;
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
    CDC_RETURN_IF_ERROR(pg::DropSlot(sql, slot));
    found->exists = false;
  }

  if (!found->exists && mode != "never") {
    CDC_RETURN_IF_ERROR(CreateExportingSlot(temp, /*temporary=*/true));
    start_lsn_ = exported_.consistent_point;
    // Keyless tables first: they cannot be resumed, so the sooner they are
    // behind, the more of an interrupted snapshot can be.
    std::stable_partition(
        tables->begin(), tables->end(),
        [](const pg::TableInfo& t) { return t.primary_key.empty(); });
    CDC_RETURN_IF_ERROR(WriteInitialRequest(sql));
    CDC_RETURN_IF_ERROR(PromoteSnapshotSlot(sql, temp));
    absl::StatusOr<pg::SlotInfo> promoted = pg::FindSlot(sql, slot);
    if (!promoted.ok()) return promoted.status();
    CDC_RETURN_IF_ERROR(EnsureSlotFailover(*promoted));
    LogInfo("created replication slot \"", slot, "\" at ",
            FormatLsn(start_lsn_), " on ", sql.Endpoint(), "/", database,
            " with a snapshot of the tables at that point (journaled as \"",
            journal_->id(), "\": an interrupted snapshot resumes)");
    return start_lsn_;
  }
  if (!found->exists) {
    absl::StatusOr<pg::SlotInfo> created =
        pg::EnsureSlot(sql, slot, config_->source.slot_failover);
    if (!created.ok()) return created.status();
    found = created;
  }
  CDC_RETURN_IF_ERROR(EnsureSlotFailover(*found));
  start_lsn_ = found->confirmed_flush;
  LogInfo(found->created ? "created" : "using", " replication slot \"", slot,
          "\" at ", FormatLsn(start_lsn_), " on ", sql.Endpoint(), "/",
          database);
  if (mode == "always") {
    CDC_RETURN_IF_ERROR(CreateExportingSlot(temp, /*temporary=*/true));
    LogInfo("snapshot.mode always: snapshot at ",
            FormatLsn(exported_.consistent_point),
            " (temporary slot); the stream replays from ",
            FormatLsn(start_lsn_),
            ", so changes between the two appear again after the snapshot");
  }
  return start_lsn_;
}

absl::Status InitialSnapshot::Run() {
  if (!due_) return absl::OkStatus();
  due_ = false;
  txn_ = envelope::TxnContext();
  txn_.commit_lsn = exported_.consistent_point;
  txn_.commit_ts_us = NowUnixMicros();
  rows_read_ = 0;

  absl::Status status = absl::OkStatus();
  if (stop_->load()) {
    status = absl::CancelledError("stopped before the snapshot began");
  } else {
    Snapshotter snapshotter(config_->source.dsn, config_->source.publication,
                            *tables_, this, metrics_, stop_);
    if (journal_ != nullptr) snapshotter.ReadInKeyOrder();
    // The exported snapshot is importable only while the exporting
    // connection is open and idle: close it once imported (a temporary slot
    // goes with it).
    absl::StatusOr<SnapshotResult> result =
        snapshotter.Run(exported_.snapshot_name, [this] { exporter_.reset(); });
    status = result.status();
  }
  exporter_.reset();
  if (host_->in_transaction()) {
    // Stopped or failed inside a table: close its tracker transaction so
    // that the acknowledgements still arriving are accounted for.
    (void)CloseSnapshotTable();
  }

  // Everything read is acknowledged before the stream starts (or before
  // the slot is given up): the consistent point is then fully published.
  // No time limit while all is well; shutdown_timeout_ms once stopping.
  bool stopping = !status.ok() || stop_->load();
  const auto grace =
      std::chrono::milliseconds(config_->kafka.shutdown_timeout_ms);
  auto deadline = Clock::now() + grace;
  while (tracker_->inflight_events() > 0 && host_->fatal().ok()) {
    if (!stopping && stop_->load()) {
      stopping = true;
      deadline = Clock::now() + grace;
    }
    if (stopping && Clock::now() >= deadline) break;
    host_->ServeAcks(50);
    UpdateJournal(/*final=*/false);
  }
  host_->ServeAcks(0);
  host_->AfterAcks();
  if (journal_ != nullptr) {
    UpdateJournal(
        /*final=*/status.ok() && host_->fatal().ok() &&
            tracker_->inflight_events() == 0,
        /*now=*/true);
  }
  if (status.ok() && !host_->fatal().ok()) status = host_->fatal();
  if (status.ok() && tracker_->inflight_events() > 0) {
    status = stop_->load() ? absl::CancelledError(
                                 "stopped before the snapshot was acknowledged")
                           : absl::DeadlineExceededError(absl::StrCat(
                                 tracker_->inflight_events(),
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

absl::Status InitialSnapshot::PromoteSnapshotSlot(pg::SqlConnection& sql,
                                                  const std::string& from) {
  const std::string& slot = config_->source.slot;
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

absl::Status InitialSnapshot::EnsureSlotFailover(const pg::SlotInfo& found) {
  // Only on: a slot whose flag is on while the setting is off is left as it
  // is (switching it off would drop its copies on the standbys).
  if (!config_->source.slot_failover || !found.exists ||
      found.failover.value_or(false)) {
    return absl::OkStatus();
  }
  const std::string& slot = config_->source.slot;
  // The server would wait, uninterruptibly for pgcdc, until the other
  // session lets go of the slot; pgcdc waits for the slot its own way, and
  // turns the flag on when its session starts (Pipeline::StartSession).
  if (found.active) {
    LogInfo("replication slot \"", slot,
            "\" is in use by another connection: its failover flag is turned "
            "on once pgcdc streams from it");
    return absl::OkStatus();
  }
  // Safe on an existing slot: the standbys' synchronisation copies it from
  // its next cycle on, at its position then; until a standby shows it with
  // synced = true a failover still loses it (pgcdc status says so).
  CDC_RETURN_IF_ERROR(pg::EnableSlotFailover(config_->source.dsn, slot));
  LogInfo("turned on failover for replication slot \"", slot,
          "\" (source.slot_failover: true): standbys with "
          "sync_replication_slots = on now keep a copy of it");
  return absl::OkStatus();
}

absl::Status InitialSnapshot::WriteInitialRequest(pg::SqlConnection& sql) {
  std::vector<std::string> tables;
  for (const pg::TableInfo& t : *tables_) tables.push_back(t.name.Qualified());
  journal_ = std::make_unique<SnapshotJournal>(
      config_->source.slot,
      absl::StrCat(kInitialRequestPrefix, FormatLsn(start_lsn_)), tables);
  absl::Status s = WriteSignal(sql, *keys_, journal_->request()).status();
  if (!s.ok()) {
    return WithPrefix(s,
                      "cannot write the snapshot's journal to the WAL "
                      "(pg_logical_emit_message): ");
  }
  journal_->Written(Clock::now());
  return absl::OkStatus();
}

absl::Status InitialSnapshot::CloseSegment(const pg::TupleData* row,
                                           uint64_t rows) {
  const offsets::TxnId txn = host_->open_transaction();
  std::vector<std::string> last_key;
  if (row != nullptr) {
    for (size_t p : key_positions_) last_key.push_back(row->values[p].data);
  }
  CDC_RETURN_IF_ERROR(CloseSnapshotTable());
  journal_->AddSegment(txn, table_, std::move(last_key), rows);
  if (row != nullptr) {
    CDC_RETURN_IF_ERROR(host_->OpenTransaction(txn_));
  }
  next_segment_ = Clock::now() + kSegmentInterval;
  UpdateJournal(/*final=*/false);
  return absl::OkStatus();
}

void InitialSnapshot::UpdateJournal(bool final, bool now) {
  if (journal_ == nullptr) return;
  std::optional<v1::SnapshotSignal> progress =
      journal_->Update(*tracker_, final, now, Clock::now());
  if (!progress.has_value()) return;
  if (absl::Status s = host_->WriteSignal(*progress); !s.ok()) {
    // Not fatal: a later entry (or, after a crash, the stream) catches up;
    // at worst a resumed snapshot repeats a segment.
    LogWarning("cannot journal the snapshot's progress: ", s.message());
    return;
  }
  journal_->Written(Clock::now());
}

const pg::TableInfo* InitialSnapshot::FindTable(
    std::string_view qualified) const {
  for (const pg::TableInfo& t : *tables_) {
    if (t.name.Qualified() == qualified) return &t;
  }
  return nullptr;
}

absl::Status InitialSnapshot::BeginTable(const pg::RelationMessage& relation) {
  // Names no event can carry (envelope_builder.h): the error the stream
  // would stop with, before a row is read.
  if (absl::Status s = envelope::CheckRelationNames(relation); !s.ok()) {
    return WithPrefix(
        s, absl::StrCat("at LSN ", FormatLsn(txn_.commit_lsn), ": "));
  }
  CDC_RETURN_IF_ERROR(host_->AddRelation(relation));
  table_ = absl::StrCat(relation.namespace_name, ".", relation.relation_name);
  key_positions_.clear();
  if (const pg::TableInfo* table = FindTable(table_)) {
    for (const std::string& k : table->primary_key) {
      for (size_t i = 0; i < relation.columns.size(); ++i) {
        if (relation.columns[i].name == k) key_positions_.push_back(i);
      }
    }
  }
  next_segment_ = Clock::now() + kSegmentInterval;
  return host_->OpenTransaction(txn_);
}

envelope::SnapshotMark InitialSnapshot::MarkOf(uint64_t ordinal,
                                               RowPlace place) const {
  // As Debezium 3.6 marks them (seen from the running connector; its
  // RelationalSnapshotChangeEventSource.setSnapshotMarker, then its
  // buffering receiver marking the very last record "last"): the
  // snapshot's last row wins over a first one, a table's last over its
  // first, and empty tables take no part.
  if (place == RowPlace::kLastOfSnapshot) return envelope::SnapshotMark::kLast;
  if (rows_read_ == 0) return envelope::SnapshotMark::kFirst;
  if (place == RowPlace::kLastInTable) {
    return envelope::SnapshotMark::kLastInTable;
  }
  if (ordinal == 0) return envelope::SnapshotMark::kFirstInTable;
  return envelope::SnapshotMark::kMiddle;
}

absl::Status InitialSnapshot::Row(const pg::RelationMessage& relation,
                                  const pg::TupleData& row, uint64_t ordinal,
                                  RowPlace place) {
  const size_t window = static_cast<size_t>(config_->kafka.max_inflight_bytes);
  // Backpressure, as in Stream(): stop reading while the window is full.
  while (tracker_->inflight_bytes() >= window && host_->fatal().ok()) {
    host_->ServeAcks(10);
    if (stop_->load(std::memory_order_relaxed)) {
      return absl::CancelledError("stopped by a signal");
    }
  }
  if (!host_->fatal().ok()) return host_->fatal();
  if (ordinal > UINT32_MAX) {
    return absl::ResourceExhaustedError(
        "more than 4294967295 rows do not fit source.seq");
  }
  CDC_RETURN_IF_ERROR(host_->BuildRead(
      relation.relation_oid, row, txn_, static_cast<uint32_t>(ordinal),
      MarkOf(ordinal, place), NowUnixMicros() / 1000, &record_));
  CDC_RETURN_IF_ERROR(host_->ProduceRecord(record_));
  ++rows_read_;
  metrics_->CountEvent(table_, v1::READ);
  metrics_->SetInflight(tracker_->inflight_events(),
                        tracker_->inflight_bytes());
  // Serve delivery reports now and then while the window has room.
  if ((ordinal & 255) == 255) {
    host_->ServeAcks(0);
    // A segment ends at a key: only with the whole key known to the
    // journal (a keyless table is one segment).
    if (journal_ != nullptr && !key_positions_.empty() &&
        Clock::now() >= next_segment_) {
      return CloseSegment(&row, ordinal + 1);
    }
  }
  return absl::OkStatus();
}

absl::Status InitialSnapshot::EndTable(const pg::RelationMessage&,
                                       uint64_t rows) {
  if (journal_ == nullptr) return CloseSnapshotTable();
  return CloseSegment(nullptr, rows);
}

absl::Status InitialSnapshot::CloseSnapshotTable() {
  // The table's position is the slot's start: acknowledging its events
  // completes the prefix up to there and never moves the slot.
  return host_->CommitSnapshotTransaction(start_lsn_);
}

}  // namespace cdc::snapshot
