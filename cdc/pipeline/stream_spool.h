// StreamSpool: the chunks of in-progress transactions that pgoutput streams
// (protocol 2+, `streaming 'on'`), held until their Stream Commit or Stream
// Abort.
//
// Why a spool: a streamed transaction may still abort, so none of its events
// may be published before its Stream Commit (the third obligation: nothing
// published before it is committed). Its chunks are kept as the raw pgoutput
// payloads the server sent, with each message's LSN, in memory while the
// spool's total stays under a budget and in an unlinked file in a spill
// directory past it — the largest transaction in memory is moved to a file
// first — so memory stays bounded whatever the transaction's size. Several
// transactions can be streamed interleaved; each has its own buffer.
//
// Subtransactions: each message's (sub)transaction id is recorded at the
// offset of its first message. Stream Abort of a subtransaction truncates the
// transaction's buffer there: everything after it belongs to that
// subtransaction or to subtransactions nested in it, which abort with it —
// PostgreSQL's own apply worker does the same (stream_abort_internal in
// logical/worker.c).
//
// Relation and Type messages inside a stream are spooled with the changes and
// applied at replay: the server marks a relation's shape as sent only when
// the streamed transaction commits, so applying it at once would decode
// transactions committed in between with a shape they were not made with.
//
// Files are unlinked as soon as they are created, so nothing is left behind
// by a crash; after a restart the server streams the transaction again.
//
// Owns its buffers and files. Not thread-safe; one owner (the pipeline loop).
#ifndef CDC_PIPELINE_STREAM_SPOOL_H_
#define CDC_PIPELINE_STREAM_SPOOL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/pgoutput.h"

namespace cdc::pipeline {

// One streamed transaction's messages, in the order the server sent them.
class SpooledTxn {
 public:
  ~SpooledTxn();
  SpooledTxn(const SpooledTxn&) = delete;
  SpooledTxn& operator=(const SpooledTxn&) = delete;

  struct Entry {
    Lsn lsn = 0;
    std::string_view payload;  // valid until the next call to Next()
  };
  // The next message; nullopt after the last. kDataLoss if the spill file
  // was cut short, kInternal for an I/O error.
  absl::StatusOr<std::optional<Entry>> Next();

  pg::TransactionId xid() const { return xid_; }
  uint64_t messages() const { return messages_; }
  size_t bytes() const { return memory_.size() + file_bytes_; }
  bool spilled() const { return file_ != nullptr; }

 private:
  friend class StreamSpool;
  struct Subxact {
    pg::TransactionId xid;
    size_t offset;   // of its first message
    uint64_t count;  // messages before it
  };
  explicit SpooledTxn(pg::TransactionId xid) : xid_(xid) {}
  absl::Status Append(pg::TransactionId subxid, Lsn lsn,
                      std::string_view payload);
  // Moves the in-memory part to a new unlinked file in `directory`.
  absl::Status Spill(const std::string& directory);
  absl::Status Truncate(Subxact at);
  absl::Status StartReading();

  pg::TransactionId xid_;
  uint64_t messages_ = 0;
  std::string memory_;         // records not in the file
  std::FILE* file_ = nullptr;  // once spilled, every record goes here
  size_t file_bytes_ = 0;
  std::vector<Subxact> subxacts_;  // in offset order
  absl::flat_hash_set<pg::TransactionId> subxact_ids_;
  // Reading.
  size_t read_offset_ = 0;
  std::string read_buffer_;
};

class StreamSpool {
 public:
  struct Options {
    std::string directory;     // where spill files go; must exist
    size_t memory_budget = 0;  // bytes held in memory over all transactions
  };
  explicit StreamSpool(Options options);
  ~StreamSpool();

  // The spill directory to use: `configured` (source.spill_directory), else
  // $TMPDIR, else /tmp.
  static std::string Directory(const std::string& configured);

  // Creates and removes a file in the spill directory, so that a bad
  // directory is found at startup rather than in a large transaction.
  absl::Status CheckDirectory() const;

  // Appends one message that (sub)transaction `subxid` of the streamed
  // top-level transaction `xid` made at `lsn`. kResourceExhausted when the
  // spill directory is full, kInternal for another I/O error.
  absl::Status Append(pg::TransactionId xid, pg::TransactionId subxid, Lsn lsn,
                      std::string_view payload);
  // Stream Abort: drops what `subxid` (and what followed it) wrote, or the
  // whole transaction when subxid == xid. Unknown ids are no error: the
  // server also reports aborts of subtransactions that wrote nothing.
  absl::Status Abort(pg::TransactionId xid, pg::TransactionId subxid);
  // Stream Commit: hands over the transaction, positioned at its first
  // message; an empty one when nothing of it was spooled.
  absl::StatusOr<std::unique_ptr<SpooledTxn>> Take(pg::TransactionId xid);

  size_t memory_bytes() const { return memory_bytes_; }
  // Bytes held over all open transactions, in memory and in files.
  size_t total_bytes() const;
  // Bytes ever written to spill files.
  uint64_t spilled_bytes_total() const { return spilled_total_; }
  size_t open_transactions() const { return txns_.size(); }

 private:
  absl::Status EnforceBudget();

  Options options_;
  absl::flat_hash_map<pg::TransactionId, std::unique_ptr<SpooledTxn>> txns_;
  size_t memory_bytes_ = 0;
  uint64_t spilled_total_ = 0;
};

}  // namespace cdc::pipeline

#endif  // CDC_PIPELINE_STREAM_SPOOL_H_
