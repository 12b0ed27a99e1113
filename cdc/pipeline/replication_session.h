// ReplicationSession: the replication connection of the pipeline and the
// bookkeeping of the protocol around it — where streaming starts, what the
// server was last told (standby status updates), and whether the server is
// still there (receive timeout, ping).
//
// What may be confirmed is decided by the AckTracker (cdc/offsets/); this
// part reports it, never below the slot's floor: another instance may have
// moved the slot on while this one waited for it (a standby) or was
// disconnected, and a status update below that would move the slot
// backwards (which older PostgreSQL minors accept). So the slot's position,
// read at each connection, is both where streaming starts and a floor for
// every status update.
//
// The status decisions (DueStatus, CheckSilence) are pure and take the
// clock; SendStatus and CheckReceiveTimeout add the I/O.
//
// Owns the connection (one per session; reconnecting makes a new one) and
// borrows the metrics, which must outlive it. Not thread-safe: one owner
// (the pipeline loop).
#ifndef CDC_PIPELINE_REPLICATION_SESSION_H_
#define CDC_PIPELINE_REPLICATION_SESSION_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/metrics/metrics.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/replication_protocol.h"

namespace cdc::pipeline {

class ReplicationSession {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ReplicationSession(metrics::Metrics* metrics);

  // Status updates are sent at least every `interval`.
  void set_status_interval(std::chrono::milliseconds interval) {
    status_interval_ = interval;
  }
  // At startup: `start` is the slot's confirmed position (the floor, and
  // what the server was last told).
  void SetStart(Lsn start);

  // A new replication connection (the old one, if any, is closed).
  absl::Status Connect(const std::string& dsn);
  // Closes the connection (lost, or no longer needed).
  void Close() { stream_.reset(); }
  bool connected() const { return stream_ != nullptr; }

  // The slot's confirmed position read at connecting raises the floor;
  // true when it did.
  bool RaiseFloor(Lsn slot_position);
  Lsn floor() const { return floor_; }
  // Where streaming starts: what the tracker confirmed, which may be past
  // what the server last heard from a connection that was lost (nothing
  // acknowledged is sent again), and not below the floor.
  Lsn StartPosition(Lsn confirmed) const { return std::max(confirmed, floor_); }
  // START_REPLICATION of `slot` from `from`; on success the timers start.
  absl::Status Start(const std::string& slot, Lsn from,
                     const std::string& options);

  // The next frame (see pg::ReplicationStream::Read); a frame counts as
  // hearing from the server.
  absl::StatusOr<std::optional<std::string_view>> Read(int timeout_ms,
                                                       int wake_fd,
                                                       int wake_fd2);
  // The loop chose not to read (backpressure, a replay): not reading is not
  // the server's silence.
  void NotReading() {
    heard_ = false;
    last_heard_ = Clock::now();
  }
  // An XLogData frame starting at `wal_start` was received.
  void Received(Lsn wal_start);
  Lsn received_lsn() const { return received_lsn_; }

  // The status update to send now, if any, for `confirmed` (the tracker's):
  // with `force`; when the reported position moved and kConfirmSpacing
  // passed since the last update; or when the interval is up.
  std::optional<pg::StandbyStatusUpdate> DueStatus(Lsn confirmed, bool force,
                                                   bool reply_requested,
                                                   Clock::time_point now) const;
  // The update `update` was sent at `now`.
  void StatusSent(const pg::StandbyStatusUpdate& update, Clock::time_point now);
  // DueStatus, sent.
  absl::Status SendStatus(Lsn confirmed, bool force,
                          bool reply_requested = false);

  enum class Silence { kFine, kPing, kLost };
  // Past `timeout` of silence the connection is lost; at half of it the
  // server is pinged once (0: no timeout).
  Silence CheckSilence(std::chrono::milliseconds timeout,
                       Clock::time_point now) const;
  // kUnavailable when the server has been silent past `timeout`; pings it
  // (a status update asking for a reply, for `confirmed`) at half of it.
  absl::Status CheckReceiveTimeout(Lsn confirmed,
                                   std::chrono::milliseconds timeout);

  // Ends streaming (CopyDone) and waits up to `timeout_ms` for the server.
  absl::Status Finish(int timeout_ms) { return stream_->Finish(timeout_ms); }

 private:
  metrics::Metrics* metrics_;
  std::unique_ptr<pg::ReplicationStream> stream_;
  std::chrono::milliseconds status_interval_{10000};
  // Positions.
  Lsn floor_ = kInvalidLsn;
  Lsn received_lsn_ = kInvalidLsn;
  Lsn last_sent_confirmed_ = kInvalidLsn;
  // Timers.
  Clock::time_point next_status_;
  Clock::time_point last_status_;
  // Newest frame from the server, or the first Read without one after it.
  Clock::time_point last_heard_;
  bool heard_ = false;  // frames since last_heard_ was stamped
  bool ping_sent_ = false;
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_REPLICATION_SESSION_H_
