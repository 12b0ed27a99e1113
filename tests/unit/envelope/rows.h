// Test helpers: the tuple values, tuples and Relation columns the envelope
// tests write by hand.
#ifndef TESTS_UNIT_ENVELOPE_ROWS_H_
#define TESTS_UNIT_ENVELOPE_ROWS_H_

#include <string>
#include <utility>
#include <vector>

#include "cdc/pg/pgoutput.h"

namespace cdc::envelope {

inline pg::TupleValue T(std::string s) {
  return pg::TupleValue{pg::TupleValue::Kind::kText, std::move(s)};
}
inline pg::TupleValue Null() { return pg::TupleValue{}; }
inline pg::TupleValue Toast() {
  return pg::TupleValue{pg::TupleValue::Kind::kUnchangedToast, ""};
}
inline pg::TupleData Tuple(std::vector<pg::TupleValue> values) {
  return pg::TupleData{std::move(values)};
}

inline pg::RelationColumn Col(std::string name, pg::Oid type,
                              bool key = false) {
  pg::RelationColumn column;
  column.flags = key ? 1 : 0;
  column.name = std::move(name);
  column.type_oid = type;
  return column;
}

}  // namespace cdc::envelope

#endif  // TESTS_UNIT_ENVELOPE_ROWS_H_
