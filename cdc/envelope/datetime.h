// Date/time text ↔ numbers, for the forms PostgreSQL prints under pgcdc's
// replication session settings (DateStyle=ISO,YMD, IntervalStyle=iso_8601,
// TimeZone=UTC; see connection.h):
//
//   date         2024-02-29, 4713-01-01 BC, 294276-12-31
//   time         13:45:00, 13:45:00.25, 24:00:00
//   timestamp    2024-02-29 13:45:00.25, 0001-01-01 00:00:00 BC
//   timestamptz  2024-02-29 13:45:00.25+00 (any ±HH[:MM[:SS]] offset is
//                applied, so a session in another zone still reads right)
//   interval     P1Y2M3DT4H5M6.5S, P-1M, PT-0.5S, PT0S
//
// Dates are proleptic Gregorian with year 0 = 1 BC, as PostgreSQL counts.
// The special values 'infinity' and '-infinity' are not numbers and are left
// to the caller. Parsing is strict (only what the server prints);
// anything else is kDataLoss naming the type. The Format* functions print
// exactly what the server would, so that parse → format is the identity.
//
// Pure functions; thread-safe.
#ifndef CDC_ENVELOPE_DATETIME_H_
#define CDC_ENVELOPE_DATETIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdc::envelope {

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC), and
// back.
int64_t DaysFromCivil(int64_t year, int month, int day);
void CivilFromDays(int64_t days, int64_t* year, int* month, int* day);

// date → days since 1970-01-01.
absl::Status ParseDate(std::string_view text, int32_t* days);
// time → microseconds since midnight (0 to 86400000000).
absl::Status ParseTime(std::string_view text, int64_t* micros);
// timestamp → microseconds since 1970-01-01 00:00 of the same wall clock.
// kOutOfRange (not kDataLoss) for a well-formed value that does not fit in
// int64 microseconds since 1970 (after 294247-01-10 04:00:54.775807), which
// the caller keeps as text.
absl::Status ParseTimestamp(std::string_view text, int64_t* micros);
// timestamptz → microseconds since 1970-01-01 00:00 UTC; kOutOfRange as
// above.
absl::Status ParseTimestamptz(std::string_view text, int64_t* micros);

struct IntervalParts {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
};
// interval in IntervalStyle iso_8601.
absl::Status ParseInterval(std::string_view text, IntervalParts* out);

std::string FormatDate(int32_t days);
std::string FormatTime(int64_t micros);
std::string FormatTimestamp(int64_t micros);    // as timestamp prints it
std::string FormatTimestamptz(int64_t micros);  // UTC, "+00" (TimeZone=UTC)
std::string FormatInterval(const IntervalParts& interval);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_DATETIME_H_
