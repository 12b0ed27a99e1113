// Row filters: the `where` of a snapshot request, a SQL condition that pgcdc
// splices into `SELECT ... FROM t WHERE (<filter>) ...`.
//
// A filter may only ever filter rows of that table. Text is spliced into SQL
// here, so CheckRowFilter makes sure it stays inside its parentheses: it
// lexes the filter (string constants, quoted identifiers, comments) and
// refuses one that closes a parenthesis or bracket it did not open, leaves
// one open or a constant, identifier or comment unterminated, or holds a
// `;`, a `$` or a NUL; where PostgreSQL's lexer needs more context than a
// filter gives (dollar quotes, a backslash before a quote), it refuses
// rather than guesses. What stays inside the parentheses is an expression;
// the rest is the server's to refuse (the statement runs through the
// extended protocol, one statement only, READ ONLY, with a
// statement_timeout, on a session of its own).
//
// Pure; thread-safe.
#ifndef CDC_SNAPSHOT_ROW_FILTER_H_
#define CDC_SNAPSHOT_ROW_FILTER_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdc::snapshot {

// The longest filter accepted, in bytes.
inline constexpr size_t kMaxRowFilterBytes = 4096;

// OK for an empty filter (no condition) or one that cannot leave its
// parentheses; kInvalidArgument saying why otherwise.
absl::Status CheckRowFilter(std::string_view filter);

// The filter as a parenthesized condition to splice after WHERE. The newline
// before the closing parenthesis ends a trailing -- comment, which would
// otherwise swallow what follows. Call only on a filter CheckRowFilter
// accepted.
std::string RowFilterCondition(std::string_view filter);

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_ROW_FILTER_H_
