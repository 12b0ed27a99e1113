// SnapshotProgress: what a person watching a snapshot wants to know — per
// table rows done against the catalog's estimate, the rate, and the time
// left — as one log line.
//
// Pure: the caller feeds it counts and the time; it reads no clock. The
// estimate is pg_class.reltuples, which can be stale or unknown (-1), so the
// "of" and the time left are labelled estimates, and a table that outgrows
// its estimate is taken as nearly done rather than past 100%.
//
// Thread-compatible: one owner.
#ifndef CDC_SNAPSHOT_PROGRESS_H_
#define CDC_SNAPSHOT_PROGRESS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cdc::snapshot {

class SnapshotProgress {
 public:
  struct Table {
    std::string name;             // "schema.table"
    int64_t estimated_rows = -1;  // -1: unknown
    uint64_t rows = 0;
    bool done = false;
  };

  // `tables` in the order they will be read; `start_seconds` on any steady
  // clock, the same one later calls use.
  SnapshotProgress(std::vector<Table> tables, double start_seconds);

  void AddRows(size_t table, uint64_t rows) { tables_[table].rows += rows; }
  void SetEstimate(size_t table, int64_t rows) {
    tables_[table].estimated_rows = rows;
  }
  void Finish(size_t table) { tables_[table].done = true; }

  uint64_t total_rows() const;
  size_t tables_remaining() const;
  const Table& table(size_t i) const { return tables_[i]; }

  // Rows per second since the start (0 before any time passed).
  double Rate(double now_seconds) const;
  // Seconds until every table is read at the current rate, or -1 when that
  // cannot be told (no rate yet, or an unknown estimate still to read).
  double SecondsLeft(double now_seconds) const;

  // "snapshot: public.orders 120000 of ~500000 rows (24%); 3 of 5 tables
  // left; 51000 rows/s; about 8 s left" for the table being read (`table`).
  std::string Line(size_t table, double now_seconds) const;

  // The same, shorter, for a status line redrawn in place on a terminal:
  // "snapshot public.orders 120000/~500000 rows 24% | 51000 rows/s | about
  // 8.0 s left | table 3 of 5" (the table count only when there are several).
  std::string StatusText(size_t table, double now_seconds) const;

 private:
  // Percent of `t` read, capped at 99 until it is done; -1 when unknown.
  static int Percent(const Table& t);

  std::vector<Table> tables_;
  double start_seconds_;
};

// "0.7 s", "42 s", "3 min 20 s", "2 h 05 min".
std::string FormatDuration(double seconds);

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_PROGRESS_H_
