#include "cdc/pipeline/stream_spool.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cdc/common/status_macros.h"

namespace cdc::pipeline {
namespace {

// Each record: the message's LSN, its length, then the payload, in host byte
// order (the file never leaves this process).
constexpr size_t kHeaderBytes = sizeof(uint64_t) + sizeof(uint32_t);
// stdio buffer of a spill file: few, large writes and reads.
constexpr size_t kFileBufferBytes = 1 << 20;

absl::Status IoError(const char* what, int error) {
  std::string message =
      absl::StrCat("stream spool: cannot ", what, ": ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

void AppendHeader(std::string* out, Lsn lsn, uint32_t size) {
  char header[kHeaderBytes];
  std::memcpy(header, &lsn, sizeof(lsn));
  std::memcpy(header + sizeof(lsn), &size, sizeof(size));
  out->append(header, kHeaderBytes);
}

}  // namespace

SpooledTxn::~SpooledTxn() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status SpooledTxn::Append(pg::TransactionId subxid, Lsn lsn,
                                std::string_view payload) {
  if (payload.size() > UINT32_MAX) {
    return absl::InvalidArgumentError("stream spool: message over 4 GiB");
  }
  if (subxid != xid_ && (subxacts_.empty() || subxacts_.back().xid != subxid) &&
      subxact_ids_.insert(subxid).second) {
    subxacts_.push_back({subxid, bytes(), messages_});
  }
  const auto size = static_cast<uint32_t>(payload.size());
  if (file_ == nullptr) {
    AppendHeader(&memory_, lsn, size);
    memory_.append(payload);
  } else {
    std::string header;
    AppendHeader(&header, lsn, size);
    if (std::fwrite(header.data(), 1, header.size(), file_) != header.size() ||
        std::fwrite(payload.data(), 1, payload.size(), file_) !=
            payload.size()) {
      return IoError("write a spill file", errno);
    }
    file_bytes_ += kHeaderBytes + payload.size();
  }
  ++messages_;
  return absl::OkStatus();
}

// Creates a file in `directory` and unlinks it at once: the data lives as
// long as the descriptor, and a crash leaves nothing behind.
static absl::StatusOr<int> CreateUnlinkedFile(const std::string& directory,
                                              pg::TransactionId xid) {
  std::string path = absl::StrCat(directory, "/pgcdc-stream-", xid, "-XXXXXX");
  int fd = mkstemp(path.data());
  if (fd < 0) {
    return IoError(absl::StrCat("create a spill file in ", directory).c_str(),
                   errno);
  }
  unlink(path.c_str());
  return fd;
}

absl::Status SpooledTxn::Spill(const std::string& directory) {
  absl::StatusOr<int> created = CreateUnlinkedFile(directory, xid_);
  if (!created.ok()) return created.status();
  const int fd = *created;
  file_ = fdopen(fd, "w+b");
  if (file_ == nullptr) {
    int error = errno;
    close(fd);
    return IoError("open a spill file", error);
  }
  std::setvbuf(file_, nullptr, _IOFBF, kFileBufferBytes);
  if (std::fwrite(memory_.data(), 1, memory_.size(), file_) != memory_.size()) {
    return IoError("write a spill file", errno);
  }
  file_bytes_ = memory_.size();
  std::string().swap(memory_);  // give the memory back
  return absl::OkStatus();
}

absl::Status SpooledTxn::Truncate(Subxact at) {
  if (file_ == nullptr) {
    memory_.resize(at.offset);
  } else {
    if (std::fflush(file_) != 0 ||
        ftruncate(fileno(file_), static_cast<off_t>(at.offset)) != 0 ||
        fseeko(file_, static_cast<off_t>(at.offset), SEEK_SET) != 0) {
      return IoError("truncate a spill file", errno);
    }
    file_bytes_ = at.offset;
  }
  messages_ = at.count;
  while (!subxacts_.empty() && subxacts_.back().offset >= at.offset) {
    subxact_ids_.erase(subxacts_.back().xid);
    subxacts_.pop_back();
  }
  return absl::OkStatus();
}

absl::Status SpooledTxn::StartReading() {
  read_offset_ = 0;
  if (file_ != nullptr &&
      (std::fflush(file_) != 0 || fseeko(file_, 0, SEEK_SET) != 0)) {
    return IoError("rewind a spill file", errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SpooledTxn::Entry>> SpooledTxn::Next() {
  if (read_offset_ >= bytes()) return std::nullopt;
  Lsn lsn;
  uint32_t size;
  std::string_view payload;
  if (file_ == nullptr) {
    if (memory_.size() - read_offset_ < kHeaderBytes) {
      return absl::DataLossError("stream spool: record header cut short");
    }
    std::memcpy(&lsn, memory_.data() + read_offset_, sizeof(lsn));
    std::memcpy(&size, memory_.data() + read_offset_ + sizeof(lsn),
                sizeof(size));
    if (memory_.size() - read_offset_ - kHeaderBytes < size) {
      return absl::DataLossError("stream spool: record cut short");
    }
    payload =
        std::string_view(memory_).substr(read_offset_ + kHeaderBytes, size);
  } else {
    char header[kHeaderBytes];
    if (std::fread(header, 1, kHeaderBytes, file_) != kHeaderBytes) {
      if (std::ferror(file_)) return IoError("read a spill file", errno);
      return absl::DataLossError("stream spool: spill file cut short");
    }
    std::memcpy(&lsn, header, sizeof(lsn));
    std::memcpy(&size, header + sizeof(lsn), sizeof(size));
    read_buffer_.resize(size);
    if (std::fread(read_buffer_.data(), 1, size, file_) != size) {
      if (std::ferror(file_)) return IoError("read a spill file", errno);
      return absl::DataLossError("stream spool: spill file cut short");
    }
    payload = read_buffer_;
  }
  read_offset_ += kHeaderBytes + size;
  return Entry{lsn, payload};
}

StreamSpool::StreamSpool(Options options) : options_(std::move(options)) {}

std::string StreamSpool::Directory(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

StreamSpool::~StreamSpool() = default;

absl::Status StreamSpool::CheckDirectory() const {
  absl::StatusOr<int> fd = CreateUnlinkedFile(options_.directory, 0);
  if (!fd.ok()) return fd.status();
  close(*fd);
  return absl::OkStatus();
}

absl::Status StreamSpool::Append(pg::TransactionId xid,
                                 pg::TransactionId subxid, Lsn lsn,
                                 std::string_view payload) {
  std::unique_ptr<SpooledTxn>& txn = txns_[xid];
  if (txn == nullptr) txn.reset(new SpooledTxn(xid));
  const bool in_memory = !txn->spilled();
  const size_t before = txn->bytes();
  absl::Status s = txn->Append(subxid, lsn, payload);
  if (in_memory) {
    memory_bytes_ += txn->bytes() - before;
  } else {
    spilled_total_ += txn->bytes() - before;
  }
  if (!s.ok()) return s;
  return EnforceBudget();
}

absl::Status StreamSpool::EnforceBudget() {
  while (memory_bytes_ > options_.memory_budget) {
    SpooledTxn* largest = nullptr;
    for (auto& [xid, txn] : txns_) {
      if (!txn->spilled() &&
          (largest == nullptr || txn->bytes() > largest->bytes())) {
        largest = txn.get();
      }
    }
    if (largest == nullptr) break;
    const size_t moved = largest->bytes();
    CDC_RETURN_IF_ERROR(largest->Spill(options_.directory));
    memory_bytes_ -= moved;
    spilled_total_ += moved;
  }
  return absl::OkStatus();
}

absl::Status StreamSpool::Abort(pg::TransactionId xid,
                                pg::TransactionId subxid) {
  auto it = txns_.find(xid);
  if (it == txns_.end()) return absl::OkStatus();
  SpooledTxn& txn = *it->second;
  if (subxid == xid) {
    if (!txn.spilled()) memory_bytes_ -= txn.bytes();
    txns_.erase(it);
    return absl::OkStatus();
  }
  for (const SpooledTxn::Subxact& sub : txn.subxacts_) {
    if (sub.xid != subxid) continue;
    const size_t before = txn.bytes();
    absl::Status s = txn.Truncate(sub);
    if (!txn.spilled()) memory_bytes_ -= before - txn.bytes();
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SpooledTxn>> StreamSpool::Take(
    pg::TransactionId xid) {
  std::unique_ptr<SpooledTxn> txn;
  auto it = txns_.find(xid);
  if (it == txns_.end()) {
    txn.reset(new SpooledTxn(xid));
  } else {
    txn = std::move(it->second);
    txns_.erase(it);
    if (!txn->spilled()) memory_bytes_ -= txn->bytes();
  }
  CDC_RETURN_IF_ERROR(txn->StartReading());
  return txn;
}

size_t StreamSpool::total_bytes() const {
  size_t total = 0;
  for (const auto& [xid, txn] : txns_) total += txn->bytes();
  return total;
}

}  // namespace cdc::pipeline
