// StatusLine: a one-line status (e.g. a snapshot's progress) kept as the
// last line of a terminal, redrawn in place, with log lines written above it
// so that neither garbles the other.
//
// Pure: it only says which bytes to write for each event — a new status, a
// log line, clearing — and remembers what is on screen; the caller writes
// them (one write(2) each, see cdc/common/log.h) and decides whether the
// output is a terminal at all. Escapes: "\r" returns to the line's start,
// "\x1b[K" (ANSI EL) clears to its end. A status never ends in a newline and
// must fit the terminal's width (FitToColumns), or the carriage return would
// redraw only its last wrapped part.
//
// Thread-compatible: the caller serializes calls and the writes they return.
#ifndef CDC_COMMON_STATUS_LINE_H_
#define CDC_COMMON_STATUS_LINE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace cdc {

class StatusLine {
 public:
  // The bytes that replace whatever status is shown with `status` (one line,
  // no newline).
  std::string Show(absl::string_view status);
  // The bytes that write `log_line` (ending in a newline) above the status:
  // the status is cleared, the line written, the status drawn again below.
  std::string Log(absl::string_view log_line) const;
  // The bytes that remove the status, leaving the cursor at the start of an
  // empty line; empty when nothing is shown.
  std::string Clear();

  bool shown() const { return !status_.empty(); }

 private:
  std::string status_;
};

// `line` cut to at most `columns` characters (UTF-8 code points; a cut never
// splits one), any control character (a newline, tab or escape that would
// move the cursor) replaced by a space.
std::string FitToColumns(absl::string_view line, size_t columns);

}  // namespace cdc

#endif  // CDC_COMMON_STATUS_LINE_H_
