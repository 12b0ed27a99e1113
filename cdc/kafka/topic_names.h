// The names of the Kafka topics pgcdc writes to. TopicFor: the topic a
// table's changes go to, one topic per table; TopicsOf: all of them.
//
// The name is "<prefix>.<schema>.<table>" with every character outside
// [A-Za-z0-9._-] replaced by '_', as Debezium does, because those are the
// only characters Kafka allows in a topic name and PostgreSQL identifiers
// may hold any. Like Debezium, which replaces each UTF-16 code unit, a
// non-ASCII character becomes one '_' (two outside the Basic Multilingual
// Plane); bytes that are not well-formed UTF-8 become one '_' each. The
// mapping is therefore not injective ("a b" and "a_b" share a topic); that is
// accepted, as it is by Debezium. Kafka's 249 character limit is not enforced
// here: the broker rejects longer names.
//
// Pure function; thread-safe.
#ifndef CDC_KAFKA_TOPIC_NAMES_H_
#define CDC_KAFKA_TOPIC_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include "cdc/config/config.h"

namespace cdc::kafka {

std::string TopicFor(std::string_view prefix, std::string_view schema,
                     std::string_view table);

// Every topic `config` makes pgcdc write to, each once: its tables' (as the
// configuration names them), the logical messages' when messages are
// published, and the dead-letter topic when set.
std::vector<std::string> TopicsOf(const config::Config& config);

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_TOPIC_NAMES_H_
