#include "cdc/pipeline/stream_replay.h"

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "cdc/common/log.h"

namespace cdc::pipeline {

StreamReplay::StreamReplay(StreamSpool::Options options, bool streaming,
                           metrics::Metrics* metrics)
    : options_(std::move(options)),
      streaming_(streaming),
      metrics_(metrics),
      spool_(std::make_unique<StreamSpool>(options_)) {}

absl::Status StreamReplay::CheckDirectory() const {
  if (!streaming_) return absl::OkStatus();
  if (absl::Status s = spool_->CheckDirectory(); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("source.spill_directory: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status StreamReplay::Append(pg::TransactionId subxid, Lsn lsn,
                                  std::string_view payload) {
  return spool_->Append(*stream_xid_, subxid, lsn, payload);
}

absl::StatusOr<std::unique_ptr<SpooledTxn>> StreamReplay::Control(
    const pg::PgOutputMessage& message, bool in_txn) {
  if (const auto* start = std::get_if<pg::StreamStartMessage>(&message)) {
    if (!streaming_) {
      return absl::DataLossError(
          "Stream Start although streaming was not asked for");
    }
    if (in_txn || stream_xid_.has_value()) {
      return absl::DataLossError(
          absl::StrCat("Stream Start of transaction ", start->xid, " inside ",
                       in_txn ? "a transaction" : "another stream"));
    }
    stream_xid_ = start->xid;
    return nullptr;
  }
  if (std::holds_alternative<pg::StreamStopMessage>(message)) {
    if (!stream_xid_.has_value()) {
      return absl::DataLossError("Stream Stop outside a stream");
    }
    stream_xid_.reset();
    UpdateSpoolMetrics();
    return nullptr;
  }
  if (stream_xid_.has_value() || in_txn) {
    return absl::DataLossError(
        absl::StrCat(std::holds_alternative<pg::StreamAbortMessage>(message)
                         ? "Stream Abort"
                         : "Stream Commit",
                     " inside ", in_txn ? "a transaction" : "a stream"));
  }
  if (const auto* abort = std::get_if<pg::StreamAbortMessage>(&message)) {
    absl::Status s = spool_->Abort(abort->xid, abort->subxid);
    UpdateSpoolMetrics();
    if (!s.ok()) return s;
    return nullptr;
  }
  const auto& commit = std::get<pg::StreamCommitMessage>(message);
  return spool_->Take(commit.xid);
}

void StreamReplay::StartReplay(std::unique_ptr<SpooledTxn> txn,
                               const pg::StreamCommitMessage& commit) {
  LogInfo("streamed transaction ", commit.xid, " committed at ",
          FormatLsn(commit.commit_lsn), ": publishing its ", txn->messages(),
          " message(s) (", txn->bytes(), " bytes",
          txn->spilled() ? ", spilled to disk" : "", ")");
  replay_ = std::move(txn);
  replay_end_lsn_ = commit.end_lsn;
  metrics_->CountStreamedTransaction();
  UpdateSpoolMetrics();
}

absl::StatusOr<std::optional<SpooledTxn::Entry>> StreamReplay::Next() {
  absl::StatusOr<std::optional<SpooledTxn::Entry>> entry = replay_->Next();
  if (!entry.ok()) {
    return absl::Status(entry.status().code(),
                        absl::StrCat("streamed transaction ", replay_->xid(),
                                     ": ", entry.status().message()));
  }
  return entry;
}

Lsn StreamReplay::EndReplay() {
  replay_.reset();
  return replay_end_lsn_;
}

void StreamReplay::Reset() {
  stream_xid_.reset();
  replay_.reset();
  spool_ = std::make_unique<StreamSpool>(options_);
}

void StreamReplay::UpdateSpoolMetrics() {
  metrics_->SetSpool(spool_->total_bytes(), spool_->spilled_bytes_total());
}

}  // namespace cdc::pipeline
