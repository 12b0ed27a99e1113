#include "cdc/snapshot/incremental_driver.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/log.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/wall_clock.h"
#include "cdc/snapshot/progress.h"
#include "cdc/snapshot/signal.h"
#include "cdc/snapshot/signal_writer.h"

namespace cdc::snapshot {
namespace {

constexpr auto kIncrementalTick = std::chrono::seconds(1);
constexpr auto kIncrementalLogInterval = std::chrono::seconds(10);
constexpr auto kRejectLogInterval = std::chrono::seconds(60);
constexpr auto kChunkRetryMaxDelay = std::chrono::seconds(30);
// Times in a row a chunk with a condition may run past
// snapshot.chunk_timeout_ms before its table is given up.
constexpr int kMaxChunkTimeouts = 3;

}  // namespace

IncrementalDriver::IncrementalDriver(const config::Config* config,
                                     const std::vector<pg::TableInfo>* tables,
                                     const pg::RelationCache* relations,
                                     const SignalKeys* keys,
                                     offsets::AckTracker* tracker,
                                     metrics::Metrics* metrics, Host* host)
    : config_(config),
      tables_(tables),
      relations_(relations),
      keys_(keys),
      tracker_(tracker),
      metrics_(metrics),
      host_(host) {}

IncrementalDriver::~IncrementalDriver() = default;

void IncrementalDriver::Restart() {
  absl::BitGen gen;
  const std::string nonce =
      absl::StrCat(getpid(), "-", absl::Hex(absl::Uniform<uint64_t>(gen)));
  // A read in progress belongs to the machine it is replaced with.
  chunk_reader_.reset();
  reading_.reset();
  machine_ = std::make_unique<IncrementalSnapshot>(
      config_->source.slot, nonce, config_->snapshot.chunk_rows,
      static_cast<size_t>(config_->kafka.max_inflight_bytes));
  chunk_txns_.clear();
}

absl::Status IncrementalDriver::RequestSnapshotOfAdded(
    pg::SqlConnection& sql, const std::vector<std::string>& added) {
  const std::string list = absl::StrJoin(added, ", ");
  absl::StatusOr<pg::SlotInfo> slot = pg::FindSlot(sql, config_->source.slot);
  if (!slot.ok()) return slot.status();
  const std::string& mode = config_->snapshot.mode;
  if (!slot->exists || mode == "initial_only") {
    LogInfo("adding ", list, " to publication \"", config_->source.publication,
            "\"");
    return absl::OkStatus();  // the snapshot of a new slot covers them
  }
  if (mode == "never") {
    LogInfo("adding ", list, " to publication \"", config_->source.publication,
            "\"; no snapshot of their rows (snapshot.mode never)");
    return absl::OkStatus();
  }
  const v1::SnapshotSignal signal =
      RequestSignal(config_->source.slot, NewRequestId("added"), added);
  absl::Status s = WriteSignal(sql, *keys_, signal).status();
  if (!s.ok()) {
    return WithPrefix(s, absl::StrCat("cannot ask for a snapshot of ", list,
                                      ", newly added to source.tables: "));
  }
  LogInfo("adding ", list, " to publication \"", config_->source.publication,
          "\"; snapshot \"", signal.request().id(),
          "\" of their rows requested");
  return absl::OkStatus();
}

void IncrementalDriver::ObserveCommitted(uint32_t xid) {
  recent_xids_.push_back(xid);
  if (recent_xids_.size() > kRecentXids) recent_xids_.pop_front();
}

const pg::TableInfo* IncrementalDriver::FindTable(
    std::string_view qualified) const {
  for (const pg::TableInfo& t : *tables_) {
    if (t.name.Qualified() == qualified) return &t;
  }
  return nullptr;
}

int IncrementalDriver::wake_fd() const {
  return chunk_reader_ != nullptr ? chunk_reader_->wake_fd() : -1;
}

absl::Status IncrementalDriver::HandleSignal(const pg::LogicalMessage& message,
                                             const Txn* open) {
  // Anyone who can log in can write this prefix: only a signal sealed with
  // pgcdc's key, inside the transaction it names, is one (signal_auth.h).
  absl::StatusOr<std::string_view> json = keys_->Open(message.content);
  if (!json.ok()) {
    RejectSignal(message, AsStd(json.status().message()));
    return absl::OkStatus();
  }
  absl::StatusOr<v1::SnapshotSignal> signal = ParseSignal(*json);
  if (!signal.ok()) {
    RejectSignal(message, AsStd(signal.status().message()));
    return absl::OkStatus();
  }
  if (signal->slot() != config_->source.slot) return absl::OkStatus();
  if (!message.transactional) {
    RejectSignal(message, "written outside a transaction");
    return absl::OkStatus();
  }
  if (open == nullptr) {
    return absl::DataLossError(
        "transactional logical message outside a transaction");
  }
  if (signal->xid() != open->xid) {
    RejectSignal(message, absl::StrCat("it names transaction ", signal->xid(),
                                       " but is in transaction ", open->xid,
                                       ": a copy of another's"));
    return absl::OkStatus();
  }
  Effects effects = machine_->OnSignal(*signal, open->id);
  for (offsets::TxnId token : effects.release) {
    if (absl::Status s = tracker_->Release(token); !s.ok()) {
      return absl::InternalError(s.message());
    }
  }
  if (effects.hold) {
    if (absl::Status s = tracker_->Hold(open->id); !s.ok()) {
      return absl::InternalError(s.message());
    }
  }
  if (effects.publish) {
    // The chunk's rows belong to the close's transaction, at its commit.
    CDC_RETURN_IF_ERROR(PublishChunk(*open, effects.published_chunk));
  }
  ApplyEffects(std::move(effects));
  return absl::OkStatus();
}

void IncrementalDriver::RejectSignal(const pg::LogicalMessage& message,
                                     std::string_view why) {
  metrics_->CountSnapshotSignalRejected();
  // Logged at most once a minute, so that a flood of them cannot flood the
  // log; the metric counts every one.
  const auto now = Clock::now();
  if (now < next_reject_log_) {
    ++rejects_unlogged_;
    return;
  }
  next_reject_log_ = now + kRejectLogInterval;
  LogError(
      "refused the logical decoding message with prefix ", kSignalPrefix,
      " at LSN ", FormatLsn(message.lsn),
      message.transactional ? "" : " (non-transactional)", ": ", AsAbsl(why),
      rejects_unlogged_ > 0 ? absl::StrCat(" (and ", rejects_unlogged_,
                                           " more since the last one logged)")
                            : "",
      "; only pgcdc snapshot, or a signal sealed with signals.secret, "
      "can steer pgcdc (see README, Security)");
  rejects_unlogged_ = 0;
}

void IncrementalDriver::ApplyEffects(Effects effects) {
  for (const std::string& note : effects.notes) LogInfo(note);
  metrics_->SetSnapshotRunning(machine_->running());
  metrics_->SetSnapshotTablesRemaining(machine_->published().tasks_size());
  if (effects.read.has_value()) StartChunkRead(*effects.read);
  if (effects.emit.has_value()) {
    absl::Status s = host_->WriteSignal(*effects.emit);
    if (!s.ok()) {
      LogWarning("cannot write a snapshot watermark (", s.message(),
                 "); trying again in a moment");
      machine_->RetryLater();
    }
  }
}

void IncrementalDriver::StartChunkRead(
    const IncrementalSnapshot::Chunk& chunk) {
  const std::string what =
      absl::StrCat("snapshot \"", chunk.request_id, "\" of ", chunk.table);
  const pg::TableInfo* table = FindTable(chunk.table);
  if (table == nullptr) {
    Skip(what, "not a table this pgcdc captures (source.tables)");
    return;
  }
  if (table->primary_key.empty()) {
    if (absl::StartsWith(chunk.request_id, kInitialRequestPrefix)) {
      // The slot's own snapshot, cut short in a keyless table: what is
      // left of it cannot be told apart, and skipping it would lose rows.
      const absl::Status fatal = absl::FailedPreconditionError(absl::StrCat(
          "the snapshot of replication slot \"", config_->source.slot,
          "\" was interrupted before it finished ", chunk.table,
          ", which has no primary key to resume it by. Take the snapshot "
          "anew: SELECT pg_drop_replication_slot('",
          config_->source.slot, "'), then start pgcdc again"));
      host_->Fail(fatal);
      LogError(fatal.message());
      machine_->RetryLater();
      return;
    }
    Skip(what,
         "the table has no primary key, which an incremental snapshot reads "
         "it by");
    return;
  }
  if (chunk_reader_ == nullptr) {
    chunk_reader_ = std::make_unique<ChunkReader>(
        config_->source.dsn, config_->source.publication,
        config_->snapshot.chunk_timeout_ms,
        static_cast<size_t>(config_->kafka.max_inflight_bytes));
  }
  reading_ = chunk;
  chunk_reader_->Start(
      *table, chunk,
      std::vector<uint32_t>(recent_xids_.begin(), recent_xids_.end()));
}

void IncrementalDriver::ChunkDone(ChunkReader::Result result) {
  const IncrementalSnapshot::Chunk chunk = *std::move(reading_);
  reading_.reset();
  const std::string what =
      absl::StrCat("snapshot \"", chunk.request_id, "\" of ", chunk.table);
  if (result.status.ok()) {
    chunk_estimate_ = result.estimated_rows;
    // The shape these rows have, in a cache of their own (see the top).
    if (absl::Status s = host_->ResolveTypes(result.relation); !s.ok()) {
      result.status = s;
    } else {
      chunk_relations_ = std::make_unique<pg::RelationCache>(*relations_);
      chunk_relations_->Apply(result.relation);
      chunk_builder_ = host_->NewBuilder(chunk_relations_.get());
      chunk_relation_ = result.relation;
      chunk_failures_ = 0;
      chunk_timeouts_ = 0;
      Effects next = machine_->ChunkRead(
          std::move(result.rows), std::move(result.last_key), result.cut_short);
      LogProgress();
      ApplyEffects(std::move(next));
      return;
    }
  }
  const absl::Status& s = result.status;
  const bool initial =
      absl::StartsWith(chunk.request_id, kInitialRequestPrefix);
  bool transient = s.code() == absl::StatusCode::kUnavailable ||
                   s.code() == absl::StatusCode::kAborted ||
                   s.code() == absl::StatusCode::kResourceExhausted ||
                   s.code() == absl::StatusCode::kCancelled;
  if (s.code() == absl::StatusCode::kDeadlineExceeded) {
    // Past snapshot.chunk_timeout_ms: a lock held long, a loaded server, or
    // a condition that scans too much. Only the last is given up on, and
    // only after a few tries.
    ++chunk_timeouts_;
    transient = chunk.where.empty() || chunk_timeouts_ < kMaxChunkTimeouts;
    if (!transient) {
      LogError(what,
               ": reading a chunk took longer than "
               "snapshot.chunk_timeout_ms (",
               config_->snapshot.chunk_timeout_ms, " ms) ", chunk_timeouts_,
               " times in a row with the condition ", chunk.where,
               "; given up (raise snapshot.chunk_timeout_ms or narrow the "
               "condition, then request it again)");
    }
  }
  if (transient) {
    // Tried again from a new low watermark, after a pause that doubles
    // with each failure in a row (up to kChunkRetryMaxDelay).
    const auto delay = std::min<Clock::duration>(
        kIncrementalTick * (1 << std::min(chunk_failures_, 5)),
        kChunkRetryMaxDelay);
    ++chunk_failures_;
    LogWarning(what, ": ", s.message(), "; trying again in ",
               std::chrono::duration_cast<std::chrono::seconds>(delay).count(),
               " s");
    next_tick_ = Clock::now() + delay;
    machine_->RetryLater();
    return;
  }
  if (initial) {
    // The slot's own snapshot must be finished, whatever it takes: what is
    // left of it would be lost.
    const absl::Status fatal = absl::Status(
        s.code(), absl::StrCat("the snapshot of replication slot \"",
                               config_->source.slot, "\" cannot read ",
                               chunk.table, ": ", s.message()));
    host_->Fail(fatal);
    LogError(fatal.message());
    machine_->RetryLater();
    return;
  }
  Skip(what, s.message());
}

void IncrementalDriver::Skip(const std::string& what, absl::string_view why) {
  LogError(what, ": ", why, "; skipped");
  metrics_->CountSnapshotSignalRejected();
  ApplyEffects(machine_->DropTask());
}

absl::Status IncrementalDriver::PublishChunk(const Txn& txn, uint64_t chunk) {
  std::vector<ChunkRow> rows = machine_->TakeWindow();
  envelope::TxnContext context;
  context.commit_lsn = txn.commit_lsn;
  context.commit_ts_us = NowUnixMicros();
  const std::string table = absl::StrCat(chunk_relation_.namespace_name, ".",
                                         chunk_relation_.relation_name);
  const int64_t now_us = NowUnixMicros();
  for (size_t i = 0; i < rows.size(); ++i) {
    CDC_RETURN_IF_ERROR(chunk_builder_->BuildRead(
        chunk_relation_.relation_oid, rows[i].row, context,
        static_cast<uint32_t>(i), envelope::SnapshotMark::kIncremental, now_us,
        &record_));
    CDC_RETURN_IF_ERROR(host_->ProduceRecord(record_));
    metrics_->CountEvent(table, v1::READ);
  }
  metrics_->CountSnapshotRows(table, rows.size());
  chunk_txns_.emplace_back(txn.id, chunk);
  return absl::OkStatus();
}

void IncrementalDriver::WatchChange(const pg::PgOutputMessage& change) {
  auto table_of =
      [&](pg::Oid oid) -> std::pair<const pg::RelationInfo*, std::string> {
    const pg::RelationInfo* info = relations_->Find(oid);
    if (info == nullptr) return {nullptr, ""};
    return {info, absl::StrCat(info->relation.namespace_name, ".",
                               info->relation.relation_name)};
  };
  auto supersede = [&](const pg::RelationInfo& info, const std::string& name,
                       const pg::TupleData& tuple) {
    const pg::TableInfo* table = FindTable(name);
    if (table == nullptr) return;
    std::vector<std::string_view> key;
    for (const std::string& k : table->primary_key) {
      size_t i = 0;
      const auto& columns = info.relation.columns;
      while (i < columns.size() && columns[i].name != k) ++i;
      if (i >= tuple.values.size()) return;
      key.push_back(tuple.values[i].data);
    }
    machine_->OnChange(name, EncodeKey(key));
  };
  auto watch = [&](pg::Oid oid, const pg::TupleData* a,
                   const pg::TupleData* b) {
    auto [info, name] = table_of(oid);
    if (info == nullptr || !machine_->Watching(name)) return;
    if (a != nullptr) supersede(*info, name, *a);
    if (b != nullptr) supersede(*info, name, *b);
  };
  if (const auto* insert = std::get_if<pg::InsertMessage>(&change)) {
    watch(insert->relation_oid, &insert->new_tuple, nullptr);
  } else if (const auto* update = std::get_if<pg::UpdateMessage>(&change)) {
    watch(update->relation_oid, &update->new_tuple,
          update->old_tuple.has_value() ? &*update->old_tuple : nullptr);
  } else if (const auto* del = std::get_if<pg::DeleteMessage>(&change)) {
    watch(del->relation_oid, &del->old_tuple, nullptr);
  } else if (const auto* truncate = std::get_if<pg::TruncateMessage>(&change)) {
    for (pg::Oid oid : truncate->relation_oids) {
      auto [info, name] = table_of(oid);
      if (info != nullptr) machine_->OnTruncate(name);
    }
  }
}

void IncrementalDriver::Tick() {
  if (chunk_reader_ != nullptr && reading_.has_value()) {
    if (std::optional<ChunkReader::Result> result = chunk_reader_->Take()) {
      ChunkDone(*std::move(result));
    }
  }
  for (size_t i = 0; i < chunk_txns_.size();) {
    if (tracker_->Unacked(chunk_txns_[i].first) == 0) {
      const uint64_t chunk = chunk_txns_[i].second;
      chunk_txns_.erase(chunk_txns_.begin() + i);
      ApplyEffects(machine_->ChunkAcked(chunk));
    } else {
      ++i;
    }
  }
  const auto now = Clock::now();
  if (now < next_tick_) return;
  next_tick_ = now + kIncrementalTick;
  ApplyEffects(machine_->Tick());
  LogProgress();
}

void IncrementalDriver::LogProgress() {
  const auto now = Clock::now();
  if (!machine_->running()) return;
  const v1::SnapshotState& state = machine_->published();
  const v1::SnapshotTask& task = state.tasks(0);
  const std::string current =
      absl::StrCat(task.request_id(), "/", task.table());
  if (current != progress_task_) {
    // The rate is this run's: rows published before a resume do not count.
    progress_task_ = current;
    progress_since_ = now;
    progress_rows0_ = task.rows();
  }
  if (now < next_log_) return;
  next_log_ = now + kIncrementalLogInterval;
  const double seconds =
      std::chrono::duration<double>(now - progress_since_).count();
  const double rate =
      seconds > 0 ? static_cast<double>(task.rows() - progress_rows0_) / seconds
                  : 0;
  std::string line = absl::StrCat("snapshot \"", task.request_id(),
                                  "\": ", task.table(), " ", task.rows());
  if (chunk_estimate_ > 0) {
    const double done = std::min(1.0, static_cast<double>(task.rows()) /
                                          static_cast<double>(chunk_estimate_));
    absl::StrAppend(&line, " of ~", chunk_estimate_, " rows (",
                    static_cast<int>(done * 100), "%)");
  } else {
    absl::StrAppend(&line, " rows");
  }
  absl::StrAppend(&line, "; ", state.tasks_size(), " table(s) left; ",
                  static_cast<int64_t>(rate), " rows/s");
  if (chunk_estimate_ > 0 && rate > 0) {
    const double left = std::max(0.0, static_cast<double>(chunk_estimate_) -
                                          static_cast<double>(task.rows())) /
                        rate;
    absl::StrAppend(&line, "; about ", FormatDuration(left),
                    " left in this table");
  }
  LogInfo(line);
}

}  // namespace cdc::snapshot
