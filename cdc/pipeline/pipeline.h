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
// server's logical_decoding_work_mem arrives in chunks while it runs, between
// Stream Start and Stream Stop, interleaved with other transactions. Its
// messages go to the StreamSpool untouched; Stream Abort drops them (or a
// rolled-back subtransaction's part); at Stream Commit the transaction is
// registered with the AckTracker — commit order is the order the server sends
// commits in, streamed or not — and replayed from the spool through the same
// decode-and-publish path, within the in-flight window. A keepalive's position
// may still be confirmed while streamed transactions are open, as
// PostgreSQL's own apply worker does: the slot's restart_lsn stays behind
// their first change, and after a restart the server sends every transaction
// whose commit lies past the confirmed position again, whole.
// Snapshots: before Stream(), Snapshot() publishes the rows already in the
// tables when snapshot.mode asks for it, as READ events through the same
// tracker, producer and window; how the slot is chosen and the handoff kept
// exact is in pipeline_snapshot.cc and cdc/snapshot/snapshotter.h.
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
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "cdc/config/config.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/kafka/producer.h"
#include "cdc/kafka/topic_admin.h"
#include "cdc/metrics/metrics.h"
#include "cdc/offsets/ack_tracker.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/pgoutput_options.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pipeline/stream_spool.h"
#include "cdc/snapshot/chunk_reader.h"
#include "cdc/snapshot/incremental.h"
#include "cdc/snapshot/signal_auth.h"
#include "cdc/snapshot/snapshotter.h"

namespace cdc::pipeline {

class Pipeline : private snapshot::RowSink {
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
  // cdc/snapshot/snapshotter.h and pipeline_snapshot.cc): reads the tables,
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
  // Wall-clock time for events' timestamps (Unix epoch microseconds).
  static int64_t NowUnixMicros();
  // A closed transaction some of whose events the broker has yet to
  // acknowledge: what a delivery error names and what its commit-to-ack
  // time is measured from. (The open transaction's are in txn_.) Forgotten
  // once its events are all acknowledged — the tracker keeps what
  // confirming it takes — so these are bounded by the events in flight,
  // however long one of them stays unacknowledged.
  struct UnackedTxn {
    Lsn commit_lsn = 0;
    int64_t commit_ts_us = 0;
    // A transaction the server committed (not a snapshot's, a
    // non-transactional message's, or one abandoned with its connection,
    // which is measured when it comes again), so its commit-to-ack time
    // means something.
    bool measured = false;
  };

  // One replication connection: connects, starts streaming from the
  // acknowledged position and runs the loop. Returns OK on stop, the fatal
  // error, kUnavailable when the connection is lost, kAborted when another
  // connection holds the slot.
  absl::Status StreamSession();
  // Whether `s` is the stop flag cutting work short rather than a failure.
  bool IsStop(const absl::Status& s) const;
  // After a lost connection: drops what the server will send again (a
  // transaction in progress, streamed chunks) and the connection.
  void EndSession();
  // kUnavailable when the server has been silent past `timeout`; pings it
  // (a status update asking for a reply) at half of it.
  absl::Status CheckReceiveTimeout(std::chrono::milliseconds timeout);
  // Writes a heartbeat message (source.heartbeat_interval_ms) on the SQL
  // session, reconnecting it once if it was lost; failures are logged.
  void Heartbeat();
  absl::Status HandleFrame(std::string_view frame);
  // Decodes one pgoutput message and handles it, naming `lsn` in errors.
  absl::Status DecodeAndHandle(std::string_view payload, Lsn lsn,
                               bool in_stream);
  // Creates the spool and checks its directory when streaming is on.
  absl::Status PrepareSpool();
  // Stream Start/Stop/Commit/Abort, and data messages inside a stream.
  absl::Status HandleStreamControl(const pg::PgOutputMessage& message);
  // Publishes up to `max_messages` of the streamed transaction being
  // replayed, stopping early when the in-flight window is full; closes the
  // transaction after its last message.
  absl::Status ReplayStep(size_t max_messages);
  // Reads from the catalog the user types (and any type not yet known) that
  // a Relation's columns use, before any change to it is built.
  absl::Status ResolveTypes(const pg::RelationMessage& relation);
  // An envelope builder over `relations` with the configured options.
  std::unique_ptr<envelope::EnvelopeBuilder> MakeBuilder(
      const pg::RelationCache* relations,
      const std::vector<pg::TableInfo>& tables) const;
  // Runs `work` on the SQL session; when it finds the session gone (or there
  // is none), connects again once and runs it once more.
  absl::Status WithSqlSession(
      const std::function<absl::Status(pg::SqlConnection&)>& work);
  absl::Status HandleMessage(const pg::PgOutputMessage& message, Lsn lsn);
  // Registers a transaction with the tracker; its events follow, then
  // CloseTransaction with the position that confirms it.
  absl::Status OpenTransaction(const envelope::TxnContext& txn);
  absl::Status CloseTransaction(Lsn end_lsn);
  // Commits the open transaction to the tracker at `end_lsn` (for every
  // kind: server, snapshot, abandoned) and remembers it until its events
  // are all acknowledged. `abandoned`: its connection was lost, so the
  // server sends it again whole.
  absl::Status CommitOpenTransaction(Lsn end_lsn, bool abandoned = false);
  // The closed transaction `txn` has every event acknowledged: its
  // commit-to-ack time is observed and it is forgotten.
  void TransactionAcked(offsets::TxnId txn);
  absl::Status Publish(const pg::PgOutputMessage& change, Lsn lsn);
  void OnDelivery(const kafka::DeliveryReport& report);
  // Serves delivery reports (Producer::Poll), then what follows from them.
  void ServeAcks(int timeout_ms);
  void AfterAcks();
  absl::Status SendStatus(bool force, bool reply_requested = false);
  void DrainAcks(int timeout_ms);
  void LogProgress(bool force);

  // Snapshot side (pipeline_snapshot.cc). PrepareSlot finds or creates the
  // slot and decides whether a snapshot is due: when it is, `exporter_` is
  // the replication connection whose exported snapshot Snapshot() imports.
  absl::Status PrepareSlot(pg::SqlConnection& sql);
  absl::Status CreateExportingSlot(const std::string& slot, bool temporary);
  // Publishes one record through the producer under the open transaction;
  // one larger than the producer's message.max.bytes goes to the
  // dead-letter topic when there is one, or stops pgcdc with a message
  // naming it.
  absl::Status ProduceRecord(const envelope::Record& record);
  // Makes `topics` exist (kafka.topics, cdc/kafka/topic_admin.h) and logs
  // what it found or made. While the cluster does not answer it tries again,
  // serving acknowledgements in between, until the stop flag is set; at
  // start, with kafka.startup_timeout_ms, it gives up after that long.
  absl::Status EnsureTopics(const std::vector<std::string>& topics,
                            bool at_start);
  absl::Status ProduceOne(const std::string& topic,
                          const std::optional<std::string>& key,
                          const std::string& value);
  absl::Status DeadLetter(const envelope::Record& record,
                          const absl::Status& refused);
  absl::Status BeginTable(const pg::RelationMessage& relation) override;
  absl::Status Row(const pg::RelationMessage& relation,
                   const pg::TupleData& row, uint64_t ordinal) override;
  absl::Status EndTable(const pg::RelationMessage& relation,
                        uint64_t rows) override;
  absl::Status CloseSnapshotTable();
  std::vector<pg::TableInfo> tables_;
  std::unique_ptr<pg::ReplicationStream> exporter_;
  // Copies the temporary slot `from` to the configured slot (same
  // consistent point).
  absl::Status PromoteSnapshotSlot(pg::SqlConnection& sql,
                                   const std::string& from);
  pg::ReplicationStream::CreatedSlot exported_;
  bool snapshot_due_ = false;

  // The journal of a new slot's snapshot (pipeline_snapshot.cc): the
  // request written before the slot is made, then, as the broker
  // acknowledges them, segments of rows read in key order.
  struct Segment {
    offsets::TxnId txn = 0;
    std::string table;
    std::vector<std::string> last_key;  // empty: the table is done
    uint64_t rows = 0;                  // of the table, so far
  };
  absl::Status WriteInitialRequest(pg::SqlConnection& sql);
  // Ends the tracker transaction of the rows read since the last segment
  // (`row` the last of them, nullptr at the table's end) and, unless the
  // table is done, opens the next.
  absl::Status CloseSegment(const pg::TupleData* row, uint64_t rows);
  // Writes progress for the acknowledged segments: every few seconds, at a
  // table's end, at once with `now`; with `final`, that the snapshot is
  // done.
  void UpdateJournal(bool final, bool now = false);
  std::string journal_id_;  // empty: this snapshot keeps no journal
  std::deque<Segment> segments_;
  v1::SnapshotState journal_;  // as far as acknowledged
  bool journal_changed_ = false;
  std::vector<size_t> key_positions_;
  std::chrono::steady_clock::time_point next_segment_;
  std::chrono::steady_clock::time_point next_journal_;
  envelope::TxnContext snapshot_txn_;
  envelope::Record snapshot_record_;
  std::string snapshot_table_;  // "schema.table" being read, for metrics

  // Incremental snapshots (pipeline_incremental.cc; the protocol is in
  // cdc/snapshot/incremental.h). A new machine, with a new nonce, for every
  // replication session: a reconnect replays the journal like a restart.
  void NewIncremental();
  // Tables about to be added to the publication: when the slot exists
  // (and snapshot.mode is not never), writes a snapshot request for them.
  absl::Status RequestSnapshotOfAdded(pg::SqlConnection& sql,
                                      const std::vector<std::string>& added);
  // A pgcdc.snapshot message from the stream.
  absl::Status HandleSignal(const pg::LogicalMessage& message);
  // A message with the signal prefix that is no signal of pgcdc's: counted,
  // and logged at most once a minute.
  void RejectSignal(const pg::LogicalMessage& message, std::string_view why);
  // The effects that need no transaction: log notes, start a read, write.
  void ApplyEffects(snapshot::IncrementalSnapshot::Effects effects);
  // Hands a chunk to the chunk reader (or gives the table up).
  void StartChunkRead(const snapshot::IncrementalSnapshot::Chunk& chunk);
  // The read chunk to the machine; a failed read tried again or given up.
  void ChunkDone(snapshot::ChunkReader::Result result);
  // Publishes the closed chunk's rows in the open transaction.
  absl::Status PublishChunk(Lsn close_lsn, uint64_t chunk);
  // A streamed change inside an open chunk's window supersedes its copy.
  void WatchChange(const pg::PgOutputMessage& change);
  // From the loop: chunk acknowledgements, retries, progress.
  void IncrementalTick();
  // Every 10 s (and at once for the first chunk): the table being read,
  // rows against the catalog's estimate, this run's rate, time left.
  void LogIncrementalProgress();
  const pg::TableInfo* FindTable(std::string_view qualified) const;
  std::unique_ptr<snapshot::IncrementalSnapshot> incremental_;
  snapshot::SignalKeys signal_keys_;
  std::unique_ptr<snapshot::ChunkReader> chunk_reader_;
  std::optional<snapshot::IncrementalSnapshot::Chunk> reading_;
  // The ids of the last kRecentXids transactions the stream delivered: a
  // chunk's snapshot must see them all (ChunkReader::Start).
  static constexpr size_t kRecentXids = 65536;
  std::deque<uint32_t> recent_xids_;
  int chunk_failures_ = 0;  // reads failed in a row
  int chunk_timeouts_ = 0;  // reads past snapshot.chunk_timeout_ms in a row
  uint64_t rejects_unlogged_ = 0;
  std::chrono::steady_clock::time_point next_reject_log_;
  std::unique_ptr<pg::RelationCache> chunk_relations_;
  std::unique_ptr<envelope::EnvelopeBuilder> chunk_builder_;
  pg::RelationMessage chunk_relation_;
  std::vector<std::pair<offsets::TxnId, uint64_t>> chunk_txns_;
  std::chrono::steady_clock::time_point next_incremental_tick_;
  std::chrono::steady_clock::time_point next_incremental_log_;
  // For the progress line: the task, since when and from how many rows this
  // run has read it, and the catalog's estimate of its table.
  std::string progress_task_;
  std::chrono::steady_clock::time_point progress_since_;
  uint64_t progress_rows0_ = 0;
  int64_t chunk_estimate_ = -1;

  config::Config config_;
  metrics::Metrics* metrics_;
  const std::atomic<bool>* stop_;

  std::string database_;
  // Kept open from Prepare() for the catalog reads of ResolveTypes.
  std::unique_ptr<pg::SqlConnection> sql_;
  std::unique_ptr<pg::ReplicationStream> stream_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::TopicAdmin> topics_;  // on producer_'s client
  pg::RelationCache relations_;
  std::unique_ptr<envelope::EnvelopeBuilder> builder_;
  std::vector<envelope::Record> records_;  // reused by Publish
  bool acks_pending_ = false;  // reports served since the last AfterAcks
  offsets::AckTracker tracker_;
  Lsn start_lsn_ = kInvalidLsn;
  // source.status_interval_ms, capped to a quarter of the server's
  // wal_sender_timeout so that the server never gives up on a pgcdc that is
  // busy (or held back by the broker) and not reading keepalives.
  std::chrono::milliseconds status_interval_{10000};

  // Transaction state.
  bool in_txn_ = false;
  offsets::TxnId txn_id_ = 0;
  envelope::TxnContext txn_;
  uint32_t seq_ = 0;
  absl::flat_hash_map<offsets::TxnId, UnackedTxn> unacked_txns_;
  // tracker_.confirmed_through() when pgcdc_behind_source_ms was last set.
  offsets::TxnId behind_source_txn_ = 0;

  // Streaming.
  pg::PgOutputOptions pgoutput_;
  StreamSpool::Options spool_options_;
  std::unique_ptr<StreamSpool> spool_;
  std::optional<pg::TransactionId> stream_xid_;  // inside Start..Stop
  std::unique_ptr<SpooledTxn> replay_;           // committed, being published
  Lsn replay_end_lsn_ = 0;

  // Positions.
  // The slot's confirmed position when the session started: another
  // instance may have confirmed it; no status update goes below it.
  Lsn slot_floor_ = kInvalidLsn;
  Lsn received_lsn_ = kInvalidLsn;
  Lsn last_sent_confirmed_ = kInvalidLsn;
  Clock::time_point next_status_;
  Clock::time_point last_status_;
  Clock::time_point next_progress_log_;
  Clock::time_point last_heard_;  // newest frame from the server
  Clock::time_point next_heartbeat_;
  bool ping_sent_ = false;
  bool session_started_ = false;
  absl::BitGen bitgen_;

  absl::Status fatal_;
  uint64_t events_published_ = 0;
  uint64_t events_acked_ = 0;
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_PIPELINE_H_
