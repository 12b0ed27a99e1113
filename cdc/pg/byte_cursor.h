// ByteCursor and ByteWriter: the big-endian ("network order") integers,
// NUL-terminated strings and counted byte runs that PostgreSQL's wire
// protocols are made of.
//
// ByteCursor reads from a std::string_view it does not own; the bytes must
// outlive the cursor and every string_view it returns. Every read is
// bounds-checked: running off the end is kDataLoss naming the field the caller
// was reading (e.g. "Begin.final_lsn") and the offset, and leaves the cursor
// where it was. The success path is inline and allocation-free because it is
// run several times per decoded row; only building an error is out of line.
//
// ByteWriter appends to a std::string it does not own.
//
// Thread-compatible: one cursor or writer per thread.
#ifndef CDC_PG_BYTE_CURSOR_H_
#define CDC_PG_BYTE_CURSOR_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/status_macros.h"

namespace cdc::pg {

class ByteCursor {
 public:
  explicit ByteCursor(std::string_view bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return pos_ == bytes_.size(); }
  // The unread bytes, without consuming them.
  std::string_view rest() const { return bytes_.substr(pos_); }

  absl::StatusOr<uint8_t> ReadU8(std::string_view field) {
    if (ABSL_PREDICT_FALSE(remaining() < 1)) return ShortRead(field, 1);
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  absl::StatusOr<uint16_t> ReadU16(std::string_view field) {
    return ReadBigEndian<uint16_t>(field);
  }
  absl::StatusOr<int16_t> ReadI16(std::string_view field) {
    return ReadBigEndian<int16_t>(field);
  }
  absl::StatusOr<uint32_t> ReadU32(std::string_view field) {
    return ReadBigEndian<uint32_t>(field);
  }
  absl::StatusOr<int32_t> ReadI32(std::string_view field) {
    return ReadBigEndian<int32_t>(field);
  }
  absl::StatusOr<uint64_t> ReadU64(std::string_view field) {
    return ReadBigEndian<uint64_t>(field);
  }
  absl::StatusOr<int64_t> ReadI64(std::string_view field) {
    return ReadBigEndian<int64_t>(field);
  }

  // A NUL-terminated string (the protocol's "String"); the result excludes
  // the NUL, which is consumed.
  absl::StatusOr<std::string_view> ReadCString(std::string_view field) {
    if (ABSL_PREDICT_FALSE(empty())) return Unterminated(field);
    const char* begin = bytes_.data() + pos_;
    const void* nul = std::memchr(begin, '\0', remaining());
    if (ABSL_PREDICT_FALSE(nul == nullptr)) return Unterminated(field);
    const size_t length = static_cast<const char*>(nul) - begin;
    pos_ += length + 1;
    return std::string_view(begin, length);
  }

  absl::StatusOr<std::string_view> ReadBytes(size_t n, std::string_view field) {
    if (ABSL_PREDICT_FALSE(remaining() < n)) return ShortRead(field, n);
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  template <typename T>
  absl::StatusOr<T> ReadBigEndian(std::string_view field) {
    if (ABSL_PREDICT_FALSE(remaining() < sizeof(T))) {
      return ShortRead(field, sizeof(T));
    }
    // Byte-wise assembly: no alignment or endianness assumptions, and
    // compilers turn it into a single load plus bswap.
    const auto* p =
        reinterpret_cast<const unsigned char*>(bytes_.data() + pos_);
    uint64_t value = 0;
    for (size_t i = 0; i < sizeof(T); ++i) value = (value << 8) | p[i];
    pos_ += sizeof(T);
    return static_cast<T>(value);
  }

  // Cold paths, out of line so the readers above stay small.
  absl::Status ShortRead(std::string_view field, size_t needed) const;
  absl::Status Unterminated(std::string_view field) const;

  std::string_view bytes_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  // `out` is appended to, never cleared; it must outlive the writer.
  explicit ByteWriter(std::string* out) : out_(out) {}

  void WriteU8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void WriteU16(uint16_t v) { WriteBigEndian(v); }
  void WriteI16(int16_t v) { WriteBigEndian(static_cast<uint16_t>(v)); }
  void WriteU32(uint32_t v) { WriteBigEndian(v); }
  void WriteI32(int32_t v) { WriteBigEndian(static_cast<uint32_t>(v)); }
  void WriteU64(uint64_t v) { WriteBigEndian(v); }
  void WriteI64(int64_t v) { WriteBigEndian(static_cast<uint64_t>(v)); }

  // Writes `s` and a terminating NUL. An embedded NUL would end the string
  // early for the reader, exactly as it would for PostgreSQL.
  void WriteCString(std::string_view s) {
    out_->append(s.data(), s.size());
    out_->push_back('\0');
  }
  void WriteBytes(std::string_view s) { out_->append(s.data(), s.size()); }

 private:
  template <typename T>
  void WriteBigEndian(T v) {
    char buf[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) {
      buf[i] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - i)));
    }
    out_->append(buf, sizeof(T));
  }

  std::string* out_;
};

}  // namespace cdc::pg

#endif  // CDC_PG_BYTE_CURSOR_H_
