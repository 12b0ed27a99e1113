// Log: one line per event on stderr, "2026-11-23T01:02:03.456Z INFO message".
//
// Deliberately tiny: pgcdc logs state changes and errors, never per-event
// data, and never a DSN or password (callers pass only what is safe).
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
#include <string_view>

#include "absl/strings/str_cat.h"

namespace cdc {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void SetMinLogLevel(LogLevel level);
void Log(LogLevel level, absl::string_view message);

// Whether stderr is a terminal (asked once), i.e. whether a status line
// shows.
bool StderrIsTerminal();
// The terminal's width in columns, asked each call (it may be resized); 80
// when it cannot be told.
size_t TerminalColumns();
// Replaces the status line with `status`, cut to the terminal's width.
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
