#include "cdc/common/utf8.h"

#include <string>
#include <string_view>

namespace cdc {
namespace {

// Length of the well-formed sequence at p (lead byte >= 0x80), or 0 when
// there is none: table 3-7 of the Unicode Standard, where the second byte's
// range depends on the lead byte so that overlong forms, surrogates and
// code points past U+10FFFF are all refused.
size_t SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = *p;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong below U+0800
    if (lead == 0xED) high = 0x9F;  // surrogates U+D800..U+DFFF
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong below U+10000
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 (overlong ASCII), or F5..FF
  }
  if (static_cast<size_t>(end - p) < length) return 0;  // truncated
  if (p[1] < low || p[1] > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

namespace utf8_internal {

bool IsValidUtf8Tail(const unsigned char* p, const unsigned char* end) {
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const size_t length = SequenceLength(p, end);
    if (length == 0) return false;
    p += length;
  }
  return true;
}

}  // namespace utf8_internal

std::string EscapeBytes(std::string_view bytes, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool cut = bytes.size() > max_bytes;
  if (cut) bytes = bytes.substr(0, max_bytes);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned char* const end = p + bytes.size();
  std::string out;
  out.reserve(bytes.size() + 3);
  while (p < end) {
    const unsigned char c = *p;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++p;
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++p;
    } else if (size_t length = c >= 0x80 ? SequenceLength(p, end) : 0;
               length > 0 && !(c == 0xC2 && p[1] < 0xA0)) {  // not C1
      out.append(reinterpret_cast<const char*>(p), length);
      p += length;
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      ++p;
    }
  }
  if (cut) out.append("...");
  return out;
}

}  // namespace cdc
