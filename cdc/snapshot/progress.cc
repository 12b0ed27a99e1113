#include "cdc/snapshot/progress.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cdc::snapshot {

SnapshotProgress::SnapshotProgress(std::vector<Table> tables,
                                   double start_seconds)
    : tables_(std::move(tables)), start_seconds_(start_seconds) {}

uint64_t SnapshotProgress::total_rows() const {
  uint64_t total = 0;
  for (const Table& t : tables_) total += t.rows;
  return total;
}

size_t SnapshotProgress::tables_remaining() const {
  return static_cast<size_t>(std::count_if(
      tables_.begin(), tables_.end(), [](const Table& t) { return !t.done; }));
}

double SnapshotProgress::Rate(double now_seconds) const {
  const double elapsed = now_seconds - start_seconds_;
  if (elapsed <= 0) return 0;
  return static_cast<double>(total_rows()) / elapsed;
}

double SnapshotProgress::SecondsLeft(double now_seconds) const {
  const double rate = Rate(now_seconds);
  if (rate <= 0) return -1;
  double rows_left = 0;
  for (const Table& t : tables_) {
    if (t.done) continue;
    if (t.estimated_rows < 0) return -1;
    const double estimate = static_cast<double>(t.estimated_rows);
    rows_left += std::max(0.0, estimate - static_cast<double>(t.rows));
  }
  return rows_left / rate;
}

int SnapshotProgress::Percent(const Table& t) {
  if (t.estimated_rows < 0) return -1;
  // A stale estimate the table outgrew reads as 99%, never over 100%.
  const double estimate =
      std::max<double>(static_cast<double>(t.estimated_rows), 1.0);
  double percent = 100.0 * static_cast<double>(t.rows) / estimate;
  if (!t.done) percent = std::min(percent, 99.0);
  return static_cast<int>(std::min(percent, 100.0));
}

std::string SnapshotProgress::Line(size_t table, double now_seconds) const {
  const Table& t = tables_[table];
  std::string line = absl::StrCat("snapshot: ", t.name, " ", t.rows);
  if (t.estimated_rows >= 0) {
    absl::StrAppend(&line, " of ~", t.estimated_rows, " rows (", Percent(t),
                    "%)");
  } else {
    absl::StrAppend(&line, " rows (total unknown)");
  }
  absl::StrAppend(&line, "; ", tables_remaining(), " of ", tables_.size(),
                  " table(s) left; ",
                  absl::StrFormat("%.0f", Rate(now_seconds)), " rows/s");
  const double left = SecondsLeft(now_seconds);
  if (left >= 0 && tables_remaining() > 0) {
    absl::StrAppend(&line, "; about ", FormatDuration(left), " left");
  }
  return line;
}

std::string SnapshotProgress::StatusText(size_t table,
                                         double now_seconds) const {
  const Table& t = tables_[table];
  std::string text = absl::StrCat("snapshot ", t.name, " ", t.rows);
  if (t.estimated_rows >= 0) {
    absl::StrAppend(&text, "/~", t.estimated_rows, " rows ", Percent(t), "%");
  } else {
    absl::StrAppend(&text, " rows");
  }
  absl::StrAppend(&text, " | ", absl::StrFormat("%.0f", Rate(now_seconds)),
                  " rows/s");
  const double left = SecondsLeft(now_seconds);
  if (left >= 0 && tables_remaining() > 0) {
    absl::StrAppend(&text, " | about ", FormatDuration(left), " left");
  }
  if (tables_.size() > 1) {
    absl::StrAppend(&text, " | table ", table + 1, " of ", tables_.size());
  }
  return text;
}

std::string FormatDuration(double seconds) {
  seconds = std::max(0.0, seconds);
  if (seconds < 9.95) return absl::StrFormat("%.1f s", seconds);
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return absl::StrCat(s, " s");
  if (s < 3600) return absl::StrCat(s / 60, " min ", s % 60, " s");
  return absl::StrFormat("%d h %02d min", s / 3600, (s % 3600) / 60);
}

}  // namespace cdc::snapshot
