// Health: what pgcdc answers at GET /healthz and GET /readyz.
//
// /healthz answers 200 for as long as the process serves HTTP at all: it is
// the liveness probe, and says nothing about the database or the broker (a
// restart would not bring either back).
//
// /readyz answers 200 only while pgcdc is connected to both sides and doing
// its work: streaming from the slot or reading a snapshot, with Kafka
// reachable. Otherwise 503, with one line saying why: starting, waiting for
// the slot another pgcdc holds (a standby), reconnecting to PostgreSQL,
// Kafka unreachable, stopping.
//
// The pipeline sets the phase and the broker's reachability on its thread;
// the HTTP server's threads read them. Thread-safe.
#ifndef CDC_METRICS_HEALTH_H_
#define CDC_METRICS_HEALTH_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace cdc::metrics {

enum class Phase {
  kStarting,        // checks, connections, slot and publication set-up
  kSnapshotting,    // the initial snapshot (incremental ones stream too)
  kStreaming,       // connected to the slot
  kWaitingForSlot,  // another process holds the slot (a standby)
  kReconnecting,    // the replication connection was lost
  kStopping,        // a signal came: draining acknowledgements
};

const char* PhaseName(Phase phase);

struct Readiness {
  bool ready = false;
  // One line: "ready: streaming" or "not ready: <why>".
  std::string text;
};

class Health {
 public:
  // `detail` is said after the phase in /readyz's answer (e.g. the slot
  // waited for, the error reconnected from); it must be safe to show to
  // whoever can reach the metrics port.
  void SetPhase(Phase phase, std::string detail = "");
  void SetKafkaReachable(bool reachable);

  Phase phase() const;
  Readiness Ready() const;

 private:
  mutable absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kStarting;
  std::string detail_ ABSL_GUARDED_BY(mu_);
  bool kafka_reachable_ ABSL_GUARDED_BY(mu_) = true;
};

}  // namespace cdc::metrics

#endif  // CDC_METRICS_HEALTH_H_
