#include "cdc/snapshot/chunk_reader.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/pg/copy_query.h"
#include "cdc/pg/copy_text.h"
#include "cdc/snapshot/row_filter.h"

namespace cdc::snapshot {
namespace {

// Snapshots taken before a chunk is given up for now (kUnavailable: tried
// again later), 1 ms apart.
constexpr int kMaxSnapshotAttempts = 1000;

}  // namespace

ChunkReader::ChunkReader(std::string dsn, std::string publication,
                         int timeout_ms, size_t budget_bytes)
    : dsn_(std::move(dsn)),
      publication_(std::move(publication)),
      timeout_ms_(timeout_ms),
      budget_bytes_(budget_bytes),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

ChunkReader::~ChunkReader() {
  if (worker_.joinable()) {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    // A cancel that lands between two statements cancels nothing: sent
    // again until the read is over.
    while (!done_.has_value()) {
      if (reading_ != nullptr) reading_->Cancel();
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](std::optional<Result>* done) { return done->has_value(); },
              &done_),
          absl::Milliseconds(100));
    }
  }
  if (worker_.joinable()) worker_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ChunkReader::Start(const pg::TableInfo& table,
                        const IncrementalSnapshot::Chunk& chunk,
                        std::vector<uint32_t> streamed) {
  if (worker_.joinable()) worker_.join();  // a result was taken: it is done
  worker_ = std::thread([this, table, chunk, streamed = std::move(streamed)] {
    Result result = Read(table, chunk, streamed);
    absl::MutexLock lock(&mu_);
    done_ = std::move(result);
    if (wake_fd_ >= 0) {
      const uint64_t one = 1;
      (void)!::write(wake_fd_, &one, sizeof(one));
    }
  });
}

std::optional<ChunkReader::Result> ChunkReader::Take() {
  std::optional<Result> result;
  {
    absl::MutexLock lock(&mu_);
    if (!done_.has_value()) return std::nullopt;
    result = std::move(done_);
    done_.reset();
  }
  if (wake_fd_ >= 0) {
    uint64_t count = 0;
    (void)!::read(wake_fd_, &count, sizeof(count));
  }
  worker_.join();
  return result;
}

// The chunk's transaction, on a snapshot that sees every transaction the
// stream delivered before the chunk's low watermark. That is not a given: a
// backend writes and flushes its commit record, marks the transaction
// committed in clog, waits for synchronous standbys, and only then leaves
// the proc array (xact.c: RecordTransactionCommit before
// ProcArrayEndTransaction); the walsender may decode and send it, and the
// low watermark after it, in between, and a snapshot taken then sees it as
// still running. Its changes were streamed before the window opened, so
// nothing would supersede the chunk's older copy of those rows: a row it
// deleted would be published again, after the delete. So while the
// snapshot counts one of `streamed` (the ids of the transactions the stream
// delivered) as running, it is taken again.
absl::Status ChunkReader::BeginWithEveryCommitVisible(
    pg::SqlConnection& sql, const std::vector<uint32_t>& streamed) {
  const absl::flat_hash_set<uint32_t> delivered(streamed.begin(),
                                                streamed.end());
  for (int attempt = 1;; ++attempt) {
    // pgcdc's own text (no input in it), so several statements are fine.
    // REPEATABLE READ: the check and the COPY share one snapshot, taken by
    // the SELECT. standard_conforming_strings: the filter is lexed so.
    absl::StatusOr<std::vector<pg::SqlRow>> running = sql.Query(
        absl::StrCat("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                     "SET LOCAL statement_timeout = ",
                     timeout_ms_,
                     "; SET LOCAL lock_timeout = 0; "
                     "SET LOCAL idle_in_transaction_session_timeout = 0; "
                     "SET LOCAL standard_conforming_strings = on; "
                     "SELECT (x % 4294967296)::text "
                     "FROM txid_snapshot_xip(txid_current_snapshot()) AS x"));
    if (!running.ok()) return running.status();
    bool unseen = false;
    for (const pg::SqlRow& row : *running) {
      uint32_t xid = 0;
      if (row[0].has_value() && absl::SimpleAtoi(*row[0], &xid) &&
          delivered.contains(xid)) {
        unseen = true;
        break;
      }
    }
    if (!unseen) return absl::OkStatus();
    CDC_RETURN_IF_ERROR(sql.Query("ROLLBACK").status());
    if (attempt == kMaxSnapshotAttempts) {
      return absl::UnavailableError(
          "a transaction the stream delivered stayed invisible to every "
          "snapshot taken for the chunk (a synchronous standby that does not "
          "answer?)");
    }
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return absl::CancelledError("stopped");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

ChunkReader::Result ChunkReader::Read(const pg::TableInfo& table,
                                      const IncrementalSnapshot::Chunk& chunk,
                                      const std::vector<uint32_t>& streamed) {
  Result result;
  if (session_ == nullptr) {
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(dsn_, /*stream_settings=*/true);
    if (!conn.ok()) {
      result.status = conn.status();
      return result;
    }
    session_ = *std::move(conn);
  }
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) {
      result.status = absl::CancelledError("stopped");
      return result;
    }
    reading_ = session_.get();
  }
  result.status = ReadRows(*session_, table, chunk, streamed, &result);
  {
    absl::MutexLock lock(&mu_);
    reading_ = nullptr;
  }
  if (!result.status.ok()) {
    // Whatever state the failure left it in: a new one for the next chunk.
    session_.reset();
    result.rows.clear();
  }
  return result;
}

absl::Status ChunkReader::ReadRows(pg::SqlConnection& sql,
                                   const pg::TableInfo& table,
                                   const IncrementalSnapshot::Chunk& chunk,
                                   const std::vector<uint32_t>& streamed,
                                   Result* out) {
  if (!chunk.after_key.empty() &&
      chunk.after_key.size() != table.primary_key.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the journal's key has ", chunk.after_key.size(),
        " column(s) but the primary key now has ", table.primary_key.size()));
  }
  CDC_RETURN_IF_ERROR(CheckRowFilter(chunk.where));
  CDC_RETURN_IF_ERROR(BeginWithEveryCommitVisible(sql, streamed));
  absl::StatusOr<pg::RelationDescription> described =
      pg::DescribeRelation(sql, table, publication_);
  if (!described.ok()) return described.status();
  out->relation = described->relation;
  out->estimated_rows = described->estimated_rows;
  const pg::RelationMessage& relation = out->relation;
  // Names no event can carry (envelope_builder.h): refused before the chunk
  // is read, as the stream refuses them.
  CDC_RETURN_IF_ERROR(envelope::CheckRelationNames(relation));

  std::vector<std::string> key_columns;
  std::vector<size_t> key_positions;
  for (const std::string& k : table.primary_key) {
    key_columns.push_back(sql.QuoteIdentifier(k));
    size_t i = 0;
    while (i < relation.columns.size() && relation.columns[i].name != k) ++i;
    if (i == relation.columns.size()) {
      // Gone, or left out by the publication's column list: the chunks are
      // read in key order and matched with the stream by key.
      return absl::FailedPreconditionError(absl::StrCat(
          "primary key column ", k,
          " is not published (dropped, or left out "
          "of publication \"",
          publication_,
          "\"'s column list), and an "
          "incremental snapshot reads and matches rows by their key"));
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
  if (std::string published = pg::PublishedRowsCondition(described->row_filter);
      !published.empty()) {
    conditions.push_back(std::move(published));
  }
  if (!chunk.where.empty()) {
    conditions.push_back(RowFilterCondition(chunk.where));
  }
  const std::string query = pg::CopyQuery(
      {table.name, table.partitioned, relation.columns, std::move(conditions),
       table.primary_key, chunk.limit},
      [&sql](std::string_view name) { return sql.QuoteIdentifier(name); });
  CDC_RETURN_IF_ERROR(sql.StartCopyOut(query));
  std::vector<std::string_view> key;
  size_t bytes = 0;
  out->cut_short = false;
  for (;;) {
    absl::StatusOr<std::optional<std::string_view>> line = sql.ReadCopyRow();
    if (!line.ok()) return line.status();
    if (!line->has_value()) break;
    if (out->cut_short) continue;
    if (bytes >= budget_bytes_ && !out->rows.empty()) {
      out->cut_short = true;
      continue;
    }
    bytes += (*line)->size();
    ChunkRow row;
    if (absl::Status s =
            pg::ParseCopyTextRow(**line, relation.columns.size(), &row.row);
        !s.ok()) {
      return WithPrefix(s, absl::StrCat("row ", out->rows.size() + 1, ": "));
    }
    key.clear();
    for (size_t p : key_positions) key.push_back(row.row.values[p].data);
    row.key = EncodeKey(key);
    out->rows.push_back(std::move(row));
  }
  CDC_RETURN_IF_ERROR(sql.Query("COMMIT").status());
  if (!out->rows.empty()) {
    for (size_t p : key_positions) {
      out->last_key.push_back(out->rows.back().row.values[p].data);
    }
  }
  return absl::OkStatus();
}

}  // namespace cdc::snapshot
