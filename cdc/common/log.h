// Log: one line per event on stderr, "2026-11-23T01:02:03.456Z INFO message".
//
// Deliberately tiny: pgcdc logs state changes and errors, never per-event
// data, and never a DSN or password (callers pass only what is safe).
//
// Thread-safe: each line is written with one write(2).
#ifndef CDC_COMMON_LOG_H_
#define CDC_COMMON_LOG_H_

#include <string_view>

#include "absl/strings/str_cat.h"

namespace cdc {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void SetMinLogLevel(LogLevel level);
void Log(LogLevel level, absl::string_view message);

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
