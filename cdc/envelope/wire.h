// The few protobuf wire-format encodings ProtobufEncoder writes by hand
// (varints, and proto3 scalar and string fields): appending to a std::string,
// or writing into a buffer already sized for them.
//
// Proto3's canonical form, as protobuf's own serializer writes it: a scalar
// or string field holding its default (0, false, "") is left out; int64 and
// enum values are varints of their two's complement 64-bit form; a field is
// its key (number << 3 | wire type) followed by its payload. Callers write
// fields in field-number order, as protobuf does, so the bytes are the same.
//
// Stateless free functions: thread-safe.
#ifndef CDC_ENVELOPE_WIRE_H_
#define CDC_ENVELOPE_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace cdc::envelope::wire {

constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

inline size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

inline void PutVarint(uint64_t value, std::string* out) {
  char buffer[10];
  size_t n = 0;
  while (value >= 0x80) {
    buffer[n++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  buffer[n++] = static_cast<char>(value);
  out->append(buffer, n);
}

inline void PutKey(uint32_t field, uint32_t wire_type, std::string* out) {
  PutVarint((field << 3) | wire_type, out);
}

// The key and length of a length-delimited field whose payload follows.
inline void PutLengthHeader(uint32_t field, size_t length, std::string* out) {
  PutKey(field, kLengthDelimited, out);
  PutVarint(length, out);
}

// Size of a length-delimited field (number < 16) with a payload of `length`.
inline size_t LengthDelimitedSize(size_t length) {
  return 1 + VarintSize(length) + length;
}

// uint32, uint64, int64 (cast by the caller), bool and enum fields.
inline void PutUint(uint32_t field, uint64_t value, std::string* out) {
  if (value == 0) return;
  PutKey(field, kVarint, out);
  PutVarint(value, out);
}

// string and bytes fields.
inline void PutString(uint32_t field, absl::string_view value,
                      std::string* out) {
  if (value.empty()) return;
  PutLengthHeader(field, value.size(), out);
  out->append(value.data(), value.size());
}

// The same into a buffer already sized for them: each returns the byte
// after what it wrote. For the hot path, where appending a few bytes at a
// time to a std::string costs more than the bytes.
inline char* WriteVarint(uint64_t value, char* out) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

// PutUint's field.
inline char* WriteUint(uint32_t field, uint64_t value, char* out) {
  if (value == 0) return out;
  out = WriteVarint((field << 3) | kVarint, out);
  return WriteVarint(value, out);
}

inline char* WriteLengthHeader(uint32_t field, size_t length, char* out) {
  out = WriteVarint((field << 3) | kLengthDelimited, out);
  return WriteVarint(length, out);
}

inline char* WriteBytes(absl::string_view bytes, char* out) {
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

// Size of PutUint's output for `value` (field number < 16).
inline size_t UintFieldSize(uint64_t value) {
  return value == 0 ? 0 : 1 + VarintSize(value);
}

}  // namespace cdc::envelope::wire

#endif  // CDC_ENVELOPE_WIRE_H_
