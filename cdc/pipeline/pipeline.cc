#include "cdc/pipeline/pipeline.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cdc/common/log.h"
#include "cdc/pg/catalog.h"
#include "cdc/pg/replication_protocol.h"

namespace cdc::pipeline {
namespace {

// A confirmation that moved is sent at most this often (besides the regular
// interval), so that the slot follows acknowledgements closely without a
// status message per transaction.
constexpr auto kConfirmSpacing = std::chrono::milliseconds(200);
constexpr auto kProgressLogInterval = std::chrono::seconds(30);
// How long a fatal error still waits for acknowledgements of events produced
// before it, so that as much as possible is confirmed.
constexpr int kFatalDrainMs = 5000;

int64_t NowUnixMicros() { return absl::ToUnixMicros(absl::Now()); }

template <typename T>
bool Is(const pg::PgOutputMessage& m) {
  return std::holds_alternative<T>(m);
}

// Encloses `s` in `quote`, doubling any `quote` inside, as SQL quotes both
// literals ('...') and identifiers ("...").
std::string Enclose(const std::string& s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote) out += quote;
    out += c;
  }
  return out + quote;
}

}  // namespace

Pipeline::Pipeline(config::Config config, metrics::Metrics* metrics,
                   const std::atomic<bool>* stop)
    : config_(std::move(config)), metrics_(metrics), stop_(stop) {}

Pipeline::~Pipeline() = default;

absl::Status Pipeline::Prepare() {
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(config_.source.dsn);
  if (!conn.ok()) return conn.status();
  pg::SqlConnection& sql = **conn;

  absl::StatusOr<pg::ServerInfo> server = pg::CheckServer(sql);
  if (!server.ok()) return server.status();
  database_ = server->database;
  status_interval_ =
      std::chrono::milliseconds(config_.source.status_interval_ms);
  if (server->wal_sender_timeout_ms > 0 &&
      status_interval_.count() > server->wal_sender_timeout_ms / 4) {
    status_interval_ = std::chrono::milliseconds(
        std::max(100, server->wal_sender_timeout_ms / 4));
    LogInfo("status updates every ", status_interval_.count(),
            " ms: a quarter of the server's wal_sender_timeout (",
            server->wal_sender_timeout_ms, " ms)");
  }

  absl::StatusOr<std::vector<pg::TableInfo>> tables =
      pg::DescribeTables(sql, config_.source.tables);
  if (!tables.ok()) return tables.status();

  const bool via_root =
      std::any_of(tables->begin(), tables->end(),
                  [](const pg::TableInfo& t) { return t.partitioned; });
  absl::StatusOr<bool> created_pub = pg::EnsurePublication(
      sql, config_.source.publication, config_.source.tables, via_root);
  if (!created_pub.ok()) return created_pub.status();
  if (*created_pub) {
    LogInfo("created publication \"", config_.source.publication, "\"");
  }

  absl::StatusOr<std::vector<pg::TypeInfo>> types = pg::LoadBuiltinTypes(sql);
  if (!types.ok()) return types.status();
  for (pg::TypeInfo& type : *types) {
    relations_.mutable_types()->Add(std::move(type));
  }
  relations_.RefreshTypeNames();

  envelope::SourceInfo source;
  source.version = PGCDC_VERSION;
  source.db = database_;
  source.slot = config_.source.slot;
  builder_ = std::make_unique<envelope::EnvelopeBuilder>(
      source, config_.kafka.topic_prefix, &relations_);
  if (config_.messages.enabled()) {
    builder_->SetMessageTopic(config_.messages.topic);
  }
  builder_->SetKeyChange(
      config_.events.key_change == "update"
          ? envelope::EnvelopeBuilder::KeyChange::kUpdate
          : envelope::EnvelopeBuilder::KeyChange::kDeleteCreate);
  for (const pg::TableInfo& t : *tables) {
    builder_->SetPrimaryKey(t.name.schema, t.name.table, t.primary_key);
    if (t.replica_identity == 'n' && !t.primary_key.empty()) {
      LogWarning("table ", t.name.Qualified(),
                 " has REPLICA IDENTITY NOTHING: PostgreSQL refuses UPDATE "
                 "and DELETE on it while it is published. Fix: ALTER TABLE ",
                 t.name.Qualified(),
                 " REPLICA IDENTITY DEFAULT (or FULL for "
                 "whole old rows)");
    }
    if (t.primary_key.empty()) {
      if (t.replica_identity == 'n' || t.replica_identity == 'd') {
        LogWarning(
            "table ", t.name.Qualified(),
            " has no primary key and replica identity ",
            t.replica_identity == 'n' ? "NOTHING" : "DEFAULT",
            ": its events have a null Kafka key and its UPDATE/DELETE events "
            "no old image; PostgreSQL refuses UPDATE and DELETE on it while "
            "it is published. Fix: add a primary key, or ALTER TABLE ",
            t.name.Qualified(), " REPLICA IDENTITY FULL");
      } else if (t.replica_identity == 'f') {
        LogWarning("table ", t.name.Qualified(),
                   " has no primary key: its events have a null Kafka key, so "
                   "per-row order across partitions is not kept; add a "
                   "primary key or REPLICA IDENTITY USING INDEX");
      }
    }
  }

  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      kafka::Producer::Create(
          config_.kafka.bootstrap_servers, config_.kafka.properties,
          [this](const kafka::DeliveryReport& r) { OnDelivery(r); });
  if (!producer.ok()) return producer.status();
  producer_ = *std::move(producer);
  tables_ = *std::move(tables);
  // Last, so that a slot created for a snapshot is not left behind by a
  // failure of the steps above.
  if (absl::Status s = PrepareSlot(sql); !s.ok()) return s;
  tracker_ = offsets::AckTracker(start_lsn_);
  last_sent_confirmed_ = start_lsn_;
  metrics_->SetConfirmedLsn(start_lsn_);
  sql_ = *std::move(conn);
  return absl::OkStatus();
}

absl::Status Pipeline::ResolveTypes(const pg::RelationMessage& relation) {
  std::vector<pg::Oid> roots;
  for (const pg::RelationColumn& column : relation.columns) {
    roots.push_back(column.type_oid);
  }
  absl::Status s =
      sql_ != nullptr
          ? pg::RefreshTypes(*sql_, roots, relations_.mutable_types())
          : absl::UnavailableError("no catalog connection");
  if (s.code() == absl::StatusCode::kUnavailable) {
    // The session may have been idle long enough to be dropped: one new
    // connection, one more try.
    absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
        pg::SqlConnection::Connect(config_.source.dsn);
    if (!conn.ok()) return conn.status();
    sql_ = *std::move(conn);
    s = pg::RefreshTypes(*sql_, roots, relations_.mutable_types());
  }
  if (!s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat("cannot read the column types of ",
                     relation.namespace_name, ".", relation.relation_name,
                     " from the catalog: ", s.message()));
  }
  relations_.RefreshTypeNames();
  return absl::OkStatus();
}

absl::Status Pipeline::Stream() {
  absl::StatusOr<std::unique_ptr<pg::ReplicationStream>> stream =
      pg::ReplicationStream::Connect(config_.source.dsn);
  if (!stream.ok()) return stream.status();
  stream_ = *std::move(stream);
  std::string options =
      absl::StrCat("proto_version '1', publication_names ",
                   Enclose(Enclose(config_.source.publication, '"'), '\''));
  if (config_.messages.enabled()) {
    absl::StrAppend(&options, ", messages 'true'");
  }
  if (absl::Status s =
          stream_->Start(config_.source.slot, kInvalidLsn, options);
      !s.ok()) {
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(
          absl::StrCat(s.message(), " (is another pgcdc using slot \"",
                       config_.source.slot, "\"?)"));
    }
    return s;
  }
  metrics_->SetConnected(true);
  LogInfo("streaming slot \"", config_.source.slot, "\" from ",
          FormatLsn(start_lsn_), " to ", config_.kafka.bootstrap_servers);

  auto now = Clock::now();
  next_status_ = now + status_interval_;
  last_status_ = now;
  next_progress_log_ = now + kProgressLogInterval;
  const size_t window = static_cast<size_t>(config_.kafka.max_inflight_bytes);

  int frames_since_poll = 0;
  while (fatal_.ok() && !stop_->load(std::memory_order_relaxed)) {
    if (absl::Status s = SendStatus(/*force=*/false); !s.ok()) {
      fatal_ = s;
      break;
    }
    if (tracker_.inflight_bytes() >= window) {
      // Backpressure: leave the backlog in the server's socket and WAL.
      producer_->Poll(10);
      frames_since_poll = 0;
      continue;
    }
    absl::StatusOr<std::optional<std::string_view>> frame = stream_->Read(50);
    if (!frame.ok()) {
      fatal_ = frame.status();
      break;
    }
    if (!frame->has_value() || ++frames_since_poll >= 256) {
      producer_->Poll(0);
      frames_since_poll = 0;
      LogProgress(false);
      if (!frame->has_value()) continue;
    }
    if (absl::Status s = HandleFrame(**frame); !s.ok()) {
      fatal_ = s;
      break;
    }
  }

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
  absl::Status sent = SendStatus(/*force=*/true);
  absl::Status finished = sent.ok() ? stream_->Finish(5000) : absl::OkStatus();
  metrics_->SetConnected(false);
  LogInfo("confirmed ", FormatLsn(tracker_.confirmed()), " to slot \"",
          config_.source.slot, "\"; ", events_acked_, " of ", events_published_,
          " event(s) acknowledged this run");
  if (!fatal_.ok()) return fatal_;
  if (!sent.ok()) return sent;
  if (!finished.ok()) LogWarning(finished.message());
  return absl::OkStatus();
}

void Pipeline::DrainAcks(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (tracker_.inflight_events() > 0 && Clock::now() < deadline) {
    producer_->Poll(50);
  }
  producer_->Poll(0);
}

absl::Status Pipeline::HandleFrame(std::string_view frame) {
  absl::StatusOr<pg::ServerFrame> parsed = pg::ParseServerFrame(frame);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("bad replication frame after ",
                                            FormatLsn(received_lsn_), ": ",
                                            parsed.status().message()));
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
  if (data.wal_start > received_lsn_) received_lsn_ = data.wal_start;
  pg::DecodeContext context;
  absl::StatusOr<pg::PgOutputMessage> message =
      pg::DecodePgOutput(data.payload, context);
  if (!message.ok()) {
    return absl::DataLossError(absl::StrCat(
        "cannot decode the pgoutput message at LSN ", FormatLsn(data.wal_start),
        ": ", message.status().message()));
  }
  absl::Status s = HandleMessage(*message, data.wal_start);
  if (!s.ok() && s.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        absl::StrCat("at LSN ", FormatLsn(data.wal_start), ": ", s.message()));
  }
  return s;
}

absl::Status Pipeline::OpenTransaction(const envelope::TxnContext& txn) {
  if (in_txn_) return absl::DataLossError("Begin inside an open transaction");
  absl::StatusOr<offsets::TxnId> id = tracker_.Begin();
  if (!id.ok()) return id.status();
  in_txn_ = true;
  txn_id_ = *id;
  txn_ = txn;
  seq_ = 0;
  inflight_txns_.push_back({txn_id_, txn.commit_lsn, 0, txn.commit_ts_us});
  return absl::OkStatus();
}

absl::Status Pipeline::CloseTransaction(Lsn end_lsn) {
  in_txn_ = false;
  inflight_txns_.back().end_lsn = end_lsn;
  if (absl::Status s = tracker_.Commit(txn_id_, end_lsn); !s.ok()) return s;
  metrics_->CountTransaction();
  AfterAcks();
  return absl::OkStatus();
}

absl::Status Pipeline::HandleMessage(const pg::PgOutputMessage& message,
                                     Lsn lsn) {
  if (const auto* begin = std::get_if<pg::BeginMessage>(&message)) {
    return OpenTransaction(
        {begin->final_lsn, begin->xid, PostgresToUnixMicros(begin->commit_ts)});
  }
  if (const auto* commit = std::get_if<pg::CommitMessage>(&message)) {
    if (!in_txn_) return absl::DataLossError("Commit without Begin");
    if (commit->commit_lsn != txn_.commit_lsn) {
      return absl::DataLossError(absl::StrCat(
          "Commit LSN ", FormatLsn(commit->commit_lsn),
          " differs from its Begin's ", FormatLsn(txn_.commit_lsn)));
    }
    return CloseTransaction(commit->end_lsn);
  }
  if (const auto* logical = std::get_if<pg::LogicalMessage>(&message)) {
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
    // transaction of its own, "committed" at its own LSN. Confirming just
    // past that LSN is what makes the server skip it after a restart.
    if (absl::Status s = OpenTransaction({logical->lsn, 0, NowUnixMicros()});
        !s.ok()) {
      return s;
    }
    if (absl::Status s = Publish(message, lsn); !s.ok()) return s;
    return CloseTransaction(logical->lsn + 1);
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
  if (Is<pg::OriginMessage>(message)) {
    return absl::OkStatus();  // replication origin of a replayed transaction
  }
  // Streamed and two-phase transactions are only sent when asked for, and
  // this version does not ask.
  return absl::DataLossError(
      "unexpected pgoutput message for the negotiated options (protocol 1, "
      "no streaming, no two-phase)");
}

absl::Status Pipeline::Publish(const pg::PgOutputMessage& change, Lsn lsn) {
  int64_t now_ms = NowUnixMicros() / 1000;
  absl::StatusOr<std::vector<envelope::Record>> records =
      builder_->Build(change, txn_, lsn, &seq_, now_ms);
  if (!records.ok()) return records.status();
  for (const envelope::Record& record : *records) {
    if (absl::Status s = ProduceRecord(record); !s.ok()) return s;
    metrics_->CountEvent(record.table.empty()
                             ? std::string()  // a logical message
                             : absl::StrCat(record.schema, ".", record.table),
                         record.op);
  }
  metrics_->SetInflight(tracker_.inflight_events(), tracker_.inflight_bytes());
  return absl::OkStatus();
}

absl::Status Pipeline::ProduceRecord(const envelope::Record& record) {
  size_t bytes = record.value.size() + (record.key ? record.key->size() : 0);
  if (absl::Status s = tracker_.AddEvent(txn_id_, bytes); !s.ok()) return s;
  for (;;) {
    absl::Status s =
        producer_->Produce(record.topic, record.key, record.value, txn_id_);
    if (s.ok()) break;
    if (s.code() != absl::StatusCode::kResourceExhausted) {
      return absl::Status(
          s.code(),
          absl::StrCat("cannot produce to ", record.topic, ": ", s.message()));
    }
    producer_->Poll(100);  // librdkafka's local queue is full
    if (!fatal_.ok()) return fatal_;
  }
  ++events_published_;
  return absl::OkStatus();
}

void Pipeline::OnDelivery(const kafka::DeliveryReport& report) {
  if (!report.status.ok()) {
    metrics_->CountDeliveryError();
    if (fatal_.ok()) {
      Lsn commit_lsn = 0;
      if (!inflight_txns_.empty() &&
          report.opaque >= inflight_txns_.front().id &&
          report.opaque - inflight_txns_.front().id < inflight_txns_.size()) {
        commit_lsn = inflight_txns_[report.opaque - inflight_txns_.front().id]
                         .commit_lsn;
      }
      fatal_ = absl::Status(
          report.status.code(),
          absl::StrCat("delivery to topic ", report.topic,
                       " failed for an event of the transaction committed at ",
                       FormatLsn(commit_lsn), ": ", report.status.message(),
                       "; nothing from that transaction on is confirmed, so "
                       "the next start sends it again"));
      LogError(fatal_.message());
    }
    return;
  }
  if (absl::Status s = tracker_.Ack(report.opaque, report.bytes); !s.ok()) {
    if (fatal_.ok()) fatal_ = absl::InternalError(s.message());
    return;
  }
  ++events_acked_;
  AfterAcks();
}

void Pipeline::AfterAcks() {
  Lsn confirmed = tracker_.confirmed();
  int64_t last_commit_us = -1;
  while (!inflight_txns_.empty() && inflight_txns_.front().end_lsn != 0 &&
         inflight_txns_.front().end_lsn <= confirmed) {
    last_commit_us = inflight_txns_.front().commit_ts_us;
    inflight_txns_.pop_front();
  }
  if (last_commit_us >= 0) {
    metrics_->SetBehindSourceMs(
        std::max<int64_t>(0, (NowUnixMicros() - last_commit_us) / 1000));
  }
  metrics_->SetConfirmedLsn(confirmed);
  metrics_->SetInflight(tracker_.inflight_events(), tracker_.inflight_bytes());
}

absl::Status Pipeline::SendStatus(bool force) {
  auto now = Clock::now();
  Lsn confirmed = tracker_.confirmed();
  bool moved =
      confirmed > last_sent_confirmed_ && now - last_status_ >= kConfirmSpacing;
  if (!force && !moved && now < next_status_) return absl::OkStatus();
  pg::StandbyStatusUpdate update;
  update.written = std::max(received_lsn_, confirmed);
  update.flushed = confirmed;
  update.applied = confirmed;
  update.client_time = UnixToPostgresMicros(NowUnixMicros());
  absl::Status s = stream_->Send(pg::EncodeStandbyStatusUpdate(update));
  if (!s.ok()) return s;
  last_sent_confirmed_ = confirmed;
  last_status_ = now;
  next_status_ = now + status_interval_;
  return absl::OkStatus();
}

void Pipeline::LogProgress(bool force) {
  auto now = Clock::now();
  if (!force && now < next_progress_log_) return;
  next_progress_log_ = now + kProgressLogInterval;
  LogInfo("progress: ", events_published_, " event(s) produced, ",
          events_acked_, " acknowledged, ", tracker_.inflight_events(),
          " in flight; confirmed ", FormatLsn(tracker_.confirmed()));
}

}  // namespace cdc::pipeline
