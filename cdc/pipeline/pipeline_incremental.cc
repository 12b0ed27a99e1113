// The incremental-snapshot side of the Pipeline: snapshot signals from the
// stream, chunks read between watermarks, their rows published as READ
// events, and the journal held unconfirmed. The protocol and why it is exact
// are in cdc/snapshot/incremental.h; this file is its I/O.
//
// Chunks are read on a session of their own (chunk_sql_), with the stream's
// session settings so that values print as pgoutput prints them, inside a
// READ ONLY transaction: the condition of a request is SQL from whoever can
// write to the WAL, and must not be able to change anything. Each chunk's
// shape comes from the catalog at the time it is read, into a relation cache
// of its own, so the stream's cache keeps following the stream.
//
// A chunk's READ events belong to the tracker transaction of its close
// watermark; their identity is (commit_lsn = the close's LSN, snapshot, seq =
// row index in the chunk), ordered right before anything the stream sends
// after the close.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/log.h"
#include "cdc/common/status.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/copy_text.h"
#include "cdc/pipeline/pipeline.h"
#include "cdc/snapshot/progress.h"
#include "cdc/snapshot/signal.h"
#include "cdc/snapshot/signal_writer.h"

namespace cdc::pipeline {
namespace {

using Effects = snapshot::IncrementalSnapshot::Effects;

constexpr auto kIncrementalTick = std::chrono::seconds(1);
constexpr auto kIncrementalLogInterval = std::chrono::seconds(10);

}  // namespace

void Pipeline::NewIncremental() {
  absl::BitGen gen;
  const std::string nonce =
      absl::StrCat(getpid(), "-", absl::Hex(absl::Uniform<uint64_t>(gen)));
  incremental_ = std::make_unique<snapshot::IncrementalSnapshot>(
      config_.source.slot, nonce, config_.snapshot.chunk_rows);
  chunk_txns_.clear();
}

absl::Status Pipeline::RequestSnapshotOfAdded(
    pg::SqlConnection& sql, const std::vector<std::string>& added) {
  const std::string list = absl::StrJoin(added, ", ");
  absl::StatusOr<pg::SlotInfo> slot = pg::FindSlot(sql, config_.source.slot);
  if (!slot.ok()) return slot.status();
  const std::string& mode = config_.snapshot.mode;
  if (!slot->exists || mode == "initial_only") {
    LogInfo("adding ", list, " to publication \"", config_.source.publication,
            "\"");
    return absl::OkStatus();  // the snapshot of a new slot covers them
  }
  if (mode == "never") {
    LogInfo("adding ", list, " to publication \"", config_.source.publication,
            "\"; no snapshot of their rows (snapshot.mode never)");
    return absl::OkStatus();
  }
  const v1::SnapshotSignal signal = snapshot::RequestSignal(
      config_.source.slot, snapshot::NewRequestId("added"), added);
  absl::Status s = snapshot::WriteSignal(sql, signal).status();
  if (!s.ok()) {
    return WithPrefix(s, absl::StrCat("cannot ask for a snapshot of ", list,
                                      ", newly added to source.tables: "));
  }
  LogInfo("adding ", list, " to publication \"", config_.source.publication,
          "\"; snapshot \"", signal.request().id(),
          "\" of their rows requested");
  return absl::OkStatus();
}

const pg::TableInfo* Pipeline::FindTable(std::string_view qualified) const {
  for (const pg::TableInfo& t : tables_) {
    if (t.name.Qualified() == qualified) return &t;
  }
  return nullptr;
}

absl::Status Pipeline::HandleSignal(const pg::LogicalMessage& message) {
  absl::StatusOr<v1::SnapshotSignal> signal =
      snapshot::ParseSignal(message.content);
  if (!signal.ok()) {
    // Someone's typo, not a change of the source: said loudly, then left.
    LogError("ignoring the logical decoding message with prefix ",
             snapshot::kSignalPrefix, " at LSN ", FormatLsn(message.lsn), ": ",
             signal.status().message());
    metrics_->CountSnapshotSignalRejected();
    return absl::OkStatus();
  }
  if (signal->slot() != config_.source.slot) return absl::OkStatus();
  if (message.transactional && !in_txn_) {
    return absl::DataLossError(
        "transactional logical message outside a transaction");
  }
  if (!message.transactional && in_txn_) {
    return absl::DataLossError(
        "non-transactional logical message inside a transaction");
  }
  // A non-transactional signal is a transaction of its own at its LSN, as
  // in HandleMessage; a transactional one belongs to the one it is in.
  if (!message.transactional) {
    if (absl::Status s = OpenTransaction({message.lsn, 0, NowUnixMicros()});
        !s.ok()) {
      return s;
    }
  }
  Effects effects = incremental_->OnSignal(*signal, txn_id_);
  for (offsets::TxnId token : effects.release) {
    if (absl::Status s = tracker_.Release(token); !s.ok()) {
      return absl::InternalError(s.message());
    }
  }
  if (effects.hold) {
    if (absl::Status s = tracker_.Hold(txn_id_); !s.ok()) {
      return absl::InternalError(s.message());
    }
  }
  if (effects.publish) {
    if (message.transactional) {
      return absl::DataLossError(
          "a chunk's close watermark inside a transaction");
    }
    if (absl::Status s = PublishChunk(message.lsn, effects.published_chunk);
        !s.ok()) {
      return s;
    }
  }
  if (!message.transactional) {
    if (absl::Status s = CloseTransaction(message.lsn + 1); !s.ok()) return s;
  }
  ApplyEffects(std::move(effects));
  return absl::OkStatus();
}

void Pipeline::ApplyEffects(Effects effects) {
  for (;;) {
    for (const std::string& note : effects.notes) LogInfo(note);
    metrics_->SetSnapshotRunning(incremental_->running());
    metrics_->SetSnapshotTablesRemaining(
        incremental_->published().tasks_size());
    if (effects.read.has_value()) {
      Effects next = ReadChunk(*effects.read);
      effects.read.reset();
      effects.notes.clear();
      // A read leads to a close to write, or to the next step; never both.
      if (next.emit.has_value() || !next.notes.empty() ||
          next.read.has_value()) {
        if (effects.emit.has_value()) {
          LogError("internal: two snapshot signals to write at once");
        }
        effects = std::move(next);
        continue;
      }
    }
    if (effects.emit.has_value()) {
      absl::Status s = WithSqlSession([&](pg::SqlConnection& sql) {
        return snapshot::WriteSignal(sql, *effects.emit).status();
      });
      if (!s.ok()) {
        LogWarning("cannot write a snapshot watermark (", s.message(),
                   "); trying again in a moment");
        incremental_->RetryLater();
      }
    }
    return;
  }
}

Effects Pipeline::ReadChunk(const snapshot::IncrementalSnapshot::Chunk& chunk) {
  const std::string what =
      absl::StrCat("snapshot \"", chunk.request_id, "\" of ", chunk.table);
  const pg::TableInfo* table = FindTable(chunk.table);
  if (table == nullptr) {
    LogError(what,
             ": not a table this pgcdc captures (source.tables); "
             "skipped");
    metrics_->CountSnapshotSignalRejected();
    return incremental_->DropTask();
  }
  if (table->primary_key.empty()) {
    if (absl::StartsWith(chunk.request_id, "initial-")) {
      // The slot's own snapshot, cut short in a keyless table: what is
      // left of it cannot be told apart, and skipping it would lose rows.
      fatal_ = absl::FailedPreconditionError(absl::StrCat(
          "the snapshot of replication slot \"", config_.source.slot,
          "\" was interrupted before it finished ", chunk.table,
          ", which has no primary key to resume it by. Take the snapshot "
          "anew: SELECT pg_drop_replication_slot('",
          config_.source.slot, "'), then start pgcdc again"));
      LogError(fatal_.message());
      return incremental_->RetryLater();
    }
    LogError(what,
             ": the table has no primary key, which an incremental "
             "snapshot reads it by; skipped");
    metrics_->CountSnapshotSignalRejected();
    return incremental_->DropTask();
  }
  std::vector<snapshot::ChunkRow> rows;
  std::vector<std::string> last_key;
  bool cut_short = false;
  absl::Status s = ReadChunkRows(*table, chunk, &rows, &last_key, &cut_short);
  if (s.code() == absl::StatusCode::kUnavailable) {
    chunk_sql_.reset();
    LogWarning(what, ": ", s.message(), "; trying again in a moment");
    return incremental_->RetryLater();
  }
  if (!s.ok()) {
    chunk_sql_.reset();  // whatever state the failure left it in
    LogError(what, ": ", s.message(), "; skipped");
    metrics_->CountSnapshotSignalRejected();
    return incremental_->DropTask();
  }
  Effects next =
      incremental_->ChunkRead(std::move(rows), std::move(last_key), cut_short);
  LogIncrementalProgress();
  return next;
}

absl::Status Pipeline::ReadChunkRows(
    const pg::TableInfo& table,
    const snapshot::IncrementalSnapshot::Chunk& chunk,
    std::vector<snapshot::ChunkRow>* rows, std::vector<std::string>* last_key,
    bool* cut_short) {
  if (chunk_sql_ == nullptr) {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(config_.source.dsn,
                                   /*stream_settings=*/true);
    if (!conn.ok()) return conn.status();
    chunk_sql_ = *std::move(conn);
  }
  pg::SqlConnection& sql = *chunk_sql_;
  if (!chunk.after_key.empty() &&
      chunk.after_key.size() != table.primary_key.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the journal's key has ", chunk.after_key.size(),
        " column(s) but the primary key now has ", table.primary_key.size()));
  }
  if (absl::Status s = sql.Query("BEGIN READ ONLY").status(); !s.ok()) {
    return s;
  }
  absl::StatusOr<pg::RelationDescription> described =
      pg::DescribeRelation(sql, table);
  if (!described.ok()) return described.status();
  const pg::RelationMessage& relation = described->relation;
  chunk_estimate_ = described->estimated_rows;
  // Names no event can carry (envelope_builder.h): refused before the chunk
  // is read, as the stream refuses them.
  if (absl::Status s = envelope::CheckRelationNames(relation); !s.ok()) {
    return s;
  }

  std::vector<std::string> columns, key_columns;
  std::vector<size_t> key_positions;
  for (const pg::RelationColumn& c : relation.columns) {
    columns.push_back(sql.QuoteIdentifier(c.name));
  }
  for (const std::string& k : table.primary_key) {
    key_columns.push_back(sql.QuoteIdentifier(k));
    size_t i = 0;
    while (i < relation.columns.size() && relation.columns[i].name != k) ++i;
    if (i == relation.columns.size()) {
      return absl::FailedPreconditionError(
          absl::StrCat("primary key column ", k, " is gone"));
    }
    key_positions.push_back(i);
  }
  std::vector<std::string> conditions;
  if (!chunk.after_key.empty()) {
    std::vector<std::string> literals;
    for (const std::string& v : chunk.after_key) {
      literals.push_back(sql.QuoteLiteral(v));
    }
    conditions.push_back(absl::StrCat("(", absl::StrJoin(key_columns, ", "),
                                      ") > (", absl::StrJoin(literals, ", "),
                                      ")"));
  }
  if (!chunk.where.empty()) {
    conditions.push_back(absl::StrCat("(", chunk.where, ")"));
  }
  const std::string order = absl::StrJoin(key_columns, ", ");
  const std::string query = absl::StrCat(
      "COPY (SELECT ", absl::StrJoin(columns, ", "), " FROM ",
      table.partitioned ? "" : "ONLY ", sql.QuoteIdentifier(table.name.schema),
      ".", sql.QuoteIdentifier(table.name.table),
      conditions.empty() ? "" : " WHERE ", absl::StrJoin(conditions, " AND "),
      " ORDER BY ", order, " LIMIT ", chunk.limit, ") TO STDOUT");
  if (absl::Status s = sql.StartCopyOut(query); !s.ok()) return s;
  std::vector<std::string_view> key;
  // A chunk's rows are held in memory until its high watermark comes back:
  // past the in-flight budget the rest of the COPY is read and dropped, and
  // the next chunk starts after the last row kept.
  const size_t budget = static_cast<size_t>(config_.kafka.max_inflight_bytes);
  size_t bytes = 0;
  *cut_short = false;
  for (;;) {
    absl::StatusOr<std::optional<std::string_view>> line = sql.ReadCopyRow();
    if (!line.ok()) return line.status();
    if (!line->has_value()) break;
    if (*cut_short) continue;
    if (bytes >= budget && !rows->empty()) {
      *cut_short = true;
      continue;
    }
    bytes += (*line)->size();
    snapshot::ChunkRow row;
    if (absl::Status s =
            pg::ParseCopyTextRow(**line, relation.columns.size(), &row.row);
        !s.ok()) {
      return WithPrefix(s, absl::StrCat("row ", rows->size() + 1, ": "));
    }
    key.clear();
    for (size_t p : key_positions) key.push_back(row.row.values[p].data);
    row.key = snapshot::EncodeKey(key);
    rows->push_back(std::move(row));
  }
  if (absl::Status s = sql.Query("COMMIT").status(); !s.ok()) return s;
  if (!rows->empty()) {
    last_key->clear();
    for (size_t p : key_positions) {
      last_key->push_back(rows->back().row.values[p].data);
    }
  }
  // The shape these rows have, in a cache of their own (see the top).
  if (absl::Status s = ResolveTypes(relation); !s.ok()) return s;
  chunk_relations_ = std::make_unique<pg::RelationCache>(relations_);
  chunk_relations_->Apply(relation);
  chunk_builder_ = MakeBuilder(chunk_relations_.get(), tables_);
  chunk_relation_ = relation;
  return absl::OkStatus();
}

absl::Status Pipeline::PublishChunk(Lsn close_lsn, uint64_t chunk) {
  std::vector<snapshot::ChunkRow> rows = incremental_->TakeWindow();
  envelope::TxnContext context;
  context.commit_lsn = close_lsn;
  context.commit_ts_us = NowUnixMicros();
  const std::string table = absl::StrCat(chunk_relation_.namespace_name, ".",
                                         chunk_relation_.relation_name);
  const int64_t now_ms = NowUnixMicros() / 1000;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (absl::Status s = chunk_builder_->BuildRead(
            chunk_relation_.relation_oid, rows[i].row, context,
            static_cast<uint32_t>(i), now_ms, &snapshot_record_);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ProduceRecord(snapshot_record_); !s.ok()) return s;
    metrics_->CountEvent(table, v1::READ);
  }
  metrics_->CountSnapshotRows(table, rows.size());
  chunk_txns_.emplace_back(txn_id_, chunk);
  return absl::OkStatus();
}

void Pipeline::WatchChange(const pg::PgOutputMessage& change) {
  auto table_of =
      [&](pg::Oid oid) -> std::pair<const pg::RelationInfo*, std::string> {
    const pg::RelationInfo* info = relations_.Find(oid);
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
    incremental_->OnChange(name, snapshot::EncodeKey(key));
  };
  auto watch = [&](pg::Oid oid, const pg::TupleData* a,
                   const pg::TupleData* b) {
    auto [info, name] = table_of(oid);
    if (info == nullptr || !incremental_->Watching(name)) return;
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
      if (info != nullptr) incremental_->OnTruncate(name);
    }
  }
}

void Pipeline::IncrementalTick() {
  for (size_t i = 0; i < chunk_txns_.size();) {
    if (tracker_.Unacked(chunk_txns_[i].first) == 0) {
      const uint64_t chunk = chunk_txns_[i].second;
      chunk_txns_.erase(chunk_txns_.begin() + i);
      ApplyEffects(incremental_->ChunkAcked(chunk));
    } else {
      ++i;
    }
  }
  const auto now = Clock::now();
  if (now < next_incremental_tick_) return;
  next_incremental_tick_ = now + kIncrementalTick;
  ApplyEffects(incremental_->Tick());
  LogIncrementalProgress();
}

void Pipeline::LogIncrementalProgress() {
  const auto now = Clock::now();
  if (!incremental_->running()) return;
  const v1::SnapshotState& state = incremental_->published();
  const v1::SnapshotTask& task = state.tasks(0);
  const std::string current =
      absl::StrCat(task.request_id(), "/", task.table());
  if (current != progress_task_) {
    // The rate is this run's: rows published before a resume do not count.
    progress_task_ = current;
    progress_since_ = now;
    progress_rows0_ = task.rows();
  }
  if (now < next_incremental_log_) return;
  next_incremental_log_ = now + kIncrementalLogInterval;
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
    absl::StrAppend(&line, "; about ", snapshot::FormatDuration(left),
                    " left in this table");
  }
  LogInfo(line);
}

}  // namespace cdc::pipeline
