#include "cdc/pg/copy_query.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cdc::pg {

std::string PublishedRowsCondition(std::string_view row_filter) {
  if (row_filter.empty()) return "";
  std::string condition = "(";
  condition.append(row_filter);
  condition.push_back(')');
  return condition;
}

std::string CopyQuery(const CopySelect& select,
                      const QuoteIdentifierFn& quote_identifier) {
  std::vector<std::string> columns;
  columns.reserve(select.columns.size());
  for (const RelationColumn& c : select.columns) {
    columns.push_back(quote_identifier(c.name));
  }
  std::string sql = absl::StrCat("COPY (SELECT ", absl::StrJoin(columns, ", "),
                                 " FROM ", select.partitioned ? "" : "ONLY ",
                                 quote_identifier(select.table.schema), ".",
                                 quote_identifier(select.table.table));
  if (!select.conditions.empty()) {
    absl::StrAppend(&sql, " WHERE ", absl::StrJoin(select.conditions, " AND "));
  }
  if (!select.order_by.empty()) {
    std::vector<std::string> keys;
    keys.reserve(select.order_by.size());
    for (const std::string& k : select.order_by) {
      keys.push_back(quote_identifier(k));
    }
    absl::StrAppend(&sql, " ORDER BY ", absl::StrJoin(keys, ", "));
  }
  if (select.limit.has_value()) {
    absl::StrAppend(&sql, " LIMIT ", *select.limit);
  }
  absl::StrAppend(&sql, ") TO STDOUT");
  return sql;
}

}  // namespace cdc::pg
