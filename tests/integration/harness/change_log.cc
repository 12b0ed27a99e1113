#include "tests/integration/harness/change_log.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/envelope/value_text.h"

namespace cdc::testing {

std::optional<std::string> ValueText(const v1::Value& value,
                                     std::string_view type) {
  if (value.kind_case() == v1::Value::kUnchangedToast) {
    return std::string(kUnchangedToastText);
  }
  if (value.kind_case() == v1::Value::KIND_NOT_SET) {
    return std::string("<unset>");
  }
  return envelope::ValueToPgText(value, type);
}

const v1::Column* FindColumn(const v1::Row& row, const std::string& name) {
  for (const v1::Column& c : row.columns()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

RowImage ToImage(const v1::Row& row) {
  RowImage image;
  for (const v1::Column& c : row.columns()) {
    image[c.name()] =
        ValueText(c.value(), c.base_type().empty() ? c.type() : c.base_type());
  }
  return image;
}

std::string KeyText(const v1::Row& key) {
  std::vector<std::string> parts;
  for (const v1::Column& c : key.columns()) {
    parts.push_back(
        absl::StrCat(c.name(), "=", ValueText(c.value()).value_or("NULL")));
  }
  return absl::StrJoin(parts, ",");
}

EventId IdOf(const v1::Source& source) {
  return {source.commit_lsn(), source.snapshot() ? 0 : 1, source.seq()};
}

std::string FormatId(const EventId& id) {
  return absl::StrCat("(", std::get<0>(id),
                      std::get<1>(id) == 0 ? ", snapshot, " : ", ",
                      std::get<2>(id), ")");
}

TableImage Rebuild(const std::vector<ReadEvent>& unordered) {
  // Partitions interleave arbitrarily when read back; the EventId order is
  // the order the changes were made in.
  std::vector<const ReadEvent*> events;
  for (const ReadEvent& e : unordered) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(),
                   [](const ReadEvent* a, const ReadEvent* b) {
                     return IdOf(a->event.source()) < IdOf(b->event.source());
                   });
  TableImage table;
  std::set<EventId> seen;
  // Rows removed by DELETE events, by id: a CREATE right after one in the
  // same transaction is a key change, the same row under its new key.
  std::map<EventId, RowImage> deleted;
  for (const ReadEvent* event : events) {
    const ReadEvent& e = *event;
    const v1::Source& s = e.event.source();
    if (!seen.insert(IdOf(s)).second) continue;  // replay
    // TRUNCATE and MESSAGE events have no key.
    const std::string key = e.key.has_value() ? KeyText(*e.key) : "";
    switch (e.event.op()) {
      case v1::CREATE:
      case v1::UPDATE:
      case v1::READ: {
        // docs/envelope.md's merge rule: an unchanged TOASTed value is the one
        // the row had before — in the event's before image when it has one,
        // else in the consumer's copy of the row (under the old key after a key
        // change).
        RowImage previous;
        if (auto it = table.find(key); it != table.end()) {
          previous = it->second;
        } else if (auto d = deleted.find({s.commit_lsn(), 1, s.seq() - 1});
                   e.event.op() == v1::CREATE && s.seq() > 0 &&
                   d != deleted.end()) {
          previous = d->second;
        }
        for (const auto& [column, value] : ToImage(e.event.before())) {
          if (value != kUnchangedToastText) previous[column] = value;
        }
        RowImage image = ToImage(e.event.after());
        for (auto& [column, value] : image) {
          auto was = previous.find(column);
          if (value == kUnchangedToastText && was != previous.end()) {
            value = was->second;
          }
        }
        table[key] = std::move(image);
        break;
      }
      case v1::DELETE:
        if (auto it = table.find(key); it != table.end()) {
          deleted[IdOf(s)] = std::move(it->second);
          table.erase(it);
        }
        break;
      case v1::TRUNCATE:
        table.clear();
        break;
      default:
        break;
    }
  }
  return table;
}

absl::StatusOr<TableImage> SelectTable(pg::SqlConnection& conn,
                                       const std::string& table,
                                       const std::vector<std::string>& key) {
  absl::StatusOr<std::vector<pg::SqlRow>> names = conn.Query(
      "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass "
      "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      {table});
  if (!names.ok()) return names.status();
  absl::StatusOr<std::vector<pg::SqlRow>> rows =
      conn.Query(absl::StrCat("SELECT * FROM ", table));
  if (!rows.ok()) return rows.status();
  TableImage image;
  for (const pg::SqlRow& row : *rows) {
    RowImage r;
    for (size_t i = 0; i < names->size(); ++i) r[*(*names)[i][0]] = row[i];
    std::vector<std::string> parts;
    for (const std::string& k : key) {
      parts.push_back(absl::StrCat(k, "=", r[k].value_or("NULL")));
    }
    image[absl::StrJoin(parts, ",")] = std::move(r);
  }
  return image;
}

std::string CheckOrderAndDuplicates(const std::vector<ReadEvent>& events) {
  std::map<EventId, std::string> by_id;
  std::map<std::string, EventId> last_by_key;
  for (const ReadEvent& e : events) {
    const v1::Source& s = e.event.source();
    const EventId id = IdOf(s);
    v1::ChangeEvent comparable = e.event;
    comparable.clear_ts_ms();  // differs between a first send and a replay
    std::string bytes = comparable.SerializeAsString();
    auto [it, inserted] = by_id.emplace(id, bytes);
    if (!inserted) {
      if (it->second != bytes) {
        return absl::StrCat("two different events share the id ", FormatId(id));
      }
      continue;  // a replay
    }
    if (!e.key) continue;
    std::string key =
        absl::StrCat(s.schema(), ".", s.table(), "/", KeyText(*e.key));
    auto last = last_by_key.find(key);
    if (last != last_by_key.end() && !(last->second < id)) {
      return absl::StrCat("key ", key, ": event ", FormatId(id),
                          " at partition ", e.partition, " offset ", e.offset,
                          " comes after ", FormatId(last->second));
    }
    last_by_key[key] = id;
  }
  return "";
}

namespace {

absl::StatusOr<ReadEvent> Decode(const kafka::ConsumedMessage& m) {
  ReadEvent e;
  e.partition = m.partition;
  e.offset = m.offset;
  if (!e.event.ParseFromString(m.value)) {
    return absl::DataLossError(
        absl::StrCat("undecodable value at ", m.partition, "/", m.offset));
  }
  if (m.key) {
    v1::Row key;
    if (!key.ParseFromString(*m.key)) {
      return absl::DataLossError(
          absl::StrCat("undecodable key at ", m.partition, "/", m.offset));
    }
    e.key = std::move(key);
  }
  return e;
}

// Messages of one partition stay in offset order; partitions are merged in
// arrival order, which is all the per-key checks need.
}  // namespace

absl::StatusOr<std::unique_ptr<TopicCollector>> TopicCollector::Start(
    const std::string& bootstrap, const std::string& topic) {
  return Start(bootstrap, topic, Options());
}

absl::StatusOr<std::unique_ptr<TopicCollector>> TopicCollector::Start(
    const std::string& bootstrap, const std::string& topic, Options options) {
  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(bootstrap, topic, /*from_beginning=*/true,
                               60000);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<TopicCollector> c(new TopicCollector());
  c->options_ = std::move(options);
  c->bootstrap_ = bootstrap;
  c->topic_ = topic;
  c->reader_ = *std::move(reader);
  c->thread_ = std::thread([p = c.get()] { p->Loop(); });
  return c;
}

TopicCollector::~TopicCollector() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TopicCollector::Loop() {
  while (!stop_) {
    absl::StatusOr<std::optional<kafka::ConsumedMessage>> m =
        reader_->Next(100);
    if (!m.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.empty()) error_ = std::string(m.status().message());
      continue;
    }
    if (!m->has_value()) continue;
    absl::StatusOr<ReadEvent> e = Decode(**m);
    if (e.ok() && options_.on_event) options_.on_event(*e);
    std::lock_guard<std::mutex> lock(mu_);
    if (!e.ok()) {
      if (error_.empty()) error_ = std::string(e.status().message());
      continue;
    }
    ++count_;
    if (options_.keep_events) events_.push_back(*std::move(e));
  }
}

size_t TopicCollector::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

std::vector<ReadEvent> TopicCollector::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::string TopicCollector::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

bool TopicCollector::WaitFor(size_t n, int timeout_ms) const {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return size() >= n;
}

absl::Status TopicCollector::WaitForEnd(int timeout_ms) const {
  // A reader of its own: the collector's belongs to the collector's thread.
  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(bootstrap_, topic_, /*from_beginning=*/true,
                               timeout_ms);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::vector<kafka::TopicReader::Watermarks>> marks =
      (*reader)->QueryWatermarks(timeout_ms);
  if (!marks.ok()) return marks.status();
  size_t records = 0;
  for (const kafka::TopicReader::Watermarks& m : *marks) {
    records += static_cast<size_t>(m.high);
  }
  if (!WaitFor(records, timeout_ms)) {
    return absl::DeadlineExceededError(
        absl::StrCat(topic_, " holds ", records, " record(s); ", size(),
                     " arrived in ", timeout_ms, " ms"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ReadEvent>> ReadAll(const std::string& bootstrap,
                                               const std::string& topic) {
  return ReadAll(bootstrap, topic, {});
}

absl::StatusOr<std::vector<ReadEvent>> ReadAll(
    const std::string& bootstrap, const std::string& topic,
    const std::map<std::string, std::string>& properties) {
  absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
      kafka::TopicReader::Open(bootstrap, topic, /*from_beginning=*/true,
                               30000, properties);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> messages =
      (*reader)->ReadToEnd(15000);  // only bounds a stall: the end returns
  if (!messages.ok()) return messages.status();
  std::vector<ReadEvent> out;
  for (const kafka::ConsumedMessage& m : *messages) {
    absl::StatusOr<ReadEvent> e = Decode(m);
    if (!e.ok()) return e.status();
    out.push_back(*std::move(e));
  }
  return out;
}

// The keys whose row differs, each with its events in EventId order.
std::string RebuildDifferences(const std::vector<ReadEvent>& events,
                        const TableImage& rebuilt, const TableImage& source) {
  std::set<std::string> keys;
  for (const auto& [key, row] : rebuilt) {
    auto it = source.find(key);
    if (it == source.end() || it->second != row) keys.insert(key);
  }
  for (const auto& [key, row] : source) {
    if (!rebuilt.count(key)) keys.insert(key);
  }
  std::string out;
  size_t shown = 0;
  for (const std::string& key : keys) {
    if (++shown > 10) break;
    absl::StrAppend(
        &out, "key ", key, ": ",
        rebuilt.count(key) ? "in the topic" : "not in the topic", ", ",
        source.count(key) ? "in the table" : "not in the table", "\n");
    std::vector<const ReadEvent*> history;
    for (const ReadEvent& e : events) {
      if (e.key.has_value() && KeyText(*e.key) == key) history.push_back(&e);
    }
    std::stable_sort(history.begin(), history.end(),
                     [](const ReadEvent* a, const ReadEvent* b) {
                       return IdOf(a->event.source()) < IdOf(b->event.source());
                     });
    for (const ReadEvent* e : history) {
      absl::StrAppend(&out, "  ", v1::Op_Name(e->event.op()), " ",
                      FormatId(IdOf(e->event.source())), " partition ",
                      e->partition, " offset ", e->offset, "\n");
    }
  }
  return out;
}

}  // namespace cdc::testing
