#include "cdc/common/log.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cdc/common/status_line.h"

namespace cdc {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

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

}  // namespace

void SetMinLogLevel(LogLevel level) { min_level = static_cast<int>(level); }

void Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) < min_level) return;
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " ", LevelName(level), " ", message, "\n");
  // One write per line so that lines from several threads never interleave.
  std::lock_guard<std::mutex> lock(StderrMutex());
  WriteAll(TheStatusLine().Log(line));
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
  std::string fitted = FitToColumns(status, columns > 1 ? columns - 1 : 1);
  std::lock_guard<std::mutex> lock(StderrMutex());
  WriteAll(TheStatusLine().Show(fitted));
}

void ClearStatusLine() {
  if (!StderrIsTerminal()) return;
  std::lock_guard<std::mutex> lock(StderrMutex());
  WriteAll(TheStatusLine().Clear());
}

}  // namespace cdc
