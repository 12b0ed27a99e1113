// Metrics: pgcdc's Prometheus metrics, all prefixed pgcdc_, and its health,
// served on the configured address (and nowhere when none is set) by an
// HttpEndpoint: GET /metrics, /healthz and /readyz.
//
// Owns the registry, the health and the endpoint. The pipeline updates
// values on its own thread; prometheus-cpp's metrics and Health are
// thread-safe, so requests on the endpoint's threads need no coordination.
// Per-(table, op) counters are resolved once and cached so the hot path does
// no label lookups.
#ifndef CDC_METRICS_METRICS_H_
#define CDC_METRICS_METRICS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "cdc/metrics/health.h"
#include "cdc/metrics/http_endpoint.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace cdc::metrics {

// The label values of pgcdc_slot_wal_status, PostgreSQL's wal_status values.
inline constexpr std::string_view kSlotWalStatuses[] = {"reserved", "extended",
                                                        "unreserved", "lost"};

class Metrics {
 public:
  // `listen` is "host:port"; empty serves nothing (metrics still count, and
  // Render() shows them). A busy or bad address is kInvalidArgument.
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(
      const std::string& listen);
  ~Metrics();

  // One event published for `table` ("schema.table") with op `op`
  // (cdc.v1.Op number, e.g. "create").
  void CountEvent(const std::string& table, int op);
  // The same for `schema`.`table` ("" for both: a logical message), without
  // allocating once the table was seen.
  void CountEvent(std::string_view schema, std::string_view table, int op);
  void CountTransaction();
  void CountDeliveryError();
  // An incremental snapshot signal, or one of its tables, refused.
  void CountSnapshotSignalRejected();
  void SetReceivedLsn(uint64_t lsn);
  void SetConfirmedLsn(uint64_t lsn);
  void SetServerLsn(uint64_t lsn);  // for pgcdc_lag_bytes
  void SetInflight(size_t events, size_t bytes);
  void SetBehindSourceMs(int64_t ms);
  // A transaction from the server acknowledged in full, `seconds` after its
  // commit timestamp: pgcdc_commit_to_ack_seconds and its running maximum.
  void ObserveCommitToAck(double seconds);
  void SetConnected(bool connected);
  void CountStreamedTransaction();
  void CountReconnect();
  // Bytes held by open streamed transactions, and all bytes ever spilled.
  void SetSpool(size_t bytes, uint64_t spilled_total);

  // Snapshots: rows read (and handed to the producer) for `table`
  // ("schema.table"), whether one runs, how many tables it has left, and how
  // long it has run (or ran, once it finished).
  void CountSnapshotRows(const std::string& table, uint64_t rows);
  // An event of `table` sent to the dead-letter topic.
  void CountDeadLetter(const std::string& table);
  void SetSnapshotRunning(bool running);
  void SetSnapshotTablesRemaining(size_t tables);
  void SetSnapshotDurationSeconds(double seconds);

  // pgcdc_lag_bytes and pgcdc_behind_source_ms as last set, for logs.
  uint64_t lag_bytes() const;
  int64_t behind_source_ms() const;

  // The replication slot as the server reported it (cdc/pg/slot_state.h):
  // the WAL it retains and its safe_wal_size in bytes (-1: NULL), and its
  // wal_status ("reserved", ...; "" or any other text sets every
  // pgcdc_slot_wal_status series to 0). Thread-safe against the pipeline's
  // updates: it touches only these gauges.
  void SetSlotWal(int64_t retained_wal_bytes, int64_t safe_wal_size_bytes,
                  std::string_view wal_status);
  // Retries librdkafka made since the last call (an increment of its
  // cumulative statistics: cdc/kafka/producer_stats.h).
  void CountProducerRetries(uint64_t retries);

  // Text exposition format of everything registered (for tests and logs).
  std::string Render() const;
  // The port actually bound (useful with port 0); 0 when not serving.
  int port() const;

  // What /readyz answers; the pipeline keeps it up to date.
  Health& health() { return health_; }

 private:
  using EventCounterArray = std::array<prometheus::Counter*, 8>;  // by op

  Metrics();
  void UpdateLag();
  // The counters of `table` ("schema.table"), made empty on first use.
  EventCounterArray& EventCounters(const std::string& table);
  // Counts one event of `op` in `counters` (`table`'s), registering its
  // series on first use.
  void Increment(EventCounterArray& counters, const std::string& table, int op);

  std::shared_ptr<prometheus::Registry> registry_;
  Health health_;
  prometheus::Family<prometheus::Counter>* events_family_ = nullptr;
  // Node-based: last_events_ points into it across inserts.
  absl::node_hash_map<std::string, EventCounterArray> events_;
  // CountEvent(schema, table, op)'s last table: its "schema.table", its
  // parts and its counters (null before the first).
  std::string event_table_;
  std::string last_schema_;
  std::string last_table_;
  EventCounterArray* last_events_ = nullptr;
  prometheus::Counter* transactions_ = nullptr;
  prometheus::Counter* delivery_errors_ = nullptr;
  prometheus::Counter* snapshot_signals_rejected_ = nullptr;
  prometheus::Gauge* received_lsn_ = nullptr;
  prometheus::Gauge* confirmed_lsn_ = nullptr;
  prometheus::Gauge* server_lsn_ = nullptr;
  prometheus::Gauge* lag_bytes_ = nullptr;
  prometheus::Gauge* inflight_events_ = nullptr;
  prometheus::Gauge* inflight_bytes_ = nullptr;
  prometheus::Gauge* behind_source_ms_ = nullptr;
  prometheus::Histogram* commit_to_ack_ = nullptr;
  prometheus::Gauge* commit_to_ack_max_ = nullptr;
  double commit_to_ack_max_value_ = 0;
  prometheus::Gauge* connected_ = nullptr;
  prometheus::Counter* streamed_transactions_ = nullptr;
  prometheus::Counter* reconnects_ = nullptr;
  prometheus::Gauge* spool_bytes_ = nullptr;
  prometheus::Counter* spilled_bytes_ = nullptr;
  uint64_t spilled_bytes_value_ = 0;
  prometheus::Family<prometheus::Counter>* snapshot_rows_family_ = nullptr;
  absl::flat_hash_map<std::string, prometheus::Counter*> snapshot_rows_;
  prometheus::Family<prometheus::Counter>* dead_letters_family_ = nullptr;
  absl::flat_hash_map<std::string, prometheus::Counter*> dead_letters_;
  prometheus::Gauge* snapshot_running_ = nullptr;
  prometheus::Gauge* snapshot_tables_remaining_ = nullptr;
  prometheus::Gauge* snapshot_duration_seconds_ = nullptr;
  prometheus::Gauge* slot_retained_wal_bytes_ = nullptr;
  prometheus::Gauge* slot_safe_wal_size_bytes_ = nullptr;
  std::array<prometheus::Gauge*, 4> slot_wal_status_{};  // kSlotWalStatuses
  prometheus::Counter* producer_retries_ = nullptr;
  uint64_t server_lsn_value_ = 0;
  uint64_t confirmed_lsn_value_ = 0;
  // Last: stopped first, while what it serves is still there.
  std::unique_ptr<HttpEndpoint> http_;
};

}  // namespace cdc::metrics

#endif  // CDC_METRICS_METRICS_H_
