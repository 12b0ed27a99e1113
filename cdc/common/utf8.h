// UTF-8 validation, and escaping of untrusted bytes for error messages.
//
// Why pgcdc validates: a proto3 `string` must hold UTF-8, or protobuf
// refuses to parse the message, so a consumer could not read an event that
// carried anything else. PostgreSQL hands pgcdc UTF-8 (the sessions run
// with client_encoding UTF8) except in a SQL_ASCII database, where the
// server converts nothing and a value or name may hold any bytes at all.
//
// IsValidUtf8 accepts exactly the well-formed sequences of the Unicode
// Standard (chapter 3, table 3-7): no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or stray
// continuation bytes. U+0000 is valid, as protobuf has it. Text is nearly
// always ASCII, so the check looks at 16 bytes at a time (what is left of
// a short string in two overlapping words) until it meets a byte with the
// high bit set, and only then decodes sequence by sequence.
//
// Pure functions; thread-safe.
#ifndef CDC_COMMON_UTF8_H_
#define CDC_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cdc {

namespace utf8_internal {
// Validates [p, end) sequence by sequence.
bool IsValidUtf8Tail(const unsigned char* p, const unsigned char* end);
}  // namespace utf8_internal

inline bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = p + text.size();
  constexpr uint64_t kHigh8 = 0x8080808080808080ull;
  constexpr uint32_t kHigh4 = 0x80808080u;
  uint64_t a, b;
  while (end - p >= 16) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    if (((a | b) & kHigh8) != 0) break;
    p += 16;
  }
  // Fewer than 16 bytes left (or a block with a high bit): two overlapping
  // loads cover what is left of a short string without a loop.
  const size_t left = static_cast<size_t>(end - p);
  if (left >= 8 && left < 16) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, end - 8, 8);
    if (((a | b) & kHigh8) == 0) return true;
  } else if (left >= 4 && left < 8) {
    uint32_t c, d;
    std::memcpy(&c, p, 4);
    std::memcpy(&d, end - 4, 4);
    if (((c | d) & kHigh4) == 0) return true;
  } else if (left < 4) {
    while (p < end && *p < 0x80) ++p;
    if (p == end) return true;
  }
  return utf8_internal::IsValidUtf8Tail(p, end);
}

// `bytes` quoted for an error message or a log line: printable ASCII and
// well-formed UTF-8 as they are; '"' and '\' escaped with a backslash;
// every other byte (C0 and C1 controls, DEL, bytes of no well-formed
// sequence) as \xNN. At most `max_bytes` of the input are shown, then "...".
// The result is always valid UTF-8 and holds no control characters.
std::string EscapeBytes(std::string_view bytes, size_t max_bytes = 64);

}  // namespace cdc

#endif  // CDC_COMMON_UTF8_H_
