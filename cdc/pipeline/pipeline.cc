#include "cdc/pipeline/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>
#include <variant>

#include "absl/random/distributions.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/log.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/wall_clock.h"
#include "cdc/envelope/debezium_json_encoder.h"
#include "cdc/envelope/json_encoder.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/replication_protocol.h"
#include "cdc/pg/sqlstate.h"
#include "cdc/pipeline/startup_checks.h"
#include "cdc/snapshot/signal.h"
#include "cdc/snapshot/signal_writer.h"

namespace cdc::pipeline {
namespace {

// Heartbeat messages carry this prefix and are never published.
constexpr char kHeartbeatPrefix[] = "pgcdc.heartbeat";
// How long a fatal error still waits for acknowledgements of events produced
// before it, so that as much as possible is confirmed.
constexpr int kFatalDrainMs = 5000;
// Reconnecting after a lost connection: exponential backoff with jitter.
// Waiting for a slot another instance holds is capped lower, so that a
// standby takes over within seconds of the other's end.
constexpr auto kReconnectFirstDelay = std::chrono::milliseconds(500);
constexpr auto kReconnectMaxDelay = std::chrono::milliseconds(30000);
constexpr auto kSlotBusyMaxDelay = std::chrono::milliseconds(3000);

template <typename T>
bool Is(const pg::PgOutputMessage& m) {
  return std::holds_alternative<T>(m);
}

}  // namespace

Pipeline::Pipeline(config::Config config, metrics::Metrics* metrics,
                   const std::atomic<bool>* stop)
    : config_(std::move(config)),
      metrics_(metrics),
      stop_(stop),
      session_(metrics),
      publisher_(&config_, &tracker_, metrics, stop,
                 static_cast<Publisher::Host*>(this)) {
  incremental_ = std::make_unique<snapshot::IncrementalDriver>(
      &config_, &tables_, &relations_, &signal_keys_, &tracker_, metrics_,
      static_cast<snapshot::IncrementalDriver::Host*>(this));
  initial_ = std::make_unique<snapshot::InitialSnapshot>(
      &config_, &tracker_, &signal_keys_, metrics_, stop_,
      static_cast<snapshot::InitialSnapshot::Host*>(this));
}

Pipeline::~Pipeline() = default;

bool Pipeline::IsStop(const absl::Status& s) const {
  return s.code() == absl::StatusCode::kCancelled &&
         stop_->load(std::memory_order_relaxed);
}

absl::Status Pipeline::Prepare() {
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(config_.source.dsn);
  if (!conn.ok()) return conn.status();
  pg::SqlConnection& sql = **conn;

  CDC_RETURN_IF_ERROR(CheckServer(sql));
  absl::StatusOr<std::vector<pg::TableInfo>> tables = CheckTables(sql);
  if (!tables.ok()) return tables.status();
  // Everything that can refuse the configuration (the Kafka properties
  // included) or the environment does so before the first change pgcdc
  // makes: the signal key, the publication, a snapshot request, the slot.
  CDC_RETURN_IF_ERROR(publisher_.Connect());
  absl::StatusOr<snapshot::SignalKeys> keys =
      snapshot::LoadSignalKeys(sql, config_.signals, /*create=*/true);
  if (!keys.ok()) return keys.status();
  signal_keys_ = *std::move(keys);
  CDC_RETURN_IF_ERROR(PreparePublication(sql, *tables));
  CDC_RETURN_IF_ERROR(LoadBuiltinTypes(sql));

  builder_ = MakeBuilder(&relations_, *tables);
  for (const std::string& w : ReplicaIdentityWarnings(*tables)) LogWarning(w);

  tables_ = *std::move(tables);
  incremental_->Restart();
  // Last, so that a slot created for a snapshot is not left behind by a
  // failure of the steps above.
  absl::StatusOr<Lsn> start = initial_->PrepareSlot(sql, database_, &tables_);
  if (!start.ok()) return start.status();
  start_lsn_ = *start;
  tracker_ = offsets::AckTracker(start_lsn_);
  session_.SetStart(start_lsn_);
  metrics_->SetConfirmedLsn(start_lsn_);
  sql_ = *std::move(conn);
  return absl::OkStatus();
}

absl::Status Pipeline::CheckServer(pg::SqlConnection& sql) {
  absl::StatusOr<pg::ServerInfo> server = pg::CheckServer(sql);
  if (!server.ok()) return server.status();
  CDC_RETURN_IF_ERROR(
      pg::RequireFailoverSupport(server->server_version_num, config_));
  database_ = server->database;
  server_version_ = server->server_version;
  if (server->server_encoding == "SQL_ASCII") LogWarning(pg::kSqlAsciiWarning);
  absl::StatusOr<pg::PgOutputOptions> pgoutput = pg::NegotiatePgOutput(
      server->server_version_num, config_.source.protocol_version,
      config_.source.streaming,
      // Snapshot signals are logical decoding messages, so pgoutput is
      // asked for messages whenever it has them (PostgreSQL 14+), published
      // or not.
      config_.messages.enabled() || server->server_version_num >= 140000,
      config_.source.publication);
  if (!pgoutput.ok()) return pgoutput.status();
  pgoutput_ = *std::move(pgoutput);
  CDC_RETURN_IF_ERROR(PrepareSpool());
  const StatusInterval status = ChooseStatusInterval(
      config_.source.status_interval_ms, server->wal_sender_timeout_ms);
  session_.set_status_interval(status.interval);
  if (status.capped) {
    LogInfo("status updates every ", status.interval.count(),
            " ms: a quarter of the server's wal_sender_timeout (",
            server->wal_sender_timeout_ms, " ms)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<pg::TableInfo>> Pipeline::CheckTables(
    pg::SqlConnection& sql) {
  absl::StatusOr<std::vector<pg::TableInfo>> tables =
      pg::DescribeTables(sql, config_.source.tables);
  if (!tables.ok()) return tables.status();
  // Before anything is made: a right missing halfway would leave a slot.
  absl::StatusOr<pg::RoleRights> rights = pg::ReadRoleRights(sql, *tables);
  if (!rights.ok()) return rights.status();
  std::vector<std::string> warnings;
  CDC_RETURN_IF_ERROR(pg::RequireRoleRights(*rights, config_, &warnings));
  for (const std::string& w : warnings) LogWarning(w);
  return tables;
}

absl::Status Pipeline::PreparePublication(
    pg::SqlConnection& sql, const std::vector<pg::TableInfo>& tables) {
  const bool via_root =
      std::any_of(tables.begin(), tables.end(),
                  [](const pg::TableInfo& t) { return t.partitioned; });
  // A table added to source.tables since the slot was made has history the
  // topic lacks: it is snapshotted incrementally, asked for (in the WAL)
  // before the publication starts to carry its changes.
  auto before_adding = [&](const std::vector<std::string>& added) {
    return incremental_->RequestSnapshotOfAdded(sql, added);
  };
  absl::StatusOr<bool> created_pub = pg::EnsurePublication(
      sql, config_.source.publication, config_.source.tables, via_root,
      /*dry_run=*/false, before_adding);
  if (!created_pub.ok()) return created_pub.status();
  if (*created_pub) {
    LogInfo("created publication \"", config_.source.publication, "\"");
  }
  return absl::OkStatus();
}

absl::Status Pipeline::LoadBuiltinTypes(pg::SqlConnection& sql) {
  absl::StatusOr<std::vector<pg::TypeInfo>> types = pg::LoadBuiltinTypes(sql);
  if (!types.ok()) return types.status();
  for (pg::TypeInfo& type : *types) {
    relations_.mutable_types()->Add(std::move(type));
  }
  relations_.RefreshTypeNames();
  return absl::OkStatus();
}

namespace {

// A random UUID (version 4) naming this process's run, as Kafka Connect's
// __debezium.context.runId does.
const std::string& RunId() {
  static const std::string* const kRunId = [] {
    absl::BitGen gen;
    const uint64_t hi =
        (absl::Uniform<uint64_t>(gen) & ~uint64_t{0xF000}) | uint64_t{0x4000};
    const uint64_t lo =
        (absl::Uniform<uint64_t>(gen) & ~(uint64_t{0xC} << 60)) |
        (uint64_t{0x8} << 60);
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF),
                  static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return new std::string(buf);
  }();
  return *kRunId;
}

// The debezium section as the encoder takes it (the parser has checked
// every value).
envelope::DebeziumJsonOptions DebeziumOptions(const config::Config& config) {
  using Options = envelope::DebeziumJsonOptions;
  const config::DebeziumConfig& d = config.debezium;
  Options o;
  o.topic_prefix = config.kafka.topic_prefix;
  o.schemas_enable = d.schemas_enable;
  o.decimal_mode =
      d.decimal_handling_mode == "double"   ? Options::DecimalMode::kDouble
      : d.decimal_handling_mode == "string" ? Options::DecimalMode::kString
                                            : Options::DecimalMode::kPrecise;
  o.time_precision = d.time_precision_mode == "connect"
                         ? Options::TimePrecision::kConnect
                     : d.time_precision_mode == "adaptive_time_microseconds"
                         ? Options::TimePrecision::kAdaptiveTimeMicroseconds
                         : Options::TimePrecision::kAdaptive;
  o.binary_mode =
      d.binary_handling_mode == "base64" ? Options::BinaryMode::kBase64
      : d.binary_handling_mode == "base64-url-safe"
          ? Options::BinaryMode::kBase64UrlSafe
      : d.binary_handling_mode == "hex" ? Options::BinaryMode::kHex
                                        : Options::BinaryMode::kBytes;
  o.tombstones_on_delete = d.tombstones_on_delete;
  o.unavailable_value_placeholder = d.unavailable_value_placeholder;
  o.skipped_operations = absl::StrJoin(d.skipped_operations, "");
  o.provide_transaction_metadata = d.provide_transaction_metadata;
  o.transaction_topic = absl::StrCat(config.kafka.topic_prefix, ".transaction");
  o.run_id = RunId();
  return o;
}

}  // namespace

std::unique_ptr<envelope::EnvelopeBuilder> Pipeline::MakeBuilder(
    const pg::RelationCache* relations,
    const std::vector<pg::TableInfo>& tables) const {
  envelope::SourceInfo source;
  source.version = PGCDC_VERSION;
  source.db = database_;
  source.slot = config_.source.slot;
  auto builder = std::make_unique<envelope::EnvelopeBuilder>(
      source, config_.kafka.topic_prefix, relations);
  if (config_.kafka.format == config::kFormatJson) {
    builder->SetEncoder(std::make_unique<envelope::JsonEncoder>(source));
  } else if (config_.kafka.format == config::kFormatDebeziumJson) {
    builder->SetEncoder(std::make_unique<envelope::DebeziumJsonEncoder>(
        source, DebeziumOptions(config_), &relations->types()));
  }
  if (config_.messages.enabled()) {
    builder->SetMessageTopic(config_.messages.topic);
  }
  builder->SetKeyChange(
      config_.events.key_change == "update"
          ? envelope::EnvelopeBuilder::KeyChange::kUpdate
          : envelope::EnvelopeBuilder::KeyChange::kDeleteCreate);
  for (const pg::TableInfo& t : tables) {
    builder->SetPrimaryKey(t.name.schema, t.name.table, t.primary_key);
  }
  return builder;
}

std::unique_ptr<envelope::EnvelopeBuilder> Pipeline::NewBuilder(
    const pg::RelationCache* relations) const {
  return MakeBuilder(relations, tables_);
}

absl::Status Pipeline::WriteSignal(const v1::SnapshotSignal& signal) {
  return WithSqlSession([&](pg::SqlConnection& sql) {
    return snapshot::WriteSignal(sql, signal_keys_, signal).status();
  });
}

absl::Status Pipeline::Snapshot() {
  metrics_->health().SetPhase(metrics::Phase::kSnapshotting);
  return initial_->Run();
}

absl::Status Pipeline::AddRelation(const pg::RelationMessage& relation) {
  relations_.Apply(relation);
  return ResolveTypes(relation);
}

absl::Status Pipeline::BuildRead(pg::Oid relation_oid, const pg::TupleData& row,
                                 const envelope::TxnContext& snapshot,
                                 uint32_t ordinal, envelope::SnapshotMark mark,
                                 int64_t now_us, envelope::Record* record) {
  return builder_->BuildRead(relation_oid, row, snapshot, ordinal, mark, now_us,
                             record);
}

absl::Status Pipeline::CommitSnapshotTransaction(Lsn end_lsn) {
  CDC_RETURN_IF_ERROR(CommitOpenTransaction(end_lsn));
  AfterAcks();
  return absl::OkStatus();
}

absl::Status Pipeline::WithSqlSession(
    const std::function<absl::Status(pg::SqlConnection&)>& work) {
  absl::Status s = sql_ != nullptr
                       ? work(*sql_)
                       : absl::UnavailableError("no catalog connection");
  if (s.code() != absl::StatusCode::kUnavailable) return s;
  // The session may have been idle long enough to be dropped: one new
  // connection, one more try.
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(config_.source.dsn);
  if (!conn.ok()) return conn.status();
  sql_ = *std::move(conn);
  return work(*sql_);
}

absl::Status Pipeline::ResolveTypes(const pg::RelationMessage& relation) {
  std::vector<pg::Oid> roots;
  for (const pg::RelationColumn& column : relation.columns) {
    roots.push_back(column.type_oid);
  }
  // Debezium's schemas say which columns are NOT NULL and carry their
  // defaults, which pgoutput does not send: like Debezium, read them when
  // a Relation message arrives (a schema change sends one). Other formats
  // write neither and do not pay the query.
  const bool column_facts = config_.kafka.format == config::kFormatDebeziumJson;
  absl::Status s = WithSqlSession([&](pg::SqlConnection& sql) {
    CDC_RETURN_IF_ERROR(
        pg::RefreshTypes(sql, roots, relations_.mutable_types()));
    if (!column_facts) return absl::OkStatus();
    absl::StatusOr<std::vector<pg::ColumnFacts>> facts =
        pg::ReadColumnFacts(sql, relation.relation_oid);
    if (!facts.ok()) return facts.status();
    relations_.SetColumnFacts(relation.relation_oid, *std::move(facts));
    return absl::OkStatus();
  });
  if (!s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat("cannot read the column types and facts of ",
                     relation.namespace_name, ".", relation.relation_name,
                     " from the catalog: ", s.message()));
  }
  relations_.RefreshTypeNames();
  return absl::OkStatus();
}

absl::Status Pipeline::Stream() {
  auto backoff = kReconnectFirstDelay;
  bool waiting_for_slot = false;
  while (fatal_.ok() && !stop_->load(std::memory_order_relaxed)) {
    absl::Status s = StreamSession();
    if (s.ok() || !fatal_.ok()) break;
    const bool slot_busy = s.code() == absl::StatusCode::kAborted;
    if (s.code() != absl::StatusCode::kUnavailable && !slot_busy) {
      fatal_ = s;
      break;
    }
    if (session_started_) backoff = kReconnectFirstDelay;  // it was healthy
    metrics_->SetConnected(false);
    EndSession();
    // A stop while the connection is down is still a clean stop: what was
    // acknowledged is confirmed on the next start.
    if (stop_->load(std::memory_order_relaxed)) break;
    // Full jitter within [delay/2, delay], so that instances that lost the
    // same server do not come back in step.
    const auto cap = slot_busy ? kSlotBusyMaxDelay : kReconnectMaxDelay;
    backoff = std::min(backoff, cap);
    const auto delay = std::chrono::milliseconds(
        backoff.count() / 2 +
        absl::Uniform<int64_t>(bitgen_, 0, backoff.count() / 2 + 1));
    if (slot_busy) {
      metrics_->health().SetPhase(
          metrics::Phase::kWaitingForSlot,
          absl::StrCat("slot \"", config_.source.slot,
                       "\" is in use by another process"));
      if (!waiting_for_slot) {
        LogWarning(s.message(),
                   "; waiting for it to be released (checking "
                   "every few seconds), then taking over");
      }
      waiting_for_slot = true;
    } else {
      waiting_for_slot = false;
      metrics_->health().SetPhase(metrics::Phase::kReconnecting);
      metrics_->CountReconnect();
      LogWarning(s.message(), "; reconnecting in ", delay.count(), " ms (",
                 tracker_.inflight_events(),
                 " event(s) still in flight; nothing unacknowledged is "
                 "confirmed)");
    }
    backoff *= 2;
    const auto until = Clock::now() + delay;
    while (Clock::now() < until && !stop_->load(std::memory_order_relaxed) &&
           fatal_.ok()) {
      ServeAcks(50);  // acknowledgements still count meanwhile
    }
  }

  metrics_->health().SetPhase(metrics::Phase::kStopping);
  if (fatal_.ok()) {
    LogInfo("stopping: waiting up to ", config_.kafka.shutdown_timeout_ms,
            " ms for ", tracker_.inflight_events(),
            " in-flight event(s) to be acknowledged");
    DrainAcks(config_.kafka.shutdown_timeout_ms);
    if (tracker_.inflight_events() > 0) {
      LogWarning(tracker_.inflight_events(),
                 " event(s) were not acknowledged in time; they are not "
                 "confirmed and will be sent again on the next start");
    }
  } else {
    DrainAcks(kFatalDrainMs);
  }
  absl::Status sent = absl::OkStatus();
  absl::Status finished = absl::OkStatus();
  if (session_.connected()) {
    sent = SendStatus(/*force=*/true);
    if (sent.ok()) finished = session_.Finish(5000);
  }
  metrics_->SetConnected(false);
  LogInfo("confirmed ", FormatLsn(tracker_.confirmed()), " to slot \"",
          config_.source.slot, "\"; ", publisher_.events_acked(), " of ",
          publisher_.events_published(), " event(s) acknowledged this run");
  if (!fatal_.ok()) return fatal_;
  if (!sent.ok()) return sent;
  if (!finished.ok()) LogWarning(finished.message());
  return absl::OkStatus();
}

absl::Status Pipeline::StartSession() {
  CDC_RETURN_IF_ERROR(session_.Connect(config_.source.dsn));
  const std::string options = pg::FormatPgOutputOptions(pgoutput_);
  // Another instance may have moved the slot on while this one waited for
  // it (a standby) or was disconnected: what it confirmed is published, and
  // a status update below it would move the slot backwards (which older
  // PostgreSQL minors accept). So the slot's position, read now, is both
  // where streaming starts and a floor for every status update.
  Lsn slot_position = kInvalidLsn;
  bool enable_failover = false;
  CDC_RETURN_IF_ERROR(WithSqlSession([&](pg::SqlConnection& sql) {
    absl::StatusOr<pg::SlotInfo> slot = pg::FindSlot(sql, config_.source.slot);
    if (!slot.ok()) return slot.status();
    if (slot->exists) slot_position = slot->confirmed_flush;
    // A slot that was in use at start (another pgcdc streamed from it) kept
    // its flag off; it is free now, or START_REPLICATION below fails.
    enable_failover = config_.source.slot_failover && slot->exists &&
                      slot->failover == false && !slot->active;
    return absl::OkStatus();
  }));
  if (enable_failover) {
    CDC_RETURN_IF_ERROR(
        pg::EnableSlotFailover(config_.source.dsn, config_.source.slot));
    LogInfo("turned on failover for replication slot \"", config_.source.slot,
            "\" (source.slot_failover: true): standbys with "
            "sync_replication_slots = on now keep a copy of it");
  }
  if (session_.RaiseFloor(slot_position) && !tracker_.in_transaction()) {
    tracker_.ObserveServerPosition(session_.floor());
  }
  // From what is acknowledged, which may be past what the server last heard
  // from a connection that was lost: nothing acknowledged is sent again.
  const Lsn from = session_.StartPosition(tracker_.confirmed());
  if (absl::Status s = session_.Start(config_.source.slot, from, options);
      !s.ok()) {
    if (pg::SqlStateOf(s) == pg::kObjectInUse) {
      return absl::AbortedError(
          absl::StrCat(s.message(), " (another pgcdc streams from slot \"",
                       config_.source.slot, "\")"));
    }
    if (s.code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(absl::StrCat(
          s.message(), ": the replication slot \"", config_.source.slot,
          "\" is gone (dropped, or invalidated by max_slot_wal_keep_size), "
          "and with it the changes not yet confirmed. To start again from "
          "the tables' current rows, run with snapshot.mode: when_needed "
          "(or drop the topics' stale data and use snapshot.mode: initial)"));
    }
    return s;
  }
  session_started_ = true;
  metrics_->SetConnected(true);
  metrics_->health().SetPhase(
      metrics::Phase::kStreaming,
      absl::StrCat("slot \"", config_.source.slot, "\""));
  LogWithFields(
      LogLevel::kInfo,
      absl::StrCat(
          "streaming slot \"", config_.source.slot, "\" from ", FormatLsn(from),
          " to ", config_.kafka.bootstrap_servers, " (PostgreSQL ",
          server_version_, ", pgoutput protocol ", pgoutput_.protocol_version,
          pgoutput_.streaming ? ", large transactions streamed" : "", ")"),
      {{"start_lsn", FormatLsn(from)},
       {"server_version", server_version_},
       {"protocol_version", absl::StrCat(pgoutput_.protocol_version)}});
  return absl::OkStatus();
}

absl::Status Pipeline::StreamSession() {
  session_started_ = false;
  CDC_RETURN_IF_ERROR(StartSession());

  auto now = Clock::now();
  const auto progress_interval =
      std::chrono::seconds(config_.log.progress_interval_s);
  next_progress_log_ = now + progress_interval;
  progress_since_ = {now, publisher_.events_published(),
                     publisher_.events_acked()};
  const size_t window = static_cast<size_t>(config_.kafka.max_inflight_bytes);
  const auto receive_timeout =
      std::chrono::milliseconds(config_.source.receive_timeout_ms);

  const auto heartbeat =
      std::chrono::milliseconds(config_.source.heartbeat_interval_ms);
  next_heartbeat_ = now + heartbeat;

  int frames_since_poll = 0;
  while (fatal_.ok() && !stop_->load(std::memory_order_relaxed)) {
    // The timed work (each reads the clock) once per turn that waited or
    // did something else than take one more frame, and every 256 frames:
    // not once per frame, which in a streamed transaction's million
    // frames made clock reads a tenth of pgcdc's CPU (bench/README.md).
    if (frames_since_poll == 0) {
      CDC_RETURN_IF_ERROR(SendStatus(/*force=*/false));
      incremental_->Tick();
      if (heartbeat.count() > 0 && Clock::now() >= next_heartbeat_) {
        next_heartbeat_ = Clock::now() + heartbeat;
        Heartbeat();
      }
    }
    if (tracker_.inflight_bytes() >= window) {
      // Backpressure: leave the backlog in the server's socket and WAL.
      ServeAcks(10);
      frames_since_poll = 0;
      session_.NotReading();
      continue;
    }
    if (streamed_->replaying()) {
      // A committed streamed transaction is published before anything the
      // server sent after its commit is read.
      if (absl::Status s = ReplayStep(256); !s.ok()) {
        if (IsStop(s)) break;
        fatal_ = s;
        break;
      }
      ServeAcks(0);
      frames_since_poll = 0;
      session_.NotReading();
      LogProgress(false);
      continue;
    }
    // Woken by acknowledgements too, so that they are served (and the
    // commit-to-ack time measured) as they come, not after the next frames.
    if (incremental_->WatchFull()) {
      // The changes a chunk being read must answer for are at their budget:
      // the rest waits in the server until the chunk arrives.
      ServeAcks(10);
      frames_since_poll = 0;
      session_.NotReading();
      continue;
    }
    absl::StatusOr<std::optional<std::string_view>> frame =
        session_.Read(50, publisher_.wake_fd(), incremental_->wake_fd());
    if (!frame.ok()) return frame.status();
    if (!frame->has_value()) {
      CDC_RETURN_IF_ERROR(
          session_.CheckReceiveTimeout(tracker_.confirmed(), receive_timeout));
    }
    if (!frame->has_value() || ++frames_since_poll >= 256) {
      ServeAcks(0);
      frames_since_poll = 0;
      LogProgress(false);
      if (!frame->has_value()) continue;
    }
    if (absl::Status s = HandleFrame(**frame); !s.ok()) {
      if (IsStop(s)) break;
      fatal_ = s;
      break;
    }
  }
  return fatal_;
}

void Pipeline::Heartbeat() {
  absl::Status s = WithSqlSession([](pg::SqlConnection& sql) {
    return pg::EmitLogicalMessage(sql, kHeartbeatPrefix, "").status();
  });
  // Not fatal: the stream does not depend on it.
  if (!s.ok()) LogWarning("heartbeat failed: ", s.message());
}

void Pipeline::EndSession() {
  session_.Close();
  // The SQL sessions may have died with the same network: a query on a
  // silently dead one would block until TCP gives up (minutes), so they
  // are made again when next needed.
  sql_.reset();
  streamed_->Reset();
  if (in_txn_) {
    // The server sends the transaction again, whole; the events already
    // produced of it are acknowledged (or not) without confirming anything.
    if (absl::Status s = CommitOpenTransaction(kInvalidLsn, /*abandoned=*/true);
        !s.ok()) {
      fatal_ = absl::InternalError(s.message());
    }
  }
  // The held snapshot journal comes again with the replay, to a new machine.
  tracker_.AbandonHeld();
  incremental_->Restart();
}

void Pipeline::DrainAcks(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (tracker_.inflight_events() > 0 && Clock::now() < deadline) {
    ServeAcks(50);
  }
  ServeAcks(0);
}

absl::Status Pipeline::HandleFrame(std::string_view frame) {
  absl::StatusOr<pg::ServerFrame> parsed = pg::ParseServerFrame(frame);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("bad replication frame after ",
                                            FormatLsn(session_.received_lsn()),
                                            ": ", parsed.status().message()));
  }
  if (const auto* keepalive = std::get_if<pg::PrimaryKeepalive>(&*parsed)) {
    metrics_->SetServerLsn(keepalive->wal_end);
    tracker_.ObserveServerPosition(keepalive->wal_end);
    AfterAcks();
    if (keepalive->reply_requested) return SendStatus(/*force=*/true);
    return absl::OkStatus();
  }
  const auto& data = std::get<pg::XLogData>(*parsed);
  metrics_->SetServerLsn(data.wal_end);
  session_.Received(data.wal_start);
  return DecodeAndHandle(data.payload, data.wal_start, streamed_->in_stream());
}

absl::Status Pipeline::DecodeAndHandle(std::string_view payload, Lsn lsn,
                                       bool in_stream) {
  pg::DecodeContext context;
  context.in_stream = in_stream;
  absl::StatusOr<pg::PgOutputMessage> message =
      pg::DecodePgOutput(payload, context);
  if (!message.ok()) {
    return absl::DataLossError(
        absl::StrCat("cannot decode the pgoutput message at LSN ",
                     FormatLsn(lsn), ": ", message.status().message()));
  }
  absl::Status s;
  if (std::optional<pg::TransactionId> subxid = pg::StreamXidOf(*message);
      subxid.has_value() && streamed_->in_stream()) {
    // A chunk of a transaction still running: kept, untouched, until its
    // Stream Commit (decoded now only to check it and learn its subxid).
    s = streamed_->Append(*subxid, lsn, payload);
  } else {
    s = HandleMessage(*message, lsn);
  }
  if (!s.ok() && s.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        absl::StrCat("at LSN ", FormatLsn(lsn), " (",
                     AsAbsl(pg::PgOutputMessageName(payload[0])),
                     in_stream ? ", streamed" : "", "): ", s.message()));
  }
  return s;
}

absl::Status Pipeline::PrepareSpool() {
  const std::string directory =
      StreamSpool::Directory(config_.source.spill_directory);
  streamed_ = std::make_unique<StreamReplay>(
      StreamSpool::Options{
          directory, static_cast<size_t>(config_.source.spill_memory_bytes)},
      pgoutput_.streaming, metrics_);
  return streamed_->CheckDirectory();
}

absl::Status Pipeline::HandleStreamControl(const pg::PgOutputMessage& message) {
  absl::StatusOr<std::unique_ptr<SpooledTxn>> txn =
      streamed_->Control(message, in_txn_);
  if (!txn.ok()) return txn.status();
  if (*txn == nullptr) return absl::OkStatus();
  const auto& commit = std::get<pg::StreamCommitMessage>(message);
  if (absl::Status s =
          OpenTransaction({commit.commit_lsn, commit.xid,
                           PostgresToUnixMicros(commit.commit_ts)});
      !s.ok()) {
    return s;
  }
  streamed_->StartReplay(*std::move(txn), commit);
  // Its Begin's position: its first change's, learned as it is replayed.
  begin_ = {true, 0, false};
  return absl::OkStatus();
}

absl::Status Pipeline::ReplayStep(size_t max_messages) {
  const size_t window = static_cast<size_t>(config_.kafka.max_inflight_bytes);
  // The step's events are built within a millisecond or so of each other:
  // they share one reading of the clock for their ts_ms.
  step_now_us_ = NowUnixMicros();
  absl::Status s;
  for (size_t i = 0; i < max_messages && tracker_.inflight_bytes() < window;
       ++i) {
    absl::StatusOr<std::optional<SpooledTxn::Entry>> entry = streamed_->Next();
    if (!entry.ok()) {
      s = entry.status();
      break;
    }
    if (!entry->has_value()) {
      const Lsn end_lsn = streamed_->EndReplay();
      s = PublishEnd(end_lsn);
      if (s.ok()) s = CloseTransaction(end_lsn);
      break;
    }
    if (begin_.pending && begin_.lsn == 0) begin_.lsn = (*entry)->lsn;
    s = DecodeAndHandle((*entry)->payload, (*entry)->lsn, /*in_stream=*/true);
    if (!s.ok()) break;
  }
  step_now_us_ = -1;
  return s;
}

absl::Status Pipeline::OpenTransaction(const envelope::TxnContext& txn) {
  if (in_txn_) return absl::DataLossError("Begin inside an open transaction");
  absl::StatusOr<offsets::TxnId> id = tracker_.Begin(txn.commit_lsn);
  if (!id.ok()) return id.status();
  in_txn_ = true;
  txn_id_ = *id;
  txn_ = txn;
  txn_.last_commit_lsn = last_commit_lsn_;
  seq_ = 0;
  begin_ = {};  // a server's transaction sets it after this
  if (txn.xid != 0) incremental_->ObserveCommitted(txn.xid);
  return absl::OkStatus();
}

absl::Status Pipeline::CloseTransaction(Lsn end_lsn) {
  CDC_RETURN_IF_ERROR(CommitOpenTransaction(end_lsn));
  last_commit_lsn_ = end_lsn;
  last_commit_ts_us_ = txn_.commit_ts_us;
  metrics_->CountTransaction();
  AfterAcks();
  return absl::OkStatus();
}

absl::Status Pipeline::CommitOpenTransaction(Lsn end_lsn, bool abandoned) {
  in_txn_ = false;
  // A transaction the server committed (not a snapshot's, a
  // non-transactional message's, or one abandoned with its connection,
  // which is measured when it comes again), so its commit-to-ack time
  // means something.
  const bool measured = txn_.xid != 0 && !abandoned;
  if (absl::Status s =
          tracker_.Commit(txn_id_, end_lsn, txn_.commit_ts_us, measured);
      !s.ok()) {
    return s;
  }
  if (measured && tracker_.Unacked(txn_id_) == 0) {
    // No events, or all acknowledged before the commit arrived.
    metrics_->ObserveCommitToAck((NowUnixMicros() - txn_.commit_ts_us) / 1e6);
  }
  return absl::OkStatus();
}

absl::Status Pipeline::HandleMessage(const pg::PgOutputMessage& message,
                                     Lsn lsn) {
  if (Is<pg::StreamStartMessage>(message) ||
      Is<pg::StreamStopMessage>(message) ||
      Is<pg::StreamCommitMessage>(message) ||
      Is<pg::StreamAbortMessage>(message)) {
    return HandleStreamControl(message);
  }
  if (Is<pg::OriginMessage>(message)) {
    return absl::OkStatus();  // replication origin of a replayed transaction
  }
  if (streamed_->in_stream()) {
    return absl::DataLossError("unexpected pgoutput message inside a stream");
  }
  if (const auto* begin = std::get_if<pg::BeginMessage>(&message)) {
    CDC_RETURN_IF_ERROR(
        OpenTransaction({begin->final_lsn, begin->xid,
                         PostgresToUnixMicros(begin->commit_ts)}));
    begin_ = {true, lsn, false};
    return absl::OkStatus();
  }
  if (const auto* commit = std::get_if<pg::CommitMessage>(&message)) {
    if (!in_txn_) return absl::DataLossError("Commit without Begin");
    if (commit->commit_lsn != txn_.commit_lsn) {
      return absl::DataLossError(absl::StrCat(
          "Commit LSN ", FormatLsn(commit->commit_lsn),
          " differs from its Begin's ", FormatLsn(txn_.commit_lsn)));
    }
    CDC_RETURN_IF_ERROR(PublishEnd(lsn));
    return CloseTransaction(commit->end_lsn);
  }
  if (const auto* logical = std::get_if<pg::LogicalMessage>(&message)) {
    if (logical->prefix == snapshot::kSignalPrefix) {
      begin_.own_messages = true;
      const snapshot::IncrementalDriver::Txn open{txn_id_, txn_.xid,
                                                  txn_.commit_lsn};
      return incremental_->HandleSignal(*logical, in_txn_ ? &open : nullptr);
    }
    if (logical->prefix == kHeartbeatPrefix) {
      begin_.own_messages = true;
      return absl::OkStatus();
    }
    if (!config_.messages.Publishes(logical->prefix)) {
      return absl::OkStatus();  // a prefix the configuration leaves out
    }
    if (logical->transactional) {
      if (!in_txn_) {
        return absl::DataLossError(
            "transactional logical message outside a transaction");
      }
      return Publish(message, lsn);
    }
    if (in_txn_) {
      return absl::DataLossError(
          "non-transactional logical message inside a transaction");
    }
    // Written at once, whether or not its transaction commits: it is a
    // transaction of its own, "committed" at its own LSN, which is confirmed
    // as it is (see pg::ConfirmPositionOf).
    // Debezium dates it at the last commit it saw and counts it as a
    // commit at its own LSN (its lastCommitLsn).
    const int64_t ts_us = config_.kafka.format == config::kFormatDebeziumJson
                              ? last_commit_ts_us_
                              : NowUnixMicros();
    CDC_RETURN_IF_ERROR(OpenTransaction({logical->lsn, 0, ts_us}));
    CDC_RETURN_IF_ERROR(Publish(message, lsn));
    CDC_RETURN_IF_ERROR(CloseTransaction(pg::ConfirmPositionOf(*logical)));
    last_commit_lsn_ = logical->lsn;
    last_commit_ts_us_ = ts_us;
    return absl::OkStatus();
  }
  if (const auto* relation = std::get_if<pg::RelationMessage>(&message)) {
    relations_.Apply(*relation);
    return ResolveTypes(*relation);
  }
  if (const auto* type = std::get_if<pg::TypeMessage>(&message)) {
    relations_.Apply(*type);
    return absl::OkStatus();
  }
  if (Is<pg::InsertMessage>(message) || Is<pg::UpdateMessage>(message) ||
      Is<pg::DeleteMessage>(message) || Is<pg::TruncateMessage>(message)) {
    if (!in_txn_) return absl::DataLossError("change outside a transaction");
    return Publish(message, lsn);
  }
  // Two-phase transactions are only sent when asked for, and pgcdc does not
  // ask: a prepared transaction arrives whole at COMMIT PREPARED.
  return absl::DataLossError(absl::StrCat(
      "unexpected pgoutput message for the negotiated options (protocol ",
      pgoutput_.protocol_version, ", no two-phase)"));
}

absl::Status Pipeline::Publish(const pg::PgOutputMessage& change, Lsn lsn) {
  if (incremental_->WindowOpen()) incremental_->WatchChange(change);
  const int64_t now_us = step_now_us_ >= 0 ? step_now_us_ : NowUnixMicros();
  if (begin_.pending) CDC_RETURN_IF_ERROR(PublishBegin());
  if (absl::Status s =
          builder_->BuildInto(change, txn_, lsn, &seq_, now_us, &records_);
      !s.ok()) {
    return s;
  }
  for (const envelope::Record& record : records_) {
    CDC_RETURN_IF_ERROR(ProduceRecord(record));
    metrics_->CountEvent(record.schema, record.table, record.op);
  }
  // Per change: the change that fills the window is the last one before
  // the loop only serves acknowledgements, and the gauges must say so then
  // (two stores; per batch, they stayed below the window during an outage).
  metrics_->SetInflight(tracker_.inflight_events(), tracker_.inflight_bytes());
  return absl::OkStatus();
}

absl::Status Pipeline::PublishBegin() {
  begin_.pending = false;
  return PublishBoundary(/*begin=*/true, begin_.lsn);
}

absl::Status Pipeline::PublishEnd(Lsn lsn) {
  if (begin_.pending) {
    // Nothing of it was published: it begins now, unless it was only
    // pgcdc's own messages, which are no one else's business.
    if (begin_.own_messages) {
      begin_.pending = false;
      return absl::OkStatus();
    }
    if (begin_.lsn == 0) begin_.lsn = lsn;
    CDC_RETURN_IF_ERROR(PublishBegin());
  }
  return PublishBoundary(/*begin=*/false, lsn);
}

absl::Status Pipeline::PublishBoundary(bool begin, Lsn lsn) {
  CDC_RETURN_IF_ERROR(
      builder_->BuildTransactionBoundary(begin, txn_, lsn, &boundary_records_));
  for (const envelope::Record& record : boundary_records_) {
    CDC_RETURN_IF_ERROR(ProduceRecord(record));
  }
  return absl::OkStatus();
}

void Pipeline::AfterAcks() {
  // The confirmed position passed one more transaction (or a merged run of
  // them, of which the tracker kept the newest commit time).
  if (const offsets::TxnId through = tracker_.confirmed_through();
      through != behind_source_txn_) {
    behind_source_txn_ = through;
    metrics_->SetBehindSourceMs(std::max<int64_t>(
        0, (NowUnixMicros() - tracker_.confirmed_commit_time_us()) / 1000));
  }
  metrics_->SetConfirmedLsn(tracker_.confirmed());
  metrics_->SetInflight(tracker_.inflight_events(), tracker_.inflight_bytes());
}

absl::Status Pipeline::SendStatus(bool force) {
  return session_.SendStatus(tracker_.confirmed(), force);
}

void Pipeline::LogProgress(bool force) {
  if (config_.log.progress_interval_s == 0 && !force) return;
  const auto now = Clock::now();
  if (!force && now < next_progress_log_) return;
  next_progress_log_ =
      now + std::chrono::seconds(config_.log.progress_interval_s);
  const double seconds =
      std::chrono::duration<double>(now - progress_since_.at).count();
  const uint64_t produced = publisher_.events_published();
  const uint64_t acked = publisher_.events_acked();
  auto rate = [&](uint64_t to, uint64_t from) {
    return seconds > 0 ? static_cast<double>(to - from) / seconds : 0.0;
  };
  const double produced_rate = rate(produced, progress_since_.produced);
  const double acked_rate = rate(acked, progress_since_.acked);
  progress_since_ = {now, produced, acked};
  const uint64_t lag = metrics_->lag_bytes();
  const int64_t behind_ms = metrics_->behind_source_ms();
  LogWithFields(
      LogLevel::kInfo,
      absl::StrCat(
          "progress: ", produced, " event(s) produced (",
          absl::StrFormat("%.1f", produced_rate), "/s), ", acked,
          " acknowledged (", absl::StrFormat("%.1f", acked_rate), "/s), ",
          tracker_.inflight_events(), " in flight (", tracker_.inflight_bytes(),
          " of ", config_.kafka.max_inflight_bytes,
          " bytes of the window); confirmed ", FormatLsn(tracker_.confirmed()),
          ", ", lag, " bytes behind the server, ", behind_ms,
          " ms behind the source"),
      {{"confirmed_lsn", FormatLsn(tracker_.confirmed())},
       {"events_per_s", absl::StrFormat("%.1f", acked_rate)},
       {"lag_bytes", absl::StrCat(lag)},
       {"behind_source_ms", absl::StrCat(behind_ms)},
       {"inflight_events", absl::StrCat(tracker_.inflight_events())},
       {"inflight_bytes", absl::StrCat(tracker_.inflight_bytes())}});
}

}  // namespace cdc::pipeline
