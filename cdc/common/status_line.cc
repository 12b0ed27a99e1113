#include "cdc/common/status_line.h"

#include "absl/strings/str_cat.h"

namespace cdc {
namespace {

// Back to the line's start, then clear to its end.
constexpr absl::string_view kClearLine = "\r\x1b[K";

}  // namespace

std::string StatusLine::Show(absl::string_view status) {
  status_ = std::string(status);
  if (status_.empty()) return std::string(kClearLine);
  // Drawn over the old one before clearing what is left of it, so the line
  // never flickers empty.
  return absl::StrCat("\r", status_, "\x1b[K");
}

std::string StatusLine::Log(absl::string_view log_line) const {
  if (status_.empty()) return std::string(log_line);
  return absl::StrCat(kClearLine, log_line, status_);
}

std::string StatusLine::Clear() {
  if (status_.empty()) return "";
  status_.clear();
  return std::string(kClearLine);
}

std::string FitToColumns(absl::string_view line, size_t columns) {
  std::string out;
  out.reserve(line.size());
  size_t count = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    // A continuation byte belongs to the code point already counted.
    if ((c & 0xC0) == 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (count == columns) break;
    ++count;
    out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  }
  return out;
}

}  // namespace cdc
