// Lsn: a PostgreSQL WAL position (XLogRecPtr), with its "X/Y" text form.
//
// A plain value type; thread-compatible.
#ifndef CDC_COMMON_LSN_H_
#define CDC_COMMON_LSN_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdc {

using Lsn = uint64_t;
inline constexpr Lsn kInvalidLsn = 0;

// "16/B374D848" form, as pg_lsn prints it.
std::string FormatLsn(Lsn lsn);
// Parses the "X/Y" form; kInvalidArgument when it is not one.
absl::StatusOr<Lsn> ParseLsn(std::string_view text);

// PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC.
// The conversions saturate at the int64_t limits: a timestamp read from a
// corrupt stream may be anything, and overflowing would be undefined.
inline constexpr int64_t kPostgresEpochOffsetUs = 946684800LL * 1000000LL;
inline int64_t PostgresToUnixMicros(int64_t pg_us) {
  int64_t unix_us;
  if (__builtin_add_overflow(pg_us, kPostgresEpochOffsetUs, &unix_us)) {
    return std::numeric_limits<int64_t>::max();
  }
  return unix_us;
}
inline int64_t UnixToPostgresMicros(int64_t unix_us) {
  int64_t pg_us;
  if (__builtin_sub_overflow(unix_us, kPostgresEpochOffsetUs, &pg_us)) {
    return std::numeric_limits<int64_t>::min();
  }
  return pg_us;
}

}  // namespace cdc

#endif  // CDC_COMMON_LSN_H_
