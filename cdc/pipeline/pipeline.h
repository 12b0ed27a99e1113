// Pipeline: one replication slot streamed to Kafka, at least once.
//
//   PostgreSQL slot ──CopyData──▶ ParseServerFrame ──▶ DecodePgOutput
//        ▲                                                  │
//        │ confirm (standby status)              RelationCache, EnvelopeBuilder
//        │                                                  │
//   AckTracker ◀──delivery reports── Producer ◀────records──┘
//
// Everything runs on the caller's thread: frames are read, decoded, built and
// handed to librdkafka, whose delivery reports are served by Poll() on this
// same thread: the loop waits on the replication socket and on the
// producer's wake-up fd together, so reports are served as they arrive. The
// slot is confirmed only up to AckTracker::confirmed(), the
// end of the newest transaction whose events — and all earlier ones' — the
// broker acknowledged. When the unacknowledged bytes reach the window
// (kafka.max_inflight_bytes) the loop stops reading the socket and only
// serves acknowledgements, so memory stays bounded and the server, not pgcdc,
// holds the backlog.
//
// Why events are produced as soon as they are decoded, before the Commit
// message: without `streaming`, pgoutput sends a transaction only after the
// server decoded its commit record (Begin already carries the commit LSN and
// time), so every event received is of a committed transaction.
//
// Streaming (protocol 2+, source.streaming): a transaction bigger than the
// server's logical_decoding_work_mem arrives in chunks while it runs; they
// wait in the StreamReplay until its Stream Commit, when the transaction is
// registered with the AckTracker — commit order is the order the server sends
// commits in, streamed or not — and replayed through the same
// decode-and-publish path, within the in-flight window. A keepalive's position
// may still be confirmed while streamed transactions are open, as
// PostgreSQL's own apply worker does: the slot's restart_lsn stays behind
// their first change, and after a restart the server sends every transaction
// whose commit lies past the confirmed position again, whole.
//
// The loop is a coordinator; the parts it coordinates live in files of
// their own:
//   cdc/pipeline/replication_session.h  the replication connection: where
//       streaming starts, status updates, the receive timeout and ping;
//   cdc/pipeline/publisher.h            records to Kafka: the producer,
//       topics made before their first record, the dead-letter topic,
//       delivery reports;
//   cdc/offsets/ack_tracker.h           which position may be confirmed,
//       and the transactions in flight (what a failed delivery names, when
//       a transaction's commit-to-ack time is observed);
//   cdc/pipeline/stream_replay.h        streamed transactions: the spool,
//       the order of stream control messages, the replay;
//   cdc/snapshot/incremental_driver.h   incremental snapshots: where a
//       signal is checked and a chunk is read and published;
//   cdc/snapshot/snapshot_journal.h     what the journal of a new slot's
//       snapshot says, and when;
//   cdc/pipeline/startup_checks.h       what Prepare() decides from values;
//   cdc/snapshot/initial_snapshot.h     the slot for snapshot.mode, and the
//       initial snapshot's rows as READ events.
//
// Snapshots: before Stream(), Snapshot() publishes the rows already in the
// tables when snapshot.mode asks for it, as READ events through the same
// tracker, producer and window; how the slot is chosen and the handoff kept
// exact is in cdc/snapshot/initial_snapshot.h and snapshotter.h.
//
// Type facts: the built-in types are read from the catalog in Prepare();
// a Relation message that uses a user type (OID >= 16384) or one not yet
// known makes the pipeline read it, and what it refers to, on its SQL
// session before the Relation's changes are built, so the pure codec has
// every array element, domain base and composite attribute it needs. The
// catalog is read as it is then, not as it was when the WAL was written:
// a composite altered after a change was made but before pgcdc decodes it
// can make that change's value unreadable (kDataLoss, naming it).
//
// Owns its connections, producer and state; borrows the metrics and the stop
// flag, which must outlive it. Not thread-safe apart from the stop flag.
#ifndef CDC_PIPELINE_PIPELINE_H_
#define CDC_PIPELINE_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "cdc/config/config.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/metrics/metrics.h"
#include "cdc/offsets/ack_tracker.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/pgoutput_options.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pipeline/publisher.h"
#include "cdc/pipeline/replication_session.h"
#include "cdc/pipeline/stream_replay.h"
#include "cdc/pipeline/stream_spool.h"
#include "cdc/snapshot/incremental_driver.h"
#include "cdc/snapshot/initial_snapshot.h"
#include "cdc/snapshot/signal_auth.h"

namespace cdc::pipeline {

class Pipeline : private snapshot::InitialSnapshot::Host,
                 private snapshot::IncrementalDriver::Host,
                 private Publisher::Host {
 public:
  Pipeline(config::Config config, metrics::Metrics* metrics,
           const std::atomic<bool>* stop);
  ~Pipeline() override;

  // Startup checks and setup: server settings and rights, tables,
  // publication, slot, catalog facts, producer. Errors here are about the
  // environment (kFailedPrecondition, kNotFound, kPermissionDenied,
  // kUnauthenticated, kUnavailable) or the configuration (kInvalidArgument).
  absl::Status Prepare();

  // Streams until the stop flag is set (then drains in-flight acks within
  // kafka.shutdown_timeout_ms, confirms, and returns OK) or a fatal error
  // (returned after confirming what was acknowledged before it). A lost
  // replication connection is not fatal: pgcdc reconnects with exponential
  // backoff and jitter and resumes from what the broker acknowledged; a slot
  // held by another connection is waited for (a standby instance). A slot
  // that no longer exists is fatal (kFailedPrecondition, saying how to
  // recover).
  absl::Status Stream();

  // The snapshot snapshot.mode asks for, if Prepare() found one due (see
  // cdc/snapshot/initial_snapshot.h): reads the tables,
  // publishes their rows as READ events and returns once the broker
  // acknowledged them all. A new slot's snapshot is journaled in the WAL:
  // when it fails or is stopped, the next start resumes it while streaming.
  // OK at once when no snapshot is due; OK too when stopped by the stop
  // flag (check it before Stream()).
  absl::Status Snapshot();
  // snapshot.mode initial_only: Snapshot() is all there is to do.
  bool SnapshotOnly() const { return config_.snapshot.mode == "initial_only"; }

 private:
  using Clock = std::chrono::steady_clock;

  // --- Prepare() and its steps, in order (pipeline.cc) ---
  // CheckServer: the server's settings, the pgoutput options they allow,
  // the spool, the status interval.
  absl::Status CheckServer(pg::SqlConnection& sql);
  // The configured tables as the catalog has them, and the role's rights
  // on them (before anything is made: a right missing halfway would leave a
  // slot).
  absl::StatusOr<std::vector<pg::TableInfo>> CheckTables(
      pg::SqlConnection& sql);
  // The publication made or brought in line with source.tables.
  absl::Status PreparePublication(pg::SqlConnection& sql,
                                  const std::vector<pg::TableInfo>& tables);
  absl::Status LoadBuiltinTypes(pg::SqlConnection& sql);
  // Creates the spool and checks its directory when streaming is on.
  absl::Status PrepareSpool();

  // --- The streaming loop (pipeline.cc) ---
  // One replication connection: connects, starts streaming from the
  // acknowledged position and runs the loop. Returns OK on stop, the fatal
  // error, kUnavailable when the connection is lost, kAborted when another
  // connection holds the slot.
  absl::Status StreamSession();
  // Connects and starts streaming from the acknowledged position, not
  // below the slot's: kAborted when another connection holds the slot,
  // kFailedPrecondition when it is gone.
  absl::Status StartSession();
  // Whether `s` is the stop flag cutting work short rather than a failure.
  bool IsStop(const absl::Status& s) const;
  // After a lost connection: drops what the server will send again (a
  // transaction in progress, streamed chunks) and the connection.
  void EndSession();
  // Writes a heartbeat message (source.heartbeat_interval_ms) on the SQL
  // session, reconnecting it once if it was lost; failures are logged.
  void Heartbeat();
  absl::Status HandleFrame(std::string_view frame);
  // Decodes one pgoutput message and handles it, naming `lsn` in errors.
  absl::Status DecodeAndHandle(std::string_view payload, Lsn lsn,
                               bool in_stream);
  absl::Status HandleMessage(const pg::PgOutputMessage& message, Lsn lsn);
  // Stream Start/Stop/Commit/Abort (see StreamReplay); a Stream Commit
  // opens its transaction and starts its replay.
  absl::Status HandleStreamControl(const pg::PgOutputMessage& message);
  // Publishes up to `max_messages` of the streamed transaction being
  // replayed, stopping early when the in-flight window is full; closes the
  // transaction after its last message.
  absl::Status ReplayStep(size_t max_messages);
  // The tracker's confirmed position to the server (ReplicationSession).
  absl::Status SendStatus(bool force);
  void LogProgress(bool force);

  // --- Catalog and SQL session (pipeline.cc) ---
  // Reads from the catalog the user types (and any type not yet known) that
  // a Relation's columns use, and for debezium-json its columns' NOT NULL
  // flags and defaults, before any change to it is built.
  absl::Status ResolveTypes(const pg::RelationMessage& relation) override;
  // An envelope builder over `relations` with the configured options.
  std::unique_ptr<envelope::EnvelopeBuilder> MakeBuilder(
      const pg::RelationCache* relations,
      const std::vector<pg::TableInfo>& tables) const;
  std::unique_ptr<envelope::EnvelopeBuilder> NewBuilder(
      const pg::RelationCache* relations) const override;
  // Runs `work` on the SQL session; when it finds the session gone (or there
  // is none), connects again once and runs it once more.
  absl::Status WithSqlSession(
      const std::function<absl::Status(pg::SqlConnection&)>& work);
  // On the SQL session (WithSqlSession).
  absl::Status WriteSignal(const v1::SnapshotSignal& signal) override;

  // --- Transactions, publishing and acknowledgements (pipeline.cc) ---
  // Registers a transaction with the tracker; its events follow, then
  // CloseTransaction with the position that confirms it.
  absl::Status OpenTransaction(const envelope::TxnContext& txn) override;
  absl::Status CloseTransaction(Lsn end_lsn);
  // Commits the open transaction to the tracker at `end_lsn` (for every
  // kind: server, snapshot, abandoned), which keeps what naming and timing
  // it takes until its events are all acknowledged. `abandoned`: its
  // connection was lost, so the server sends it again whole.
  absl::Status CommitOpenTransaction(Lsn end_lsn, bool abandoned = false);
  absl::Status Publish(const pg::PgOutputMessage& change, Lsn lsn);
  // Publishes what the output format writes at the start (`begin`) or end
  // of the open transaction, a server's (Encoder::BeginTransaction): with
  // Debezium's transaction metadata, its BEGIN or END record. `lsn` is the
  // Begin's or Commit's XLogData position.
  absl::Status PublishBoundary(bool begin, Lsn lsn);
  // The pending Begin boundary (begin_), before the transaction's first
  // record.
  absl::Status PublishBegin();
  // At the open transaction's end (`lsn`: its Commit's position): its End
  // boundary, after its Begin if that is still pending (see begin_).
  absl::Status PublishEnd(Lsn lsn);
  // Publishes one record under the open transaction (Publisher).
  absl::Status ProduceRecord(const envelope::Record& record) override {
    return publisher_.ProduceRecord(record);
  }
  // Serves delivery reports, then what follows from them (Publisher).
  void ServeAcks(int timeout_ms) override { publisher_.ServeAcks(timeout_ms); }
  // What follows from acknowledgements: the confirmed position's metrics.
  void AfterAcks() override;
  void DrainAcks(int timeout_ms);
  void Fail(const absl::Status& status) override { fatal_ = status; }

  // --- What the initial snapshot asks of the pipeline (InitialSnapshot) ---
  absl::Status AddRelation(const pg::RelationMessage& relation) override;
  absl::Status BuildRead(pg::Oid relation_oid, const pg::TupleData& row,
                         const envelope::TxnContext& snapshot, uint32_t ordinal,
                         envelope::SnapshotMark mark, int64_t now_us,
                         envelope::Record* record) override;
  bool in_transaction() const override { return in_txn_; }
  offsets::TxnId open_transaction() const override { return txn_id_; }
  absl::Status CommitSnapshotTransaction(Lsn end_lsn) override;
  absl::Status fatal() const override { return fatal_; }

  // Borrowed and configured.
  config::Config config_;
  metrics::Metrics* metrics_;
  const std::atomic<bool>* stop_;

  // What Prepare() found.
  std::string database_;
  // The server's server_version (e.g. "18.6"), for the streaming line.
  std::string server_version_;
  std::vector<pg::TableInfo> tables_;
  pg::PgOutputOptions pgoutput_;
  snapshot::SignalKeys signal_keys_;
  Lsn start_lsn_ = kInvalidLsn;  // the slot's position at start

  // Connections and the parts the loop coordinates.
  // Kept open from Prepare() for the catalog reads of ResolveTypes.
  std::unique_ptr<pg::SqlConnection> sql_;
  ReplicationSession session_;
  // The producer and the topics: records out, delivery reports in.
  Publisher publisher_;
  pg::RelationCache relations_;
  std::unique_ptr<envelope::EnvelopeBuilder> builder_;
  offsets::AckTracker tracker_;
  std::unique_ptr<StreamReplay> streamed_;  // from Prepare()
  // Incremental snapshots: signals, chunks, their rows.
  std::unique_ptr<snapshot::IncrementalDriver> incremental_;

  // The open transaction.
  bool in_txn_ = false;
  offsets::TxnId txn_id_ = 0;
  envelope::TxnContext txn_;
  uint32_t seq_ = 0;
  // The last transaction end the stream passed, and its commit time: what
  // the next transaction's events name as the one before (0: none since
  // this run began streaming).
  Lsn last_commit_lsn_ = 0;
  int64_t last_commit_ts_us_ = 0;
  std::vector<envelope::Record> records_;  // reused by Publish
  // Reused by PublishBoundary: apart from records_, which it would empty
  // (and free) at every transaction when the format writes no boundaries.
  std::vector<envelope::Record> boundary_records_;
  // The open transaction's Begin boundary, published before its first
  // record rather than at its Begin message, so that a transaction of
  // pgcdc's own messages alone (signals, heartbeats) publishes none. A
  // streamed transaction, whose Begin pgcdc never sees, begins at its first
  // change's position (the server's Begin would say its first WAL record,
  // txn->first_lsn, which the stream does not carry), or at its end when
  // it has none.
  struct PendingBegin {
    bool pending = false;
    Lsn lsn = 0;                // the Begin's XLogData position; 0: not known
    bool own_messages = false;  // it holds a message of pgcdc's own
  };
  PendingBegin begin_;
  // While a replay step runs: its one reading of the clock, the ts_ms of
  // the events it builds; -1 otherwise (each change reads the clock).
  int64_t step_now_us_ = -1;

  // The loop's own state.
  absl::Status fatal_;
  // tracker_.confirmed_through() when pgcdc_behind_source_ms was last set.
  offsets::TxnId behind_source_txn_ = 0;
  bool session_started_ = false;
  Clock::time_point next_progress_log_;
  // Where the last progress line left the counts, for its rates.
  struct ProgressMark {
    Clock::time_point at;
    uint64_t produced = 0;
    uint64_t acked = 0;
  };
  ProgressMark progress_since_;
  Clock::time_point next_heartbeat_;
  absl::BitGen bitgen_;

  // The slot for snapshot.mode and the snapshot that goes with it.
  std::unique_ptr<snapshot::InitialSnapshot> initial_;
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_PIPELINE_H_
