// ChunkReader: reads the chunks of incremental snapshots (incremental.h) on a
// thread and a session of its own, so that the loop which streams the slot,
// confirms it and answers signals never waits for a chunk.
//
// A chunk's request carries a row filter written by whoever held the signal
// key, run as SQL: the session runs pgcdc's stream settings (values print
// as the stream prints them), and each chunk is one READ ONLY transaction
// (REPEATABLE READ, on a snapshot that sees every transaction the stream
// delivered before the chunk's low watermark)
// with statement_timeout = snapshot.chunk_timeout_ms (and no lock_timeout
// or idle timeout of the role's or database's), whose only statement with
// the filter in it is one COPY through the extended protocol, the filter
// checked by CheckRowFilter first (row_filter.h). A chunk keeps rows until
// they reach `budget_bytes`; the rest of its COPY is read and dropped and
// the chunk is marked cut short, so its memory is bounded whatever the row
// size.
//
// The reader owns its session and thread. Start, Take and the
// destructor are called from one thread (the pipeline's); the work runs on
// the reader's own. Errors keep the codes of cdc/pg/connection.h: a lost
// session is kUnavailable, a statement past its timeout kDeadlineExceeded,
// a lock or serialization conflict kUnavailable or kAborted, a bad filter
// kInvalidArgument; the session is dropped after any error and made again
// for the next chunk.
#ifndef CDC_SNAPSHOT_CHUNK_READER_H_
#define CDC_SNAPSHOT_CHUNK_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/snapshot/incremental.h"

namespace cdc::snapshot {

class ChunkReader {
 public:
  struct Result {
    absl::Status status;
    // The table's shape and size estimate when the chunk was read.
    pg::RelationMessage relation;
    int64_t estimated_rows = -1;
    // As IncrementalSnapshot::ChunkRead takes them.
    std::vector<ChunkRow> rows;
    std::vector<std::string> last_key;
    bool cut_short = false;
  };

  // Reads the columns and rows `publication` publishes
  // (pg::DescribeRelation): its column list, and its row filter as well as
  // the chunk's own.
  ChunkReader(std::string dsn, std::string publication, int timeout_ms,
              size_t budget_bytes);
  // Cancels a read in progress and waits for its thread.
  ~ChunkReader();
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  // Starts reading `chunk` of `table`, on a snapshot that sees every one of
  // `streamed`: the ids of the transactions the stream delivered before the
  // chunk's low watermark (the recent ones suffice: a transaction leaves the
  // running set moments after its commit). One read at a time: not while
  // busy().
  void Start(const pg::TableInfo& table,
             const IncrementalSnapshot::Chunk& chunk,
             std::vector<uint32_t> streamed);
  bool busy() const { return worker_.joinable(); }
  // The result of the read, once it is done (then no longer busy).
  std::optional<Result> Take();
  // Readable while a result waits to be taken: for the loop's poll.
  int wake_fd() const { return wake_fd_; }

 private:
  Result Read(const pg::TableInfo& table,
              const IncrementalSnapshot::Chunk& chunk,
              const std::vector<uint32_t>& streamed);
  // BEGINs the chunk's transaction, with a snapshot that sees every one of
  // `streamed` (see the .cc for why that needs saying).
  absl::Status BeginWithEveryCommitVisible(
      pg::SqlConnection& sql, const std::vector<uint32_t>& streamed);
  absl::Status ReadRows(pg::SqlConnection& sql, const pg::TableInfo& table,
                        const IncrementalSnapshot::Chunk& chunk,
                        const std::vector<uint32_t>& streamed, Result* out);

  const std::string dsn_;
  const std::string publication_;
  const int timeout_ms_;
  const size_t budget_bytes_;
  int wake_fd_ = -1;
  std::thread worker_;
  // Used by the worker alone while it runs; kept between chunks.
  std::unique_ptr<pg::SqlConnection> session_;

  absl::Mutex mu_;
  // The session of the read in progress, for Cancel from the other thread.
  pg::SqlConnection* reading_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Result> done_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_CHUNK_READER_H_
