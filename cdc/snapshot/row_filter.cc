#include "cdc/snapshot/row_filter.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc::snapshot {
namespace {

absl::Status Refuse(std::string_view why, size_t at) {
  return absl::InvalidArgumentError(
      absl::StrCat("the row filter ", AsAbsl(why), " (at byte ", at + 1,
                   "); it must be one condition on the table's columns"));
}

}  // namespace

// The lexer is deliberately narrower than PostgreSQL's, so that it can never
// think itself inside a constant where the server is not:
//   - dollar quotes are refused (with every `$` outside constants): whether
//     `$x$` opens one depends on how the token before it ends (`1.5e3$x$`
//     does, `a$x$` does not);
//   - a quote after an odd run of backslashes inside a string constant is
//     refused: E'\'' continues the constant where '\'' ends it, and telling
//     E'' from an identifier ending in E takes the same knowledge.
// Everything else is lexed as the server does: '' inside a string constant,
// "" inside a quoted identifier, -- to the end of the line, /* */ nested.
absl::Status CheckRowFilter(std::string_view f) {
  if (f.size() > kMaxRowFilterBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the row filter is longer than ", kMaxRowFilterBytes, " bytes"));
  }
  std::vector<char> open;  // '(' and '[' not yet closed
  const size_t n = f.size();
  size_t i = 0;
  while (i < n) {
    const char c = f[i];
    if (c == '\0') return Refuse("holds a NUL byte", i);
    if (c == ';') return Refuse("holds a \";\"", i);
    if (c == '$') {
      return Refuse("holds a \"$\" (no parameters or dollar quotes)", i);
    }
    if (c == '-' && i + 1 < n && f[i + 1] == '-') {
      while (i < n && f[i] != '\n' && f[i] != '\r') {
        if (f[i] == '\0') return Refuse("holds a NUL byte", i);
        ++i;
      }
      continue;
    }
    if (c == '/' && i + 1 < n && f[i + 1] == '*') {
      const size_t start = i;
      int depth = 0;
      while (i < n) {
        if (f[i] == '\0') return Refuse("holds a NUL byte", i);
        if (f[i] == '/' && i + 1 < n && f[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (f[i] == '*' && i + 1 < n && f[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
      if (depth != 0) return Refuse("leaves a /* comment open", start);
      continue;
    }
    if (c == '\'' || c == '"') {
      const size_t start = i++;
      size_t backslashes = 0;
      bool closed = false;
      while (i < n) {
        const char d = f[i];
        if (d == '\0') return Refuse("holds a NUL byte", i);
        if (d == c) {
          if (c == '\'' && backslashes % 2 == 1) {
            return Refuse(
                "has a quote after a backslash in a string constant (write "
                "'' for a quote)",
                i);
          }
          if (i + 1 < n && f[i + 1] == c) {  // doubled: part of it
            i += 2;
            backslashes = 0;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        backslashes = d == '\\' ? backslashes + 1 : 0;
        ++i;
      }
      if (!closed) {
        return Refuse(c == '\'' ? "leaves a string constant open"
                                : "leaves a quoted identifier open",
                      start);
      }
      continue;
    }
    if (c == '(' || c == '[') {
      open.push_back(c);
    } else if (c == ')' || c == ']') {
      if (open.empty() || open.back() != (c == ')' ? '(' : '[')) {
        return Refuse(absl::StrCat("closes a \"", std::string(1, c),
                                   "\" it did not open"),
                      i);
      }
      open.pop_back();
    }
    ++i;
  }
  if (!open.empty()) {
    return Refuse(
        absl::StrCat("leaves a \"", std::string(1, open.back()), "\" open"),
        n - 1);
  }
  return absl::OkStatus();
}

std::string RowFilterCondition(std::string_view filter) {
  return absl::StrCat("(", AsAbsl(filter), "\n)");
}

}  // namespace cdc::snapshot
