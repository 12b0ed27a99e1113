// StreamReplay: pgoutput's streamed transactions (protocol 2+,
// source.streaming), from Stream Start to the replay of a committed one.
//
// A transaction bigger than the server's logical_decoding_work_mem arrives
// in chunks while it runs, between Stream Start and Stream Stop, interleaved
// with other transactions. Its messages go to the StreamSpool untouched;
// Stream Abort drops them (or a rolled-back subtransaction's part); at
// Stream Commit the pipeline registers the transaction with the AckTracker —
// commit order is the order the server sends commits in, streamed or not —
// and replays it from here through the same decode-and-publish path, within
// the in-flight window, before it reads anything the server sent after the
// commit.
//
// This part checks the order of the stream control messages and keeps the
// spool and the transaction being replayed; decoding and publishing stay
// with the pipeline, which asks Next() for messages while its window has
// room.
//
// Owns the spool and the transaction being replayed; borrows the metrics
// (spool gauges, streamed transactions), which must outlive it. Not
// thread-safe: one owner (the pipeline loop).
#ifndef CDC_PIPELINE_STREAM_REPLAY_H_
#define CDC_PIPELINE_STREAM_REPLAY_H_

#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/metrics/metrics.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pipeline/stream_spool.h"

namespace cdc::pipeline {

class StreamReplay {
 public:
  // `streaming`: whether the server was asked to stream (a Stream Start is
  // otherwise a protocol error).
  StreamReplay(StreamSpool::Options options, bool streaming,
               metrics::Metrics* metrics);

  // When streaming: that the spill directory takes files, found out now
  // rather than in the middle of a large transaction (kFailedPrecondition,
  // naming source.spill_directory).
  absl::Status CheckDirectory() const;

  // Between Stream Start and Stream Stop: data messages go to Append.
  bool in_stream() const { return stream_xid_.has_value(); }
  // Spools one data message of the open stream, of (sub)transaction
  // `subxid`, untouched.
  absl::Status Append(pg::TransactionId subxid, Lsn lsn,
                      std::string_view payload);

  // Stream Start, Stop, Abort or Commit (kDataLoss out of order; `in_txn`:
  // a transaction that is not streamed is open). For a Stream Commit,
  // returns the committed transaction, which the caller opens with the
  // tracker and hands to StartReplay; nullptr for the others.
  absl::StatusOr<std::unique_ptr<SpooledTxn>> Control(
      const pg::PgOutputMessage& message, bool in_txn);
  // Replays `txn`, committed by `commit`, from now on.
  void StartReplay(std::unique_ptr<SpooledTxn> txn,
                   const pg::StreamCommitMessage& commit);

  // A committed transaction is being replayed.
  bool replaying() const { return replay_ != nullptr; }
  // Its next message; nullopt after the last (then EndReplay). Errors name
  // the transaction.
  absl::StatusOr<std::optional<SpooledTxn::Entry>> Next();
  // Forgets the replayed transaction; returns the position its commit ends
  // at, which confirms it.
  Lsn EndReplay();

  // After a lost connection the server sends the streamed transactions
  // again: drops the spool, the open stream and the replay.
  void Reset();

 private:
  void UpdateSpoolMetrics();

  StreamSpool::Options options_;
  bool streaming_;
  metrics::Metrics* metrics_;
  std::unique_ptr<StreamSpool> spool_;
  std::optional<pg::TransactionId> stream_xid_;  // inside Start..Stop
  std::unique_ptr<SpooledTxn> replay_;           // committed, being published
  Lsn replay_end_lsn_ = 0;
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_STREAM_REPLAY_H_
