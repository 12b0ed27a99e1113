#include "cdc/kafka/broker_faults.h"

#include <librdkafka/rdkafka.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cdc/common/absl_compat.h"

namespace cdc::kafka {
namespace {

constexpr char kExpected[] =
    "expected \"down [BROKER]\", \"up [BROKER]\", \"rtt MS [BROKER]\" or "
    "\"errors COUNT API ERROR\"";

absl::Status Bad(std::string_view line, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad fault command \"", AsAbsl(line), "\": ", AsAbsl(why)));
}

bool ParseInt(std::string_view text, int min, int max, int* out) {
  int value = 0;
  if (!absl::SimpleAtoi(AsAbsl(text), &value) || value < min || value > max) {
    return false;
  }
  *out = value;
  return true;
}

// Kafka ApiKeys by the names a person would use.
bool ParseApi(std::string_view text, int16_t* out) {
  const std::string name = absl::AsciiStrToLower(AsAbsl(text));
  if (name == "produce")
    *out = 0;
  else if (name == "fetch")
    *out = 1;
  else if (name == "metadata")
    *out = 3;
  else {
    int key = 0;
    if (!ParseInt(text, 0, 100, &key)) return false;
    *out = static_cast<int16_t>(key);
  }
  return true;
}

// A Kafka error by librdkafka's name for it (NOT_LEADER_FOR_PARTITION, or
// with the RD_KAFKA_RESP_ERR_ prefix); only broker errors (code > 0).
bool ParseError(std::string_view text, int* code, std::string* name) {
  std::string wanted = absl::AsciiStrToUpper(AsAbsl(text));
  constexpr std::string_view kPrefix = "RD_KAFKA_RESP_ERR_";
  if (std::string_view(wanted).substr(0, kPrefix.size()) == kPrefix) {
    wanted = wanted.substr(kPrefix.size());
  }
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && descs[i].code > 0 &&
        wanted == descs[i].name) {
      *code = descs[i].code;
      *name = descs[i].name;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string BrokerFault::Describe() const {
  const std::string who =
      broker == 0 ? "every broker" : absl::StrCat("broker ", broker);
  switch (kind) {
    case Kind::kDown:
      return absl::StrCat(who, " down");
    case Kind::kUp:
      return absl::StrCat(who, " up");
    case Kind::kRtt:
      return absl::StrCat(who, ": round-trip time ", rtt_ms, " ms");
    case Kind::kErrors:
      return absl::StrCat("the next ", count, " request(s) of ApiKey ", api_key,
                          " fail with ", error_name);
  }
  return "";
}

absl::StatusOr<BrokerFault> ParseBrokerFault(std::string_view line) {
  std::vector<std::string> words = absl::StrSplit(
      AsAbsl(line), absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
  if (words.empty()) return Bad(line, kExpected);
  BrokerFault fault;
  const std::string verb = absl::AsciiStrToLower(AsAbsl(words[0]));
  auto broker_at = [&](size_t i) {
    return words.size() <= i || ParseInt(words[i], 1, 64, &fault.broker);
  };
  if (verb == "down" || verb == "up") {
    fault.kind =
        verb == "down" ? BrokerFault::Kind::kDown : BrokerFault::Kind::kUp;
    if (words.size() > 2 || !broker_at(1)) {
      return Bad(line, "expected an optional broker id from 1 to 64");
    }
    return fault;
  }
  if (verb == "rtt") {
    fault.kind = BrokerFault::Kind::kRtt;
    if (words.size() < 2 || words.size() > 3 ||
        !ParseInt(words[1], 0, 600000, &fault.rtt_ms) || !broker_at(2)) {
      return Bad(line,
                 "expected milliseconds from 0 to 600000, then an optional "
                 "broker id from 1 to 64");
    }
    return fault;
  }
  if (verb == "errors") {
    fault.kind = BrokerFault::Kind::kErrors;
    if (words.size() != 4 || !ParseInt(words[1], 1, 1000000, &fault.count)) {
      return Bad(line, "expected \"errors COUNT API ERROR\" with COUNT from 1");
    }
    if (!ParseApi(words[2], &fault.api_key)) {
      return Bad(line,
                 "expected the API as produce, fetch, metadata or a number");
    }
    if (!ParseError(words[3], &fault.error_code, &fault.error_name)) {
      return Bad(line, absl::StrCat("unknown Kafka error \"", AsAbsl(words[3]),
                                    "\" (use librdkafka's names, e.g. "
                                    "NOT_LEADER_FOR_PARTITION)"));
    }
    return fault;
  }
  return Bad(line, kExpected);
}

}  // namespace cdc::kafka
