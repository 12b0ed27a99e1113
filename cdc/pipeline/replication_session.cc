#include "cdc/pipeline/replication_session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdc/common/status_macros.h"

namespace cdc::pipeline {
namespace {

// A confirmation that moved is sent at most this often (besides the regular
// interval), so that the slot follows acknowledgements closely without a
// status message per transaction. PostgreSQL's apply worker sends one
// whenever its position moved; 20 ms keeps the walsender's work to at most
// 50 replies a second, while the slot (and whoever watches its
// confirmed_flush_lsn) is never more than that behind the broker.
constexpr auto kConfirmSpacing = std::chrono::milliseconds(20);

}  // namespace

ReplicationSession::ReplicationSession(metrics::Metrics* metrics)
    : metrics_(metrics) {}

void ReplicationSession::SetStart(Lsn start) {
  floor_ = start;
  last_sent_confirmed_ = start;
}

absl::Status ReplicationSession::Connect(const std::string& dsn) {
  absl::StatusOr<std::unique_ptr<pg::ReplicationStream>> stream =
      pg::ReplicationStream::Connect(dsn);
  if (!stream.ok()) return stream.status();
  stream_ = *std::move(stream);
  return absl::OkStatus();
}

bool ReplicationSession::RaiseFloor(Lsn slot_position) {
  if (slot_position <= floor_) return false;
  floor_ = slot_position;
  return true;
}

absl::Status ReplicationSession::Start(const std::string& slot, Lsn from,
                                       const std::string& options) {
  CDC_RETURN_IF_ERROR(stream_->Start(slot, from, options));
  const auto now = Clock::now();
  next_status_ = now + status_interval_;
  last_status_ = now;
  last_heard_ = now;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string_view>> ReplicationSession::Read(
    int timeout_ms, int wake_fd, int wake_fd2) {
  absl::StatusOr<std::optional<std::string_view>> frame =
      stream_->Read(timeout_ms, wake_fd, wake_fd2);
  if (frame.ok() && frame->has_value()) {
    // Stamped when the frames stop (below), not per frame: a streamed
    // transaction's million frames made these clock reads a tenth of
    // pgcdc's CPU. The silence is then counted from at most one wait
    // (timeout_ms) after the last frame.
    heard_ = true;
    ping_sent_ = false;
  } else if (heard_) {
    heard_ = false;
    last_heard_ = Clock::now();
  }
  return frame;
}

void ReplicationSession::Received(Lsn wal_start) {
  if (wal_start > received_lsn_) {
    received_lsn_ = wal_start;
    metrics_->SetReceivedLsn(received_lsn_);  // an atomic store
  }
}

std::optional<pg::StandbyStatusUpdate> ReplicationSession::DueStatus(
    Lsn confirmed, bool force, bool reply_requested,
    Clock::time_point now) const {
  confirmed = std::max(confirmed, floor_);
  const bool moved =
      confirmed > last_sent_confirmed_ && now - last_status_ >= kConfirmSpacing;
  if (!force && !moved && now < next_status_) return std::nullopt;
  pg::StandbyStatusUpdate update;
  update.written = std::max(received_lsn_, confirmed);
  update.flushed = confirmed;
  update.applied = confirmed;
  update.client_time = UnixToPostgresMicros(absl::ToUnixMicros(absl::Now()));
  update.reply_requested = reply_requested;
  return update;
}

void ReplicationSession::StatusSent(const pg::StandbyStatusUpdate& update,
                                    Clock::time_point now) {
  last_sent_confirmed_ = update.flushed;
  last_status_ = now;
  next_status_ = now + status_interval_;
}

absl::Status ReplicationSession::SendStatus(Lsn confirmed, bool force,
                                            bool reply_requested) {
  const auto now = Clock::now();
  std::optional<pg::StandbyStatusUpdate> update =
      DueStatus(confirmed, force, reply_requested, now);
  if (!update.has_value()) return absl::OkStatus();
  absl::Status s = stream_->Send(pg::EncodeStandbyStatusUpdate(*update));
  if (!s.ok()) return s;
  StatusSent(*update, now);
  return absl::OkStatus();
}

ReplicationSession::Silence ReplicationSession::CheckSilence(
    std::chrono::milliseconds timeout, Clock::time_point now) const {
  if (timeout.count() == 0) return Silence::kFine;
  const auto silent = now - last_heard_;
  if (silent >= timeout) return Silence::kLost;
  if (silent >= timeout / 2 && !ping_sent_) return Silence::kPing;
  return Silence::kFine;
}

absl::Status ReplicationSession::CheckReceiveTimeout(
    Lsn confirmed, std::chrono::milliseconds timeout) {
  const auto now = Clock::now();
  switch (CheckSilence(timeout, now)) {
    case Silence::kFine:
      return absl::OkStatus();
    case Silence::kLost:
      return absl::UnavailableError(absl::StrCat(
          "nothing heard from the server for ",
          std::chrono::duration_cast<std::chrono::milliseconds>(now -
                                                                last_heard_)
              .count(),
          " ms (source.receive_timeout_ms), not even an answer to a ping: "
          "the connection is taken for lost"));
    case Silence::kPing:
      // A status update asking for a reply: the server answers with a
      // keepalive at once, so silence past the timeout means a dead link.
      ping_sent_ = true;
      return SendStatus(confirmed, /*force=*/true, /*reply_requested=*/true);
  }
  return absl::OkStatus();
}

}  // namespace cdc::pipeline
