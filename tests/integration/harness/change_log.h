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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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

// What ValueText gives for an unchanged TOASTed value (Rebuild replaces it
// with the row's previous value).
inline constexpr char kUnchangedToastText[] = "<unchanged-toast>";

// The text PostgreSQL would print for a value (envelope::ValueToPgText) of
// `type` (Column.type, or base_type for a domain; "" when unknown).
std::optional<std::string> ValueText(const v1::Value& value,
                                     std::string_view type = "");
RowImage ToImage(const v1::Row& row);
std::string KeyText(const v1::Row& key);
// The column `name` of `row`, or nullptr.
const v1::Column* FindColumn(const v1::Row& row, const std::string& name);

// An event's identity, which is also its order among one key's events:
// (commit_lsn, 0 for a snapshot READ / 1 for a streamed event, seq). A
// snapshot's events carry its consistent point as commit_lsn and their row
// ordinal as seq, and come before any streamed event at that position.
using EventId = std::tuple<uint64_t, int, uint32_t>;
EventId IdOf(const v1::Source& source);
std::string FormatId(const EventId& id);

// Applies events in EventId order, dropping replays, and merges unchanged
// TOASTed values as docs/envelope.md tells consumers to. Rows are keyed by the
// message key (the table must have one).
TableImage Rebuild(const std::vector<ReadEvent>& events);
// For a failed `Rebuild(events) == source`: each key (at most 10) whose row
// differs, whether the topic and the table have it, and its events in
// EventId order with partition and offset.
std::string RebuildDifferences(const std::vector<ReadEvent>& events,
                               const TableImage& rebuilt,
                               const TableImage& source);
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
  struct Options {
    // false: count events and pass them to on_event, but keep none (for
    // millions of events).
    bool keep_events = true;
    // Called on the collector's thread for every decoded event.
    std::function<void(const ReadEvent&)> on_event;
  };
  static absl::StatusOr<std::unique_ptr<TopicCollector>> Start(
      const std::string& bootstrap, const std::string& topic);
  static absl::StatusOr<std::unique_ptr<TopicCollector>> Start(
      const std::string& bootstrap, const std::string& topic, Options options);
  ~TopicCollector();

  // Events received so far (kept or not).
  size_t size() const;
  std::vector<ReadEvent> events() const;
  // Waits until at least n events arrived.
  bool WaitFor(size_t n, int timeout_ms) const;
  // Once nothing produces to the topic any more: waits until every record
  // it holds arrived (as many as its partitions' high watermarks add up to,
  // replays included), however far behind the collector is.
  absl::Status WaitForEnd(int timeout_ms) const;
  // First decode/consume error, if any.
  std::string error() const;

 private:
  TopicCollector() = default;
  void Loop();
  std::unique_ptr<kafka::TopicReader> reader_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  Options options_;
  std::string bootstrap_;
  std::string topic_;
  size_t count_ = 0;
  std::vector<ReadEvent> events_;
  std::string error_;
};

// Reads a topic to its end once (for small tests after pgcdc confirmed).
absl::StatusOr<std::vector<ReadEvent>> ReadAll(const std::string& bootstrap,
                                               const std::string& topic);
// The same through a secured listener: `properties` are librdkafka consumer
// properties (security.protocol, sasl.*, ssl.*).
absl::StatusOr<std::vector<ReadEvent>> ReadAll(
    const std::string& bootstrap, const std::string& topic,
    const std::map<std::string, std::string>& properties);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_CHANGE_LOG_H_
