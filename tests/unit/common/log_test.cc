// EscapeForLog: what keeps text from the WAL, the server or a signal from
// forging log lines or driving the terminal that shows them.
#include "cdc/common/log.h"

#include <gtest/gtest.h>

#include <string>

namespace cdc {
namespace {

TEST(EscapeForLogTest, PrintableAsciiIsKept) {
  EXPECT_EQ(EscapeForLog(""), "");
  EXPECT_EQ(EscapeForLog("table public.t: 3 rows \"x\" 'y' 100% a\\b"),
            "table public.t: 3 rows \"x\" 'y' 100% a\\b");
}

TEST(EscapeForLogTest, NewlinesCannotForgeALine) {
  EXPECT_EQ(EscapeForLog("a\n2026-01-01T00:00:00.000Z ERROR forged"),
            "a\\n2026-01-01T00:00:00.000Z ERROR forged");
  EXPECT_EQ(EscapeForLog("a\rb"), "a\\rb");
  EXPECT_EQ(EscapeForLog("a\r\nb"), "a\\r\\nb");
  EXPECT_EQ(EscapeForLog("a\tb"), "a\\tb");
}

TEST(EscapeForLogTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(EscapeForLog("\x1b[2J"), "\\x1b[2J");  // clear screen
  EXPECT_EQ(EscapeForLog("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(EscapeForLog(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForLog("\x01\x08\x0b\x0c\x1f"), "\\x01\\x08\\x0b\\x0c\\x1f");
  EXPECT_EQ(EscapeForLog("del\x7f"), "del\\x7f");
}

TEST(EscapeForLogTest, C1ControlsInUtf8AreEscaped) {
  // U+009B is CSI, which some terminals obey like ESC [.
  EXPECT_EQ(EscapeForLog("\xc2\x9b"
                         "2J"),
            "\\u009b2J");
  EXPECT_EQ(EscapeForLog("\xc2\x80\xc2\x85\xc2\x9f"), "\\u0080\\u0085\\u009f");
  // Line and paragraph separators, bidi overrides and isolates.
  EXPECT_EQ(EscapeForLog("\xe2\x80\xa8\xe2\x80\xa9"), "\\u2028\\u2029");
  EXPECT_EQ(EscapeForLog("\xe2\x80\xae"
                         "cba"),
            "\\u202ecba");
  EXPECT_EQ(EscapeForLog("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
}

TEST(EscapeForLogTest, ValidMultibyteUtf8IsKept) {
  const std::string text =
      "caf\xc3\xa9 \xce\xb1\xce\xb2 \xe6\x97\xa5\xe6\x9c\xac "
      "\xf0\x9f\x90\x98 \xc2\xa0 \xef\xbf\xbd \xf4\x8f\xbf\xbf";
  EXPECT_EQ(EscapeForLog(text), text);
}

TEST(EscapeForLogTest, InvalidUtf8BytesAreEscapedOneByOne) {
  EXPECT_EQ(EscapeForLog("\x9b"), "\\x9b");           // a lone C1 byte
  EXPECT_EQ(EscapeForLog("a\x80z"), "a\\x80z");       // stray continuation
  EXPECT_EQ(EscapeForLog("\xc3"), "\\xc3");           // truncated at the end
  EXPECT_EQ(EscapeForLog("\xc3("), "\\xc3(");         // truncated inside
  EXPECT_EQ(EscapeForLog("\xc0\xaf"), "\\xc0\\xaf");  // overlong '/'
  EXPECT_EQ(EscapeForLog("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
  EXPECT_EQ(EscapeForLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(EscapeForLog("\xf4\x90\x80\x80"),
            "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(EscapeForLog("\xff\xfe"), "\\xff\\xfe");
  // A bad byte does not swallow the valid character after it.
  EXPECT_EQ(EscapeForLog("\xe6\x97\xc3\xa9"), "\\xe6\\x97\xc3\xa9");
}

TEST(EscapeForLogTest, EscapedTextIsOneLineOfPrintableUtf8) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  const std::string escaped = EscapeForLog(every_byte + every_byte);
  for (char ch : escaped) {
    const unsigned char c = static_cast<unsigned char>(ch);
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace cdc
