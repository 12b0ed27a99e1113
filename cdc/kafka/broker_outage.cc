#include "cdc/kafka/broker_outage.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/common/absl_compat.h"

namespace cdc::kafka {
namespace {

// "12 s", "3 min 5 s": for people.
std::string Span(absl::Duration d) {
  const int64_t s = absl::ToInt64Seconds(d);
  if (s < 60) return absl::StrCat(s, " s");
  if (s < 3600) return absl::StrCat(s / 60, " min ", s % 60, " s");
  return absl::StrCat(s / 3600, " h ", (s % 3600) / 60, " min");
}

// Brokers are few; a hostile or broken cluster could name many (one per
// metadata change), so the set and what is printed of it stay bounded.
constexpr size_t kMaxBrokersNamed = 16;

}  // namespace

std::string BrokerOutage::OnConnectionError(absl::Time now, bool all_down,
                                            std::string_view broker,
                                            std::string_view reason) {
  last_error_ = now;
  last_reason_.assign(reason);
  if (!broker.empty() && brokers_.size() < kMaxBrokersNamed) {
    brokers_.emplace(broker);
  }
  const bool newly_all_down = all_down && !all_down_;
  if (all_down) {
    all_down_ = true;
    ever_all_down_ = true;
  }
  ++errors_;
  ++errors_since_summary_;
  if (in_outage_) {
    // Trouble with some brokers became an outage of all: said at once.
    if (!newly_all_down) return "";
    return absl::StrCat("Kafka unreachable: all brokers are down, after ",
                        Span(now - started_), " of connection trouble");
  }
  in_outage_ = true;
  started_ = now;
  next_summary_ = now + interval_;
  errors_since_summary_ = 0;
  return absl::StrCat(
      all_down ? "Kafka unreachable: all brokers are down"
               : "Kafka connection trouble",
      ": ", AsAbsl(reason),
      "; retrying, and summarizing further connection errors every ",
      Span(interval_), " until it ends");
}

// Either sign that Kafka answers ends an outage of every broker; End
// clears all_down_.
std::string BrokerOutage::OnAcknowledged(absl::Time now) {
  return all_down_ ? End(now, "acknowledgements resumed") : "";
}

std::string BrokerOutage::OnBrokerUp(absl::Time now) {
  return all_down_ ? End(now, "a broker connection is up") : "";
}

std::string BrokerOutage::Tick(absl::Time now) {
  if (!in_outage_ || now < next_summary_) return "";
  next_summary_ = now + interval_;
  if (errors_since_summary_ == 0 && !all_down_) {
    return End(last_error_, "no connection error since");
  }
  std::string line =
      absl::StrCat(all_down_ ? "Kafka still unreachable"
                             : "Kafka connection trouble goes on",
                   " after ", Span(now - started_), ": ", errors_since_summary_,
                   " connection error(s) in the last ", Span(interval_), ", ",
                   errors_, " in all");
  if (!brokers_.empty()) {
    absl::StrAppend(&line, "; brokers: ", absl::StrJoin(brokers_, ", "));
  }
  absl::StrAppend(&line, "; last: ", last_reason_);
  errors_since_summary_ = 0;
  return line;
}

std::string BrokerOutage::End(absl::Time now, std::string_view how) {
  std::string line =
      absl::StrCat(ever_all_down_ ? "Kafka reachable again"
                                  : "Kafka connection trouble over",
                   " (", AsAbsl(how), ") after ", Span(now - started_), ", ",
                   errors_, " connection error(s) in all");
  in_outage_ = false;
  all_down_ = false;
  ever_all_down_ = false;
  errors_ = 0;
  errors_since_summary_ = 0;
  brokers_.clear();
  return line;
}

}  // namespace cdc::kafka
