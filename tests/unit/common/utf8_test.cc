#include "cdc/common/utf8.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdc {
namespace {

// An independent reading of the definition, for comparison: decode by the
// bit patterns alone, then refuse what decodes to a code point outside the
// sequence length's range (overlong), a surrogate, or one past U+10FFFF.
std::optional<size_t> ReferenceSequence(const std::string& s, size_t at) {
  const auto lead = static_cast<unsigned char>(s[at]);
  size_t length;
  uint32_t cp;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return std::nullopt;
  }
  if (at + length > s.size()) return std::nullopt;
  for (size_t i = 1; i < length; ++i) {
    const auto c = static_cast<unsigned char>(s[at + i]);
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10FFFF) return std::nullopt;
  if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;
  return length;
}

bool ReferenceValid(const std::string& s) {
  for (size_t at = 0; at < s.size();) {
    std::optional<size_t> length = ReferenceSequence(s, at);
    if (!length.has_value()) return false;
    at += *length;
  }
  return true;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(Utf8Test, WellFormedSequences) {
  for (const std::string& s : {
           std::string(),
           std::string("plain ASCII, with \t and \x7f"),
           std::string("\0", 1),       // U+0000 is a character
           Bytes({0xC2, 0x80}),        // U+0080, the first two-byte one
           Bytes({0xDF, 0xBF}),        // U+07FF
           Bytes({0xE0, 0xA0, 0x80}),  // U+0800
           Bytes({0xED, 0x9F, 0xBF}),  // U+D7FF, just below the surrogates
           Bytes({0xEE, 0x80, 0x80}),  // U+E000, just above them
           Bytes({0xEF, 0xBF, 0xBF}),  // U+FFFF
           Bytes({0xF0, 0x90, 0x80, 0x80}),  // U+10000
           Bytes({0xF4, 0x8F, 0xBF, 0xBF}),  // U+10FFFF, the last
           std::string(
               "caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80"),
       }) {
    EXPECT_TRUE(IsValidUtf8(s)) << EscapeBytes(s);
  }
}

TEST(Utf8Test, RefusesOverlongFormsSurrogatesAndWhatIsPastU10FFFF) {
  for (const std::string& s : {
           Bytes({0xC0, 0x80}),              // U+0000 overlong (modified UTF-8)
           Bytes({0xC1, 0xBF}),              // U+007F overlong
           Bytes({0xE0, 0x80, 0x80}),        // U+0000 in three bytes
           Bytes({0xE0, 0x9F, 0xBF}),        // U+07FF in three bytes
           Bytes({0xF0, 0x80, 0x80, 0x80}),  // U+0000 in four bytes
           Bytes({0xF0, 0x8F, 0xBF, 0xBF}),  // U+FFFF in four bytes
           Bytes({0xED, 0xA0, 0x80}),        // U+D800, a high surrogate
           Bytes({0xED, 0xBF, 0xBF}),        // U+DFFF, a low surrogate
           Bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}),  // a CESU-8 pair
           Bytes({0xF4, 0x90, 0x80, 0x80}),              // U+110000
           Bytes({0xF5, 0x80, 0x80, 0x80}),
           Bytes({0xF7, 0xBF, 0xBF, 0xBF}),        // U+1FFFFF
           Bytes({0xF8, 0x88, 0x80, 0x80, 0x80}),  // old five-byte form
           Bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}),
           Bytes({0xFE}),
           Bytes({0xFF}),
       }) {
    EXPECT_FALSE(IsValidUtf8(s)) << EscapeBytes(s);
    EXPECT_FALSE(ReferenceValid(s)) << EscapeBytes(s);
  }
}

TEST(Utf8Test, RefusesTruncatedSequencesAndStrayContinuationBytes) {
  for (const std::string& s : {
           Bytes({0xC3}), Bytes({0xE2, 0x82}), Bytes({0xF0, 0x9F, 0x98}),
           std::string("caf\xe9"),          // Latin-1 é at the end
           std::string("caf\xe9 au lait"),  // ... and followed by ASCII
           std::string("\xe2\x82 euro"), std::string("\xf0\x9f\x98!"),
           Bytes({0x80}), Bytes({0xBF}), std::string("a\x80z"),
           std::string("\xc3\xa9\xa9"),  // one continuation byte too many
       }) {
    EXPECT_FALSE(IsValidUtf8(s)) << EscapeBytes(s);
  }
}

// The 16-byte ASCII steps must not skip anything: one bad (or good) byte at
// every position of strings around the step's width.
TEST(Utf8Test, EveryPositionOfLongStringsIsLookedAt) {
  for (size_t length = 1; length <= 70; ++length) {
    for (size_t at = 0; at < length; ++at) {
      std::string s(length, 'a');
      s[at] = '\xe9';
      EXPECT_FALSE(IsValidUtf8(s)) << length << " " << at;
      s[at] = '\x7f';
      EXPECT_TRUE(IsValidUtf8(s)) << length << " " << at;
      if (at + 1 < length) {
        s[at] = '\xc3';
        s[at + 1] = '\xa9';
        EXPECT_TRUE(IsValidUtf8(s)) << length << " " << at;
        s[at + 1] = 'a';
        EXPECT_FALSE(IsValidUtf8(s)) << length << " " << at;
      }
    }
  }
}

// Every sequence of one or two bytes, every three-byte one that starts with
// a lead byte, and every four-byte one over the bytes that matter (each
// lead, each second byte, continuation bounds and a few outside them),
// against the reference.
TEST(Utf8Test, AgreesWithTheDefinitionExhaustively) {
  for (int a = 0; a < 256; ++a) {
    const std::string one = Bytes({a});
    ASSERT_EQ(IsValidUtf8(one), ReferenceValid(one)) << a;
    for (int b = 0; b < 256; ++b) {
      const std::string two = Bytes({a, b});
      ASSERT_EQ(IsValidUtf8(two), ReferenceValid(two)) << a << " " << b;
      for (int c = 0; a >= 0xC0 && c < 256; ++c) {
        const std::string three = Bytes({a, b, c});
        ASSERT_EQ(IsValidUtf8(three), ReferenceValid(three))
            << a << " " << b << " " << c;
      }
    }
  }
  const std::vector<int> tails = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                  0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
  for (int a = 0xC0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c : tails) {
        for (int d : tails) {
          const std::string four = Bytes({a, b, c, d});
          ASSERT_EQ(IsValidUtf8(four), ReferenceValid(four))
              << a << " " << b << " " << c << " " << d;
          // The same behind 15 ASCII bytes: past the first 16-byte step.
          const std::string behind = std::string(15, 'x') + four;
          ASSERT_EQ(IsValidUtf8(behind), ReferenceValid(behind));
        }
      }
    }
  }
}

TEST(Utf8Test, EscapeBytesKeepsWhatPrintsAndEscapesTheRest) {
  EXPECT_EQ(EscapeBytes("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeBytes("caf\xe9"), "caf\\xe9");
  EXPECT_EQ(EscapeBytes("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(EscapeBytes(std::string("tab\tnl\nnul\0del\x7f", 15)),
            "tab\\x09nl\\x0anul\\x00del\\x7f");
  EXPECT_EQ(EscapeBytes("\xc2\x85"), "\\xc2\\x85");  // U+0085, a C1 control
  EXPECT_EQ(EscapeBytes("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(EscapeBytes(std::string(100, 'x'), 10), "xxxxxxxxxx...");
  // Cut inside a sequence: what is left of it is escaped.
  EXPECT_EQ(EscapeBytes("ab\xc3\xa9", 3), "ab\\xc3...");
  for (int b = 0; b < 256; ++b) {
    const std::string escaped = EscapeBytes(Bytes({b, 0xA9}));
    EXPECT_TRUE(IsValidUtf8(escaped)) << b;
    for (char c : escaped) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  }
}

}  // namespace
}  // namespace cdc
