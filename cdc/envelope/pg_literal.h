// Readers and writers of PostgreSQL's container literals, exactly as the
// server's output functions print them:
//
//   array_out   {1,2,NULL}  {{1,2},{3,4}}  [0:2]={a,"b c","",NULL,"NULL"}
//               {}  {(1,1),(0,0);(2,2),(1,1)} (box arrays split on ';')
//   record_out  (1,,"","a ""b"" \\c")
//
// In an array, an unquoted NULL (any case) is SQL NULL and "NULL" is the
// text; elements with spaces, quotes, backslashes, braces or the delimiter
// are quoted, with \ escaping " and \. In a record, an empty field is NULL
// and "" the empty string; quoted fields double " and \. The element and
// field texts are returned as the element type prints them, for the caller
// to convert by type.
//
// Parsing is strict and never trusts sizes in the text: malformed input
// (unbalanced braces, ragged sub-arrays, bounds that disagree with the
// contents, bad quoting) is kDataLoss naming `type`.
//
// Pure functions; thread-safe.
#ifndef CDC_ENVELOPE_PG_LITERAL_H_
#define CDC_ENVELOPE_PG_LITERAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace cdc::envelope {

struct ArrayLiteral {
  std::vector<int32_t> dims;          // empty for an empty array
  std::vector<int32_t> lower_bounds;  // parallel to dims; 1 unless decorated
  // Row-major (last subscript fastest); nullopt: NULL element.
  std::vector<std::optional<std::string>> elements;
};

// `type` names the array type in errors; `delimiter` is the element type's
// typdelim.
absl::Status ParseArrayLiteral(std::string_view type, std::string_view text,
                               char delimiter, ArrayLiteral* out);

// The fields of a record literal; nullopt: NULL field.
absl::Status ParseRecordLiteral(
    std::string_view type, std::string_view text,
    std::vector<std::optional<std::string>>* fields);

// Writers, the inverse of the readers: one element or field, quoted as the
// server would quote it, appended to `out`.
void AppendArrayElement(std::string_view element, char delimiter,
                        std::string* out);
void AppendRecordField(std::string_view field, std::string* out);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_PG_LITERAL_H_
