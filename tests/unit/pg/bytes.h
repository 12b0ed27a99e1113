// Test helper: a byte string written as a list of byte values, for wire
// formats spelled out byte by byte in the tests.
#ifndef TESTS_UNIT_PG_BYTES_H_
#define TESTS_UNIT_PG_BYTES_H_

#include <initializer_list>
#include <string>

namespace cdc::pg {

inline std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

}  // namespace cdc::pg

#endif  // TESTS_UNIT_PG_BYTES_H_
