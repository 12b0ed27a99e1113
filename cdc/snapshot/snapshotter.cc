#include "cdc/snapshot/snapshotter.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cdc/common/log.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"
#include "cdc/pg/copy_query.h"
#include "cdc/pg/copy_text.h"

namespace cdc::snapshot {
namespace {

// How often a running snapshot logs its progress.
constexpr double kProgressLogSeconds = 10;
// How often the live status line is redrawn on a terminal: often enough to
// look alive, seldom enough to cost nothing.
constexpr double kStatusLineSeconds = 1;
// Rows between looks at the clock, the stop flag and the row counter metric.
constexpr uint64_t kRowsPerCheck = 1024;

}  // namespace

Snapshotter::Snapshotter(std::string dsn, std::string publication,
                         std::vector<pg::TableInfo> tables, RowSink* sink,
                         metrics::Metrics* metrics,
                         const std::atomic<bool>* stop)
    : dsn_(std::move(dsn)),
      publication_(std::move(publication)),
      tables_(std::move(tables)),
      sink_(sink),
      metrics_(metrics),
      stop_(stop) {}

double Snapshotter::Now() const {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<SnapshotResult> Snapshotter::Run(
    const std::string& snapshot_name,
    const std::function<void()>& on_imported) {
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(dsn_, /*stream_settings=*/true);
  if (!conn.ok()) return conn.status();
  conn_ = *std::move(conn);

  // READ ONLY: the snapshot never writes. A long snapshot must not be cut
  // short by the role's or database's timeouts.
  std::string begin =
      "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
      "SET LOCAL statement_timeout = 0; "
      "SET LOCAL idle_in_transaction_session_timeout = 0; "
      "SET LOCAL lock_timeout = 0";
  // In key order by the primary key's index, never by sorting the table.
  if (key_order_) absl::StrAppend(&begin, "; SET LOCAL enable_sort = off");
  if (!snapshot_name.empty()) {
    // SET TRANSACTION SNAPSHOT must be the transaction's first statement
    // that takes a snapshot; SET LOCAL does not take one.
    absl::StrAppend(&begin, "; SET TRANSACTION SNAPSHOT ",
                    conn_->QuoteLiteral(snapshot_name));
  }
  if (absl::StatusOr<std::vector<pg::SqlRow>> r = conn_->Query(begin);
      !r.ok()) {
    return WithPrefix(r.status(), "cannot start the snapshot transaction: ");
  }
  if (on_imported) on_imported();

  std::vector<SnapshotProgress::Table> progress_tables;
  for (const pg::TableInfo& t : tables_) {
    progress_tables.push_back({t.name.Qualified(), -1, 0, false});
  }
  const double start = Now();
  start_ = start;
  progress_ =
      std::make_unique<SnapshotProgress>(std::move(progress_tables), start);
  next_log_ = start + kProgressLogSeconds;
  live_ = StderrIsTerminal();
  next_status_ = start;  // drawn at the first look, however short the table
  metrics_->SetSnapshotRunning(true);
  metrics_->SetSnapshotTablesRemaining(tables_.size());
  metrics_->SetSnapshotDurationSeconds(0);
  LogInfo("snapshot of ", tables_.size(), " table(s) started",
          snapshot_name.empty()
              ? " (a fresh snapshot)"
              : absl::StrCat(" (exported snapshot ", snapshot_name, ")"));

  absl::Status status = DescribeTables();
  for (size_t i = 0; i < tables_.size() && status.ok(); ++i) {
    status = ReadTable(i);
  }
  if (status.ok()) {
    absl::StatusOr<std::vector<pg::SqlRow>> r = conn_->Query("COMMIT");
    if (!r.ok()) status = r.status();
  }
  const double seconds = Now() - start;
  ClearStatusLine();
  metrics_->SetSnapshotRunning(false);
  metrics_->SetSnapshotDurationSeconds(seconds);
  // The session is of no further use; after an error it may still be in
  // the middle of a COPY.
  conn_.reset();
  if (!status.ok()) return status;
  SnapshotResult result;
  result.rows = progress_->total_rows();
  result.seconds = seconds;
  LogInfo("snapshot done: ", result.rows, " row(s) of ", tables_.size(),
          " table(s) in ", FormatDuration(seconds));
  return result;
}

absl::Status Snapshotter::DescribeTables() {
  described_.clear();
  for (const pg::TableInfo& table : tables_) {
    absl::StatusOr<pg::RelationDescription> described =
        pg::DescribeRelation(*conn_, table, publication_);
    if (!described.ok()) {
      return WithPrefix(
          described.status(),
          absl::StrCat("snapshot of ", table.name.Qualified(), ": "));
    }
    progress_->SetEstimate(described_.size(), described->estimated_rows);
    described_.push_back(*std::move(described));
  }
  // One probe per table from the last, within the snapshot: the rows of
  // every table it passes are there to read, none are missed. Only rows the
  // publication publishes count.
  last_with_rows_ = tables_.size();
  for (size_t i = tables_.size(); i-- > 0;) {
    std::string probe = absl::StrCat(
        "SELECT EXISTS (SELECT FROM ", tables_[i].partitioned ? "" : "ONLY ",
        conn_->QuoteIdentifier(tables_[i].name.schema), ".",
        conn_->QuoteIdentifier(tables_[i].name.table));
    if (std::string published =
            pg::PublishedRowsCondition(described_[i].row_filter);
        !published.empty()) {
      absl::StrAppend(&probe, " WHERE ", published);
    }
    absl::StrAppend(&probe, ")");
    absl::StatusOr<std::vector<pg::SqlRow>> r = conn_->Query(probe);
    if (!r.ok()) {
      return WithPrefix(
          r.status(),
          absl::StrCat("snapshot of ", tables_[i].name.Qualified(), ": "));
    }
    if (!r->empty() && !(*r)[0].empty() && (*r)[0][0] == std::string("t")) {
      last_with_rows_ = i;
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status Snapshotter::ReadTable(size_t index) {
  return WithPrefix(
      CopyTable(index),
      absl::StrCat("snapshot of ", tables_[index].name.Qualified(), ": "));
}

absl::Status Snapshotter::CopyTable(size_t index) {
  const pg::TableInfo& table = tables_[index];
  const std::string name = table.name.Qualified();
  const pg::RelationDescription* described = &described_[index];
  const pg::RelationMessage& relation = described->relation;
  CDC_RETURN_IF_ERROR(sink_->BeginTable(relation));

  pg::CopySelect select;
  select.table = table.name;
  select.partitioned = table.partitioned;
  select.columns = relation.columns;
  if (std::string published = pg::PublishedRowsCondition(described->row_filter);
      !published.empty()) {
    select.conditions.push_back(std::move(published));
  }
  if (key_order_) select.order_by = table.primary_key;
  const std::string sql = pg::CopyQuery(select, [this](std::string_view name) {
    return conn_->QuoteIdentifier(name);
  });
  CDC_RETURN_IF_ERROR(conn_->StartCopyOut(sql));
  LogWithFields(LogLevel::kInfo,
                absl::StrCat("snapshot: reading ", name, " (about ",
                             described->estimated_rows < 0
                                 ? std::string("an unknown number of")
                                 : absl::StrCat(described->estimated_rows),
                             " rows)"),
                {{"table", name}});

  // Each row is handed on once the next one is read (or the table ends), so
  // that the sink knows which is the last.
  pg::TupleData row;
  pg::TupleData pending;
  bool have_pending = false;
  uint64_t rows = 0;
  uint64_t counted = 0;  // rows already added to progress and metrics
  auto account = [&] {
    progress_->AddRows(index, rows - counted);
    metrics_->CountSnapshotRows(name, rows - counted);
    counted = rows;
  };
  for (;;) {
    absl::StatusOr<std::optional<std::string_view>> line = conn_->ReadCopyRow();
    if (!line.ok()) return line.status();
    if (!line->has_value()) break;
    if (absl::Status s =
            pg::ParseCopyTextRow(**line, relation.columns.size(), &row);
        !s.ok()) {
      return WithPrefix(s, absl::StrCat("row ", rows + 1, ": "));
    }
    if (have_pending) {
      CDC_RETURN_IF_ERROR(
          sink_->Row(relation, pending, rows - 1, RowPlace::kMore));
    }
    std::swap(row, pending);
    have_pending = true;
    ++rows;
    if (rows % kRowsPerCheck == 0) {
      account();
      if (stop_->load(std::memory_order_relaxed)) {
        return absl::CancelledError("stopped by a signal");
      }
      MaybeLogProgress(index, /*force=*/false);
    }
  }
  if (have_pending) {
    CDC_RETURN_IF_ERROR(sink_->Row(relation, pending, rows - 1,
                                   index == last_with_rows_
                                       ? RowPlace::kLastOfSnapshot
                                       : RowPlace::kLastInTable));
  }
  account();
  CDC_RETURN_IF_ERROR(sink_->EndTable(relation, rows));
  progress_->Finish(index);
  metrics_->SetSnapshotTablesRemaining(progress_->tables_remaining());
  MaybeLogProgress(index, /*force=*/true);
  return absl::OkStatus();
}

void Snapshotter::MaybeLogProgress(size_t table, bool force) {
  const double now = Now();
  metrics_->SetSnapshotDurationSeconds(now - start_);
  if (live_ && (force || now >= next_status_)) {
    next_status_ = now + kStatusLineSeconds;
    ShowStatusLine(progress_->StatusText(table, now));
  }
  if (!force && now < next_log_) return;
  next_log_ = now + kProgressLogSeconds;
  LogWithFields(LogLevel::kInfo, progress_->Line(table, now),
                {{"table", tables_[table].name.Qualified()}});
}

}  // namespace cdc::snapshot
