// The COPY ... TO STDOUT statement that reads a table's rows for a snapshot:
// built in one place for the initial snapshot (snapshotter.h) and the
// incremental snapshot's chunks (chunk_reader.h), so that both read a table
// the same way — through the root of a partitioned table, as it is
// published, and without the inheritance children of any other table,
// which are not published with it.
//
// Pure: identifiers are quoted by the caller's `quote_identifier` (the
// connection's PQescapeIdentifier), so the text is built without libpq.
// Stateless; thread-safe.
#ifndef CDC_PG_COPY_QUERY_H_
#define CDC_PG_COPY_QUERY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cdc/common/table_name.h"
#include "cdc/pg/pgoutput.h"

namespace cdc::pg {

// What to read: COPY (SELECT columns FROM [ONLY] table [WHERE conditions]
// [ORDER BY order_by] [LIMIT limit]) TO STDOUT.
struct CopySelect {
  TableName table;
  bool partitioned = false;             // read through the root: no ONLY
  std::vector<RelationColumn> columns;  // selected by name, in this order
  // SQL text, each a whole condition, joined with AND. The caller makes
  // them safe (quoted literals, a checked row filter).
  std::vector<std::string> conditions;
  std::vector<std::string> order_by;  // column names, unquoted
  std::optional<uint64_t> limit;
};

using QuoteIdentifierFn = std::function<std::string(std::string_view)>;

// A publication's row filter (pg_publication_tables.rowfilter, an
// expression the server deparsed) as one of CopySelect's conditions:
// "(filter)"; empty when there is none, every row being published.
std::string PublishedRowsCondition(std::string_view row_filter);

// The statement for `select`, every identifier through `quote_identifier`.
std::string CopyQuery(const CopySelect& select,
                      const QuoteIdentifierFn& quote_identifier);

}  // namespace cdc::pg

#endif  // CDC_PG_COPY_QUERY_H_
