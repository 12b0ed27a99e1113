// ChangeLog: what pgcdc wrote to Kafka, read back with a real consumer and
// decoded, plus the checks the integration tests share: rebuilding a table
// from its topic, per-key order, and duplicates that are only replays.
//
// TopicCollector reads one topic on its own thread while pgcdc produces (the
// mock broker keeps only ~5 MB per partition, so big tests must consume as
// they go). Its accessors lock; everything else is thread-compatible.
#ifndef TESTS_INTEGRATION_HARNESS_CHANGE_LOG_H_
#define TESTS_INTEGRATION_HARNESS_CHANGE_LOG_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/kafka/topic_reader.h"
#include "cdc/pg/connection.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::testing {

struct ReadEvent {
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<v1::Row> key;
  v1::ChangeEvent event;
};

// column name → text form (nullopt: SQL NULL)
using RowImage = std::map<std::string, std::optional<std::string>>;
// key text → row
using TableImage = std::map<std::string, RowImage>;

// The text PostgreSQL would print for a value (envelope::ValueToPgText).
std::optional<std::string> ValueText(const v1::Value& value);
RowImage ToImage(const v1::Row& row);
std::string KeyText(const v1::Row& key);

// An event's identity, which is also its order among one key's events:
// (commit_lsn, 0 for a snapshot READ / 1 for a streamed event, seq). A
// snapshot's events carry its consistent point as commit_lsn and their row
// ordinal as seq, and come before any streamed event at that position.
using EventId = std::tuple<uint64_t, int, uint32_t>;
EventId IdOf(const v1::Source& source);
std::string FormatId(const EventId& id);

// Applies events in order, dropping replays by EventId. Rows are
// keyed by the message key (the table must have one).
TableImage Rebuild(const std::vector<ReadEvent>& events);
// SELECT * with the key columns' text as key ("col=value,...", as KeyText).
absl::StatusOr<TableImage> SelectTable(pg::SqlConnection& conn,
                                       const std::string& table,
                                       const std::vector<std::string>& key);

// Checks that each key's events, replays dropped, come in strictly
// increasing EventId order, and that every repeated EventId carries the
// same event. Returns a description of the
// first violation, or "" when there is none.
std::string CheckOrderAndDuplicates(const std::vector<ReadEvent>& events);

class TopicCollector {
 public:
  static absl::StatusOr<std::unique_ptr<TopicCollector>> Start(
      const std::string& bootstrap, const std::string& topic);
  ~TopicCollector();

  size_t size() const;
  std::vector<ReadEvent> events() const;
  // Waits until at least n events arrived.
  bool WaitFor(size_t n, int timeout_ms) const;
  // First decode/consume error, if any.
  std::string error() const;

 private:
  TopicCollector() = default;
  void Loop();
  std::unique_ptr<kafka::TopicReader> reader_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<ReadEvent> events_;
  std::string error_;
};

// Reads a topic to its end once (for small tests after pgcdc confirmed).
absl::StatusOr<std::vector<ReadEvent>> ReadAll(const std::string& bootstrap,
                                               const std::string& topic);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_CHANGE_LOG_H_
