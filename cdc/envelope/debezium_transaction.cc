#include "cdc/envelope/debezium_transaction.h"

#include <algorithm>

namespace cdc::envelope {

void DebeziumTransaction::Begin(std::string id) {
  End();
  in_progress_ = true;
  id_ = std::move(id);
}

void DebeziumTransaction::End() {
  in_progress_ = false;
  id_.clear();
  total_ = 0;
  collections_.clear();
  messages_ = 0;
}

int64_t DebeziumTransaction::Count(std::string_view collection) {
  ++total_;
  for (auto& [name, count] : collections_) {
    if (name == collection) return ++count;
  }
  collections_.emplace_back(std::string(collection), 1);
  return 1;
}

int64_t DebeziumTransaction::CountMessage() {
  ++total_;
  ++messages_;
  return 1;
}

int32_t DebeziumTransaction::JavaHashCode(std::string_view utf8) {
  uint32_t h = 0;
  auto add = [&h](uint32_t unit) { h = 31 * h + unit; };
  for (size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) {
      cp = c;
      n = 1;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1f;
      n = 2;
    } else if ((c >> 4) == 0xe) {
      cp = c & 0x0f;
      n = 3;
    } else {
      cp = c & 0x07;
      n = 4;
    }
    for (size_t k = 1; k < n && i + k < utf8.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3f);
    }
    i += n;
    if (cp >= 0x10000) {  // a surrogate pair in UTF-16
      cp -= 0x10000;
      add(0xd800 + (cp >> 10));
      add(0xdc00 + (cp & 0x3ff));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

std::vector<std::pair<std::string_view, int64_t>>
DebeziumTransaction::InHashMapOrder() const {
  // HashMap's table: 16 buckets, doubled whenever the size passes 3/4 of
  // them (resize() after putVal).
  const size_t keys = collections_.size() + static_cast<size_t>(messages_);
  uint32_t buckets = 16;
  while (keys > buckets / 4 * 3) buckets *= 2;
  struct Placed {
    uint32_t bucket;
    size_t inserted;
  };
  std::vector<Placed> placed;
  placed.reserve(collections_.size());
  for (size_t i = 0; i < collections_.size(); ++i) {
    const auto h = static_cast<uint32_t>(JavaHashCode(collections_[i].first));
    placed.push_back({(h ^ (h >> 16)) & (buckets - 1), i});  // HashMap.hash
  }
  std::stable_sort(
      placed.begin(), placed.end(),
      [](const Placed& a, const Placed& b) { return a.bucket < b.bucket; });
  std::vector<std::pair<std::string_view, int64_t>> out;
  out.reserve(keys);
  for (const Placed& p : placed) {
    out.emplace_back(collections_[p.inserted].first,
                     collections_[p.inserted].second);
  }
  for (int64_t i = 0; i < messages_; ++i) {
    out.emplace_back(kMessageCollection, 1);
  }
  return out;
}

}  // namespace cdc::envelope
