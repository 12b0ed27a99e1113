// Log: one line per event on stderr, as text
//   2026-11-23T01:02:03.456Z INFO message
// or, with SetLogFormat(kJson), as one JSON object per line
//   {"time":"2026-11-23T01:02:03.456Z","level":"info","msg":"message",
//    "slot":"pgcdc","key":"value",...}
// where the context fields (SetLogContext: the slot) come before the line's
// own (LogWithFields: an LSN, rates). A text line's message says what its
// fields would, in words, so text lines carry none.
//
// Deliberately tiny: pgcdc logs state changes and errors, never per-event
// data, and never a DSN or password (callers pass only what is safe).
//
// Every message is escaped (EscapeForLog) before it is written, because
// messages carry text pgcdc does not control: table and column names,
// logical message prefixes and snapshot signals from the WAL, the server's
// and librdkafka's error messages. Escaped, such text cannot forge a log line
// (an embedded newline), drive a terminal (ESC, C1 controls) or leave invalid
// UTF-8 in a log a collector must parse.
//
// When stderr is a terminal a status line (a snapshot's progress) can be
// kept below the log: ShowStatusLine redraws it in place, each log line is
// written above it, and ClearStatusLine removes it. Elsewhere (a file, a
// pipe, journald) those two do nothing, so logs stay plain lines.
//
// Thread-safe: each line is written with one write(2), under a lock shared
// with the status line.
#ifndef CDC_COMMON_LOG_H_
#define CDC_COMMON_LOG_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cdc {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// A line's field: a name (a plain identifier) and its value.
struct LogField {
  absl::string_view key;
  std::string value;
};

void SetMinLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
// Fields every JSON line carries from now on (replacing those set before).
void SetLogContext(std::vector<LogField> fields);
// Writes EscapeForLog(message) as one line.
void Log(LogLevel level, absl::string_view message);
// The same, with fields of its own.
void LogWithFields(LogLevel level, absl::string_view message,
                   const std::vector<LogField>& fields);
// "debug", "info", "warn" or "error" (config.h's log.level); false for
// anything else.
bool ParseLogLevel(absl::string_view name, LogLevel* level);

// `text` made safe to write inside one line of a log or a terminal:
//   - newline, carriage return and tab become \n, \r and \t, every other
//     C0 control and DEL \xNN (e.g. ESC is \x1b);
//   - the C1 controls U+0080..U+009F (which terminals obey as ESC
//     sequences), the line and paragraph separators U+2028/U+2029 and the
//     bidirectional overrides and isolates U+202A..U+202E, U+2066..U+2069
//     (which reorder what a reader sees) become \uNNNN;
//   - each byte that is not part of well-formed UTF-8 (a stray continuation
//     byte, a truncated or overlong sequence, a surrogate, past U+10FFFF)
//     becomes \xNN;
//   - every other character, ASCII or multibyte, stays as it is.
// A backslash is not doubled: the result is for reading, not for undoing
// (an escape and the same text written literally look alike), and messages
// quoting paths, SQL or patterns stay legible. The CLI's own error output
// goes through it too.
std::string EscapeForLog(absl::string_view text);

// Whether stderr is a terminal (asked once), i.e. whether a status line
// shows.
bool StderrIsTerminal();
// The terminal's width in columns, asked each call (it may be resized); 80
// when it cannot be told.
size_t TerminalColumns();
// Replaces the status line with EscapeForLog(status), cut to the terminal's
// width.
void ShowStatusLine(absl::string_view status);
// Removes the status line, if any.
void ClearStatusLine();

template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, absl::StrCat(args...));
}
template <typename... Args>
void LogDebug(const Args&... args) {
  Log(LogLevel::kDebug, absl::StrCat(args...));
}

}  // namespace cdc

#endif  // CDC_COMMON_LOG_H_
