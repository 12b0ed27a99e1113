#include "cdc/metrics/health.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace cdc::metrics {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kStarting:
      return "starting";
    case Phase::kSnapshotting:
      return "snapshotting";
    case Phase::kStreaming:
      return "streaming";
    case Phase::kWaitingForSlot:
      return "waiting for the replication slot";
    case Phase::kReconnecting:
      return "reconnecting to PostgreSQL";
    case Phase::kStopping:
      return "stopping";
  }
  return "unknown";
}

void Health::SetPhase(Phase phase, std::string detail) {
  absl::MutexLock lock(&mu_);
  phase_ = phase;
  detail_ = std::move(detail);
}

void Health::SetKafkaReachable(bool reachable) {
  absl::MutexLock lock(&mu_);
  kafka_reachable_ = reachable;
}

Phase Health::phase() const {
  absl::MutexLock lock(&mu_);
  return phase_;
}

Readiness Health::Ready() const {
  absl::MutexLock lock(&mu_);
  const bool working =
      phase_ == Phase::kStreaming || phase_ == Phase::kSnapshotting;
  Readiness r;
  r.ready = working && kafka_reachable_;
  std::string why = PhaseName(phase_);
  if (!detail_.empty()) absl::StrAppend(&why, " (", detail_, ")");
  if (working && !kafka_reachable_) {
    why = absl::StrCat("Kafka unreachable while ", why);
  }
  r.text = absl::StrCat(r.ready ? "ready: " : "not ready: ", why);
  return r;
}

}  // namespace cdc::metrics
