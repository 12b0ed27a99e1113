#include "cdc/kafka/topic_names.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace cdc::kafka {
namespace {

bool IsTopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence starting at `s[i]`, or 0 if there
// is none (a stray or truncated byte).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if (!IsContinuation(static_cast<unsigned char>(s[i + k]))) return 0;
  }
  return length;
}

void AppendSanitized(std::string_view part, std::string* out) {
  for (size_t i = 0; i < part.size();) {
    if (IsTopicChar(part[i])) {
      out->push_back(part[i]);
      ++i;
      continue;
    }
    // Debezium replaces each Java char, i.e. each UTF-16 code unit: one '_'
    // per character of the Basic Multilingual Plane, two for the rest. Doing
    // the same keeps topic names identical for the same tables.
    const size_t length = Utf8SequenceLength(part, i);
    if (length == 0) {
      out->push_back('_');
      ++i;
    } else {
      out->append(length == 4 ? 2 : 1, '_');
      i += length;
    }
  }
}

}  // namespace

std::string TopicFor(std::string_view prefix, std::string_view schema,
                     std::string_view table) {
  std::string topic;
  topic.reserve(prefix.size() + schema.size() + table.size() + 2);
  AppendSanitized(prefix, &topic);
  topic.push_back('.');
  AppendSanitized(schema, &topic);
  topic.push_back('.');
  AppendSanitized(table, &topic);
  return topic;
}

std::vector<std::string> TopicsOf(const config::Config& config) {
  std::vector<std::string> topics;
  auto add = [&](std::string topic) {
    if (std::find(topics.begin(), topics.end(), topic) == topics.end()) {
      topics.push_back(std::move(topic));
    }
  };
  for (const TableName& table : config.source.tables) {
    add(TopicFor(config.kafka.topic_prefix, table.schema, table.table));
  }
  if (config.messages.enabled()) add(config.messages.topic);
  if (!config.kafka.dead_letter_topic.empty()) {
    add(config.kafka.dead_letter_topic);
  }
  return topics;
}

}  // namespace cdc::kafka
