// Snapshotter: reads the rows already in the published tables, as one
// consistent picture, for the pipeline to publish as READ events before it
// streams.
//
// The handoff (why no row is lost or doubled across the boundary):
//   1. On a replication connection pgcdc creates the slot with
//      CREATE_REPLICATION_SLOT ... LOGICAL pgoutput (SNAPSHOT 'export').
//      The server answers with the slot's consistent point C and the name of
//      a snapshot that sees exactly the transactions that committed before
//      C; the slot decodes exactly those that commit from C on.
//   2. Run() imports that snapshot on an ordinary session (BEGIN ISOLATION
//      LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '...'), reads every
//      table with COPY (SELECT columns FROM table) TO STDOUT in text format,
//      and commits. The exporting connection must stay open and idle until
//      the import; `on_imported` lets the caller close it right after.
//   3. The pipeline publishes each row as a READ event in the same tracker
//      and bounded in-flight window as streamed events, waits for all of
//      them to be acknowledged, and only then streams the slot from C. The
//      slot's confirmed position cannot pass C before that: nothing else is
//      confirmed while the snapshot runs.
// Writes made during the snapshot are invisible to it and committed after C,
// so they reach the topic through the stream, after the snapshot's copy of
// the row: rebuilding a table from its topic gives the table, each row once.
//
// Values: the session runs under the replication session's settings
// (kReplicationSessionOptions), and COPY's text escaping is undone by
// ParseCopyTextRow, so each value is the same text the stream would carry.
// Shapes and rows: each table is described from the catalog, inside the
// snapshot, as pgoutput's Relation message would describe it when it streams
// the publication, and read through the publication's column list and row
// filter (pg::DescribeRelation): a snapshot publishes exactly the columns and
// rows the stream would, no column the publication leaves out.
//
// Without a snapshot name Run() reads a fresh REPEATABLE READ snapshot, as
// of its start; the caller owns what that means for the handoff.
//
// Owns its SQL session. Borrows the sink, metrics and stop flag, which must
// outlive it. Single-threaded: the sink is called on the caller's thread.
#ifndef CDC_SNAPSHOT_SNAPSHOTTER_H_
#define CDC_SNAPSHOT_SNAPSHOTTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/metrics/metrics.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/snapshot/progress.h"

namespace cdc::snapshot {

// Whether more rows follow a row: the reader looks one row ahead, and knows
// before it reads which table is the last with rows.
enum class RowPlace {
  kMore,            // another row of its table follows
  kLastInTable,     // the table's last row; rows of a later table follow
  kLastOfSnapshot,  // the snapshot's last row
};

// Where the rows go (the pipeline). Each call may block, e.g. while the
// in-flight window is full; an error stops the snapshot and is returned by
// Run().
class RowSink {
 public:
  virtual ~RowSink() = default;
  // Before the first row of a table: its shape, as pgoutput describes it.
  virtual absl::Status BeginTable(const pg::RelationMessage& relation) = 0;
  // One row, `ordinal` counting from 0 within the table.
  virtual absl::Status Row(const pg::RelationMessage& relation,
                           const pg::TupleData& row, uint64_t ordinal,
                           RowPlace place) = 0;
  // After the last row of a table.
  virtual absl::Status EndTable(const pg::RelationMessage& relation,
                                uint64_t rows) = 0;
};

struct SnapshotResult {
  uint64_t rows = 0;
  double seconds = 0;
};

class Snapshotter {
 public:
  Snapshotter(std::string dsn, std::string publication,
              std::vector<pg::TableInfo> tables, RowSink* sink,
              metrics::Metrics* metrics, const std::atomic<bool>* stop);

  // Reads each table with a primary key in key order (an index scan), so
  // that the rows done so far are the keys up to the last one: what lets an
  // interrupted snapshot resume (initial_snapshot.h). Off by default: a
  // sequential scan is cheaper.
  void ReadInKeyOrder() { key_order_ = true; }

  // Reads every table within `snapshot_name` (empty: a fresh snapshot).
  // kCancelled when the stop flag was set; a lost connection kUnavailable;
  // a row COPY printed out of format kDataLoss; the sink's errors as they
  // are.
  absl::StatusOr<SnapshotResult> Run(const std::string& snapshot_name,
                                     const std::function<void()>& on_imported);

 private:
  // Fills described_ and sets last_with_rows_.
  absl::Status DescribeTables();
  // Reads table `index`; its errors name the table.
  absl::Status ReadTable(size_t index);
  absl::Status CopyTable(size_t index);
  void MaybeLogProgress(size_t table, bool force);
  double Now() const;

  std::string dsn_;
  std::string publication_;
  std::vector<pg::TableInfo> tables_;
  // tables_[i] as the publication publishes it, read inside the snapshot.
  std::vector<pg::RelationDescription> described_;
  bool key_order_ = false;
  // The index of the last table with rows in the snapshot; tables_.size()
  // when none has any.
  size_t last_with_rows_ = 0;
  RowSink* sink_;
  metrics::Metrics* metrics_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<pg::SqlConnection> conn_;
  std::unique_ptr<SnapshotProgress> progress_;
  double start_ = 0;
  double next_log_ = 0;
  // A live status line too (stderr is a terminal), redrawn from next_status_.
  bool live_ = false;
  double next_status_ = 0;
};

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_SNAPSHOTTER_H_
