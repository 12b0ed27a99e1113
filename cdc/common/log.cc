#include "cdc/common/log.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cdc/common/status_line.h"

namespace cdc {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> json_format{false};

// Serializes writes to stderr with the status line they may have to move.
std::mutex& StderrMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
StatusLine& TheStatusLine() {
  static auto* line = new StatusLine;
  return *line;
}

void WriteAll(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(STDERR_FILENO, bytes.data() + off, bytes.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

// The length of the well-formed UTF-8 sequence of two or more bytes at the
// start of `s` (Unicode's Table 3-7: no overlong forms, no surrogates,
// nothing past U+10FFFF), or 0 when there is none; its code point in *cp.
size_t Utf8Sequence(absl::string_view s, char32_t* cp) {
  auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](size_t i, unsigned char lo = 0x80,
                          unsigned char hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned char b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!continuation(1)) return 0;
    *cp = (char32_t{b0} & 0x1F) << 6 | (byte(1) & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (!continuation(1, lo, hi) || !continuation(2)) return 0;
    *cp = (char32_t{b0} & 0x0F) << 12 | (char32_t{byte(1)} & 0x3F) << 6 |
          (byte(2) & 0x3F);
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!continuation(1, lo, hi) || !continuation(2) || !continuation(3)) {
      return 0;
    }
    *cp = (char32_t{b0} & 0x07) << 18 | (char32_t{byte(1)} & 0x3F) << 12 |
          (char32_t{byte(2)} & 0x3F) << 6 | (byte(3) & 0x3F);
    return 4;
  }
  return 0;
}

// Code points that are valid UTF-8 but must not reach a terminal or log
// viewer as they are: C1 controls, line/paragraph separators, bidi controls.
bool IsEscapedCodePoint(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

const char* JsonLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

// The context fields (keys owned: LogField's is a view), under
// StderrMutex().
using OwnedField = std::pair<std::string, std::string>;
std::vector<OwnedField>& Context() {
  static auto* fields = new std::vector<OwnedField>;
  return *fields;
}

// `text` escaped (EscapeForLog: valid UTF-8 without controls) and quoted as a
// JSON string.
void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : EscapeForLog(text)) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

// `"key":"value"` after a comma.
void AppendJsonField(absl::string_view key, absl::string_view value,
                     std::string* out) {
  out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
  AppendJsonString(value, out);
}

std::string FormatLine(LogLevel level, absl::string_view message,
                       const std::vector<LogField>& fields,
                       const std::vector<OwnedField>& context) {
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  std::string line;
  if (json_format.load(std::memory_order_relaxed)) {
    line = absl::StrCat("{\"time\":\"", time, "\",\"level\":\"",
                        JsonLevelName(level), "\",\"msg\":");
    AppendJsonString(message, &line);
    for (const auto& [key, value] : context) {
      AppendJsonField(key, value, &line);
    }
    for (const LogField& f : fields) AppendJsonField(f.key, f.value, &line);
    line.append("}\n");
    return line;
  }
  return absl::StrCat(time, " ", LevelName(level), " ", EscapeForLog(message),
                      "\n");
}

}  // namespace

std::string EscapeForLog(absl::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back('\\');
      out.push_back(c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t n = c >= 0x80 ? Utf8Sequence(text.substr(i), &cp) : 0;
    if (n == 0) {  // a C0 control, DEL, or a byte of no valid sequence
      out.push_back('\\');
      out.push_back('x');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
      continue;
    }
    if (IsEscapedCodePoint(cp)) {
      out.append("\\u");
      for (int shift = 12; shift >= 0; shift -= 4) {
        out.push_back(kHex[(cp >> shift) & 0xF]);
      }
    } else {
      out.append(text.data() + i, n);
    }
    i += n;
  }
  return out;
}

void SetMinLogLevel(LogLevel level) { min_level = static_cast<int>(level); }

void SetLogFormat(LogFormat format) {
  json_format = format == LogFormat::kJson;
}

void SetLogContext(std::vector<LogField> fields) {
  std::vector<OwnedField> owned;
  for (LogField& f : fields) {
    owned.emplace_back(std::string(f.key), std::move(f.value));
  }
  std::lock_guard<std::mutex> lock(StderrMutex());
  Context() = std::move(owned);
}

bool ParseLogLevel(absl::string_view name, LogLevel* level) {
  // The names are JSON lines' level names.
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                     LogLevel::kError}) {
    if (name == JsonLevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void Log(LogLevel level, absl::string_view message) {
  LogWithFields(level, message, {});
}

void LogWithFields(LogLevel level, absl::string_view message,
                   const std::vector<LogField>& fields) {
  if (static_cast<int>(level) < min_level) return;
  // One write per line so that lines from several threads never interleave.
  std::lock_guard<std::mutex> lock(StderrMutex());
  WriteAll(TheStatusLine().Log(FormatLine(level, message, fields, Context())));
}

bool StderrIsTerminal() {
  static const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return terminal;
}

size_t TerminalColumns() {
  struct winsize size {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 80;
}

void ShowStatusLine(absl::string_view status) {
  if (!StderrIsTerminal()) return;
  // One column short of the width: a line that fills the last column leaves
  // some terminals' cursor on the next line.
  const size_t columns = TerminalColumns();
  std::string fitted =
      FitToColumns(EscapeForLog(status), columns > 1 ? columns - 1 : 1);
  std::lock_guard<std::mutex> lock(StderrMutex());
  WriteAll(TheStatusLine().Show(fitted));
}

void ClearStatusLine() {
  if (!StderrIsTerminal()) return;
  std::lock_guard<std::mutex> lock(StderrMutex());
  WriteAll(TheStatusLine().Clear());
}

}  // namespace cdc
