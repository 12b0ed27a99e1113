#include "cdc/kafka/producer_stats.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc::kafka {
namespace {

struct Frame {
  bool object;
  std::string key;  // an object's current key
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status Bad(size_t at, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("librdkafka statistics: ", AsAbsl(what), " at byte ", at));
}

// Scans a JSON string starting at json[*i] == '"'; leaves *i after the
// closing quote. `out` gets the raw text between the quotes (escapes kept
// as written: the keys pgcdc looks for have none).
absl::Status ScanString(std::string_view json, size_t* i, std::string* out) {
  const size_t start = ++*i;
  while (*i < json.size()) {
    const char c = json[*i];
    if (c == '"') {
      if (out != nullptr) out->assign(json.substr(start, *i - start));
      ++*i;
      return absl::OkStatus();
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      return Bad(*i, "control character in a string");
    }
    if (c == '\\') {
      if (++*i >= json.size()) break;
      const char e = json[*i];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k) {
          if (++*i >= json.size() ||
              !absl::ascii_isxdigit(static_cast<unsigned char>(json[*i]))) {
            return Bad(*i, "bad \\u escape");
          }
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) ==
                 std::string_view::npos) {
        return Bad(*i, "bad escape");
      }
    }
    ++*i;
  }
  return Bad(*i, "unterminated string");
}

// Scans a JSON number at json[*i]; leaves *i after it and `out` viewing it.
absl::Status ScanNumber(std::string_view json, size_t* i,
                        std::string_view* out) {
  const size_t start = *i;
  auto digits = [&]() {
    const size_t from = *i;
    while (*i < json.size() && IsDigit(json[*i])) ++*i;
    return *i > from;
  };
  if (*i < json.size() && json[*i] == '-') ++*i;
  if (*i < json.size() && json[*i] == '0') {
    ++*i;
  } else if (!digits()) {
    return Bad(*i, "bad number");
  }
  if (*i < json.size() && json[*i] == '.') {
    ++*i;
    if (!digits()) return Bad(*i, "bad number");
  }
  if (*i < json.size() && (json[*i] == 'e' || json[*i] == 'E')) {
    ++*i;
    if (*i < json.size() && (json[*i] == '+' || json[*i] == '-')) ++*i;
    if (!digits()) return Bad(*i, "bad number");
  }
  *out = json.substr(start, *i - start);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProducerStats> ParseProducerStats(std::string_view json) {
  enum class Expect {
    kValue,
    kValueOrClose,
    kKey,
    kKeyOrClose,
    kColon,
    kCommaOrClose,
    kEnd
  };
  std::vector<Frame> stack;
  Expect expect = Expect::kValue;
  ProducerStats out;
  // Over the partitions but the unassigned one (-1), whose messages are
  // counted again by the partition they move to.
  int64_t txmsgs = 0, produced = 0, queued = 0;
  size_t i = 0;
  // brokers.<name>.source and .state, per broker (a handful).
  struct BrokerState {
    std::string source;
    std::string state;
  };
  absl::flat_hash_map<std::string, BrokerState> brokers;
  auto broker_field = [&stack, &brokers]() -> std::string* {
    if (stack.size() != 3 || !stack[0].object || stack[0].key != "brokers" ||
        !stack[1].object || !stack[2].object) {
      return nullptr;
    }
    if (stack[2].key == "state") return &brokers[stack[1].key].state;
    if (stack[2].key == "source") return &brokers[stack[1].key].source;
    return nullptr;
  };
  // brokers.<name>.txretries: the value's path.
  auto at_txretries = [&stack]() {
    return stack.size() == 3 && stack[0].object && stack[0].key == "brokers" &&
           stack[1].object && stack[2].object && stack[2].key == "txretries";
  };
  // topics.<topic>.partitions.<p>.<key>: the counter `key` names, or null.
  auto partition_counter = [&]() -> int64_t* {
    if (stack.size() != 5 || stack[0].key != "topics" ||
        stack[2].key != "partitions" || stack[3].key == "-1") {
      return nullptr;
    }
    for (const Frame& f : stack) {
      if (!f.object) return nullptr;
    }
    const std::string& key = stack[4].key;
    if (key == "txmsgs") return &txmsgs;
    if (key == "msgs") return &produced;
    if (key == "msgq_cnt" || key == "xmit_msgq_cnt") return &queued;
    return nullptr;
  };
  while (true) {
    while (i < json.size() && IsSpace(json[i])) ++i;
    if (i >= json.size()) {
      if (expect == Expect::kEnd) {
        // Sent more often than sent at all: txmsgs minus the messages that
        // left the queues.
        int64_t left_queues = 0, again = 0;
        if (__builtin_sub_overflow(produced, queued, &left_queues) ||
            __builtin_sub_overflow(txmsgs, left_queues, &again)) {
          return Bad(i, "partition counters out of range");
        }
        out.message_retransmissions =
            again > 0 ? static_cast<uint64_t>(again) : 0;
        for (const auto& [name, b] : brokers) {
          if (b.state == "UP" && b.source != "internal") ++out.brokers_up;
        }
        return out;
      }
      return Bad(i, "unexpected end");
    }
    const char c = json[i];
    bool value_done = false;
    switch (expect) {
      case Expect::kEnd:
        return Bad(i, "text after the document");
      case Expect::kColon:
        if (c != ':') return Bad(i, "expected ':'");
        ++i;
        expect = Expect::kValue;
        break;
      case Expect::kKey:
      case Expect::kKeyOrClose:
        if (c == '}' && expect == Expect::kKeyOrClose) {
          ++i;
          stack.pop_back();
          value_done = true;
          break;
        }
        if (c != '"') return Bad(i, "expected a key");
        if (absl::Status s = ScanString(json, &i, &stack.back().key); !s.ok()) {
          return s;
        }
        expect = Expect::kColon;
        break;
      case Expect::kCommaOrClose:
        if (c == ',') {
          ++i;
          expect = stack.back().object ? Expect::kKey : Expect::kValue;
        } else if (c == (stack.back().object ? '}' : ']')) {
          ++i;
          stack.pop_back();
          value_done = true;
        } else {
          return Bad(i, "expected ',' or the end of a container");
        }
        break;
      case Expect::kValue:
      case Expect::kValueOrClose:
        if (c == ']' && expect == Expect::kValueOrClose) {
          ++i;
          stack.pop_back();
          value_done = true;
        } else if (c == '{' || c == '[') {
          if (stack.empty() && c != '{') return Bad(i, "not an object");
          if (stack.size() >= static_cast<size_t>(kMaxDepth)) {
            return Bad(i, "nested too deep");
          }
          ++i;
          stack.push_back({c == '{', ""});
          expect = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
        } else if (stack.empty()) {
          return Bad(i, "not an object");
        } else if (c == '"') {
          if (absl::Status s = ScanString(json, &i, broker_field()); !s.ok()) {
            return s;
          }
          value_done = true;
        } else if (c == '-' || IsDigit(c)) {
          std::string_view number;
          if (absl::Status s = ScanNumber(json, &i, &number); !s.ok()) {
            return s;
          }
          if (at_txretries()) {
            uint64_t n = 0;
            if (!absl::SimpleAtoi(AsAbsl(number), &n) || number[0] == '-' ||
                __builtin_add_overflow(out.request_retries, n,
                                       &out.request_retries)) {
              return Bad(i, "txretries is not a count");
            }
          } else if (int64_t* counter = partition_counter()) {
            int64_t n = 0;
            if (!absl::SimpleAtoi(AsAbsl(number), &n) || n < 0 ||
                __builtin_add_overflow(*counter, n, counter)) {
              return Bad(i, "a partition counter is not a count");
            }
          }
          value_done = true;
        } else {
          bool matched = false;
          for (std::string_view word : {"true", "false", "null"}) {
            if (json.substr(i, word.size()) == word) {
              i += word.size();
              matched = true;
              break;
            }
          }
          if (!matched) return Bad(i, "unexpected character");
          value_done = true;
        }
        break;
    }
    if (value_done) {
      expect = stack.empty() ? Expect::kEnd : Expect::kCommaOrClose;
    }
  }
}

}  // namespace cdc::kafka
