// TableName: a PostgreSQL table as schema and name, verbatim (unquoted, case
// kept), as the configuration lists it and the catalog, the snapshot and the
// topic names use it.
//
// A plain value; thread-compatible.
#ifndef CDC_COMMON_TABLE_NAME_H_
#define CDC_COMMON_TABLE_NAME_H_

#include <string>

namespace cdc {

struct TableName {
  std::string schema;  // "public" when the config gave no schema
  std::string table;
  // "schema.table", unquoted: for logs and keys, not for SQL text.
  std::string Qualified() const { return schema + "." + table; }
  friend bool operator==(const TableName& a, const TableName& b) {
    return a.schema == b.schema && a.table == b.table;
  }
  friend bool operator<(const TableName& a, const TableName& b) {
    return a.schema != b.schema ? a.schema < b.schema : a.table < b.table;
  }
};

}  // namespace cdc

#endif  // CDC_COMMON_TABLE_NAME_H_
