// CopyText: one row of `COPY ... TO STDOUT` in PostgreSQL's text format,
// parsed into the TupleData that pgoutput would send for the same row.
//
// The snapshot reads tables with COPY and the stream with pgoutput; both end
// in each column's output function, run under the same session settings
// (kReplicationSessionOptions), so after COPY's escaping is undone a value's
// text is byte for byte what a streamed change carries, and the envelope
// builder maps both the same way.
//
// The format (PostgreSQL docs, "COPY", File Formats, Text Format): columns
// separated by a tab, the row ended by a newline; a column that is exactly
// \N is NULL; a backslash escapes: \b \f \n \r \t \v (the control
// characters), \\ (a backslash), \digits (1-3 octal digits: that byte),
// \xh or \xhh (1-2 hex digits: that byte), and \ before any other character
// stands for that character. COPY TO itself only writes \b \f \n \r \t \v
// \\ and \N, but the rest is accepted as COPY FROM accepts it.
//
// Pure; no state. A row that breaks the format is kDataLoss naming what was
// expected and where.
#ifndef CDC_PG_COPY_TEXT_H_
#define CDC_PG_COPY_TEXT_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "cdc/pg/pgoutput.h"

namespace cdc::pg {

// Parses `row` (one CopyData message of a text-format COPY OUT: one row, its
// final newline optional) into exactly `columns` values of kind kText or
// kNull. `out` is overwritten; its vectors are reused, so passing the same
// TupleData for each row avoids allocating per row.
absl::Status ParseCopyTextRow(std::string_view row, size_t columns,
                              TupleData* out);

}  // namespace cdc::pg

#endif  // CDC_PG_COPY_TEXT_H_
