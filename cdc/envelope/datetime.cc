#include "cdc/envelope/datetime.h"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cdc/common/absl_compat.h"
#include "cdc/envelope/text_error.h"

namespace cdc::envelope {
namespace {

constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads between min and max digits (as many as there are, up to max) into
// *out. max stays ≤ 18 so that the value cannot overflow.
bool ReadDigits(std::string_view& s, size_t min, size_t max, int64_t* out) {
  size_t n = 0;
  int64_t value = 0;
  while (n < s.size() && n < max && IsDigit(s[n])) {
    value = value * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min || (n < s.size() && IsDigit(s[n]))) return false;
  s.remove_prefix(n);
  *out = value;
  return true;
}

bool Consume(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

bool IsLeap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// "Y-MM-DD", Y at least four digits as printed (before any " BC"), into the
// printed year (≥ 1), month and day; the day is checked against the month
// once the era is known.
bool ReadYmd(std::string_view& s, int64_t* year, int* month, int* day) {
  int64_t m = 0, d = 0;
  if (!ReadDigits(s, 4, 9, year) || *year < 1 || !Consume(s, '-') ||
      !ReadDigits(s, 2, 2, &m) || !Consume(s, '-') ||
      !ReadDigits(s, 2, 2, &d) || m < 1 || m > 12 || d < 1) {
    return false;
  }
  *month = static_cast<int>(m);
  *day = static_cast<int>(d);
  return true;
}

// Optional ".f" (1 to 6 digits) → microseconds.
bool ReadFraction(std::string_view& s, int64_t* micros) {
  *micros = 0;
  if (!Consume(s, '.')) return true;
  int64_t digits = 0;
  const size_t before = s.size();
  if (!ReadDigits(s, 1, 6, &digits)) return false;
  for (size_t n = before - s.size(); n < 6; ++n) digits *= 10;
  *micros = digits;
  return true;
}

// "HH:MM:SS[.f]" → microseconds since midnight; 24:00:00 only if allowed.
bool ReadHms(std::string_view& s, bool allow_24, int64_t* micros) {
  int64_t h = 0, m = 0, sec = 0, frac = 0;
  if (!ReadDigits(s, 2, 2, &h) || !Consume(s, ':') ||
      !ReadDigits(s, 2, 2, &m) || !Consume(s, ':') ||
      !ReadDigits(s, 2, 2, &sec) || !ReadFraction(s, &frac) || m > 59 ||
      sec > 59) {
    return false;
  }
  if (h > 24 || (h == 24 && (!allow_24 || m != 0 || sec != 0 || frac != 0))) {
    return false;
  }
  *micros =
      h * kMicrosPerHour + m * kMicrosPerMinute + sec * kMicrosPerSecond + frac;
  return true;
}

// Applies the era: printed year Y BC is astronomical year 1 - Y.
bool FinishDate(std::string_view& s, int64_t year, int month, int day,
                int64_t* days) {
  static constexpr std::string_view kBc = " BC";
  if (s.substr(0, kBc.size()) == kBc) {
    s.remove_prefix(kBc.size());
    year = 1 - year;
  }
  if (day > DaysInMonth(year, month)) return false;
  *days = DaysFromCivil(year, month, day);
  return true;
}

// " BC" may follow the time zone in timestamptz, so the era is read last:
// parse "Y-MM-DD HH:MM:SS[.f]" and the optional zone, then the era.
absl::Status ParseTimestampCommon(std::string_view type, std::string_view text,
                                  bool with_zone, int64_t* micros) {
  std::string_view s = text;
  int64_t year = 0, tod = 0;
  int month = 0, day = 0;
  if (!ReadYmd(s, &year, &month, &day) || !Consume(s, ' ') ||
      !ReadHms(s, /*allow_24=*/false, &tod)) {
    return BadText(type, text);
  }
  int64_t offset_seconds = 0;
  if (with_zone) {
    const bool negative = !s.empty() && s[0] == '-';
    if (!Consume(s, '+') && !Consume(s, '-')) return BadText(type, text);
    int64_t h = 0, m = 0, sec = 0;
    if (!ReadDigits(s, 2, 2, &h)) return BadText(type, text);
    if (Consume(s, ':')) {
      if (!ReadDigits(s, 2, 2, &m)) return BadText(type, text);
      if (Consume(s, ':') && !ReadDigits(s, 2, 2, &sec)) {
        return BadText(type, text);
      }
    }
    if (m > 59 || sec > 59) return BadText(type, text);
    offset_seconds = (h * 3600 + m * 60 + sec) * (negative ? -1 : 1);
  }
  int64_t days = 0;
  if (!FinishDate(s, year, month, day, &days) || !s.empty()) {
    return BadText(type, text);
  }
  // local = UTC + offset, so UTC = local - offset.
  int64_t day_micros = 0, result = 0;
  if (__builtin_mul_overflow(days, kMicrosPerDay, &day_micros) ||
      __builtin_add_overflow(day_micros, tod, &result) ||
      __builtin_sub_overflow(result, offset_seconds * kMicrosPerSecond,
                             &result)) {
    return absl::OutOfRangeError(
        absl::StrCat(AsAbsl(type), " value \"", AsAbsl(text),
                     "\" does not fit in int64 microseconds since 1970"));
  }
  *micros = result;
  return absl::OkStatus();
}

// Floor division, for splitting negative microsecond counts into days.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Seconds as PostgreSQL's AppendSeconds prints them: the whole seconds
// (two digits when `pad`), then up to six fraction digits without trailing
// zeros.
void AppendSeconds(int64_t sec, int64_t fsec, bool pad, std::string* out) {
  sec = std::llabs(sec);
  fsec = std::llabs(fsec);
  absl::StrAppend(
      out, pad ? absl::StrFormat("%02d", sec) : absl::StrFormat("%d", sec));
  if (fsec == 0) return;
  std::string digits = absl::StrFormat("%06d", fsec);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  absl::StrAppend(out, ".", digits);
}

void AppendDate(int64_t days, std::string* out, bool* bc) {
  int64_t year = 0;
  int month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  *bc = year <= 0;
  absl::StrAppend(out, absl::StrFormat("%04d-%02d-%02d", *bc ? 1 - year : year,
                                       month, day));
}

void AppendTimeOfDay(int64_t micros, std::string* out) {
  const int64_t h = micros / kMicrosPerHour;
  const int64_t m = micros / kMicrosPerMinute % 60;
  const int64_t s = micros / kMicrosPerSecond % 60;
  absl::StrAppend(out, absl::StrFormat("%02d:%02d:", h, m));
  AppendSeconds(s, micros % kMicrosPerSecond, /*pad=*/true, out);
}

std::string FormatTimestampCommon(int64_t micros, bool with_zone) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  const int64_t tod = micros - days * kMicrosPerDay;
  std::string out;
  bool bc = false;
  AppendDate(days, &out, &bc);
  out.push_back(' ');
  AppendTimeOfDay(tod, &out);
  if (with_zone) out.append("+00");
  if (bc) out.append(" BC");
  return out;
}

void AppendIsoPart(int64_t value, char unit, std::string* out) {
  if (value != 0) absl::StrAppend(out, value, std::string(1, unit));
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days: exact for every
// proleptic Gregorian date, negative years included.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy =
      (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, int* month, int* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2);
}

absl::Status ParseDate(std::string_view text, int32_t* days) {
  std::string_view s = text;
  int64_t year = 0, result = 0;
  int month = 0, day = 0;
  if (!ReadYmd(s, &year, &month, &day) ||
      !FinishDate(s, year, month, day, &result) || !s.empty()) {
    return BadText("date", text);
  }
  if (result < std::numeric_limits<int32_t>::min() ||
      result > std::numeric_limits<int32_t>::max()) {
    return BadText("date", text, "out of range");
  }
  *days = static_cast<int32_t>(result);
  return absl::OkStatus();
}

absl::Status ParseTime(std::string_view text, int64_t* micros) {
  std::string_view s = text;
  if (!ReadHms(s, /*allow_24=*/true, micros) || !s.empty()) {
    return BadText("time", text);
  }
  return absl::OkStatus();
}

absl::Status ParseTimestamp(std::string_view text, int64_t* micros) {
  return ParseTimestampCommon("timestamp", text, /*with_zone=*/false, micros);
}

absl::Status ParseTimestamptz(std::string_view text, int64_t* micros) {
  return ParseTimestampCommon("timestamptz", text, /*with_zone=*/true, micros);
}

absl::Status ParseInterval(std::string_view text, IntervalParts* out) {
  // Units in the order EncodeInterval prints them; each at most once.
  enum Unit { kYear, kMonth, kDay, kHour, kMinute, kSecond };
  std::string_view s = text;
  if (!Consume(s, 'P') || s.empty()) return BadText("interval", text);
  bool in_time = false;
  int next_unit = kYear;
  int64_t months = 0, days = 0, micros = 0;
  while (!s.empty()) {
    if (Consume(s, 'T')) {
      if (in_time || s.empty()) return BadText("interval", text);
      in_time = true;
      next_unit = kHour;
      continue;
    }
    const bool negative = Consume(s, '-');
    int64_t value = 0, fraction = 0;
    if (!ReadDigits(s, 1, 18, &value)) return BadText("interval", text);
    const bool has_fraction = !s.empty() && s[0] == '.';
    if (!ReadFraction(s, &fraction) || s.empty()) {
      return BadText("interval", text);
    }
    const char designator = s[0];
    s.remove_prefix(1);
    int unit = -1;
    if (!in_time) {
      unit = designator == 'Y'   ? kYear
             : designator == 'M' ? kMonth
             : designator == 'D' ? kDay
                                 : -1;
    } else {
      unit = designator == 'H'   ? kHour
             : designator == 'M' ? kMinute
             : designator == 'S' ? kSecond
                                 : -1;
    }
    if (unit < next_unit || (has_fraction && unit != kSecond)) {
      return BadText("interval", text);
    }
    next_unit = unit + 1;
    const int64_t sign = negative ? -1 : 1;
    int64_t scaled = 0;
    bool overflow = false;
    switch (unit) {
      case kYear:
        overflow = __builtin_mul_overflow(value, 12, &scaled) ||
                   __builtin_add_overflow(months, sign * scaled, &months);
        break;
      case kMonth:
        overflow = __builtin_add_overflow(months, sign * value, &months);
        break;
      case kDay:
        days = sign * value;
        break;
      case kHour:
      case kMinute:
      case kSecond: {
        const int64_t per = unit == kHour     ? kMicrosPerHour
                            : unit == kMinute ? kMicrosPerMinute
                                              : kMicrosPerSecond;
        overflow = __builtin_mul_overflow(value, per, &scaled) ||
                   __builtin_add_overflow(scaled, fraction, &scaled) ||
                   __builtin_add_overflow(micros, sign * scaled, &micros);
        break;
      }
    }
    if (overflow) return BadText("interval", text, "out of range");
  }
  if (months < std::numeric_limits<int32_t>::min() ||
      months > std::numeric_limits<int32_t>::max() ||
      days < std::numeric_limits<int32_t>::min() ||
      days > std::numeric_limits<int32_t>::max()) {
    return BadText("interval", text, "out of range");
  }
  out->months = static_cast<int32_t>(months);
  out->days = static_cast<int32_t>(days);
  out->micros = micros;
  return absl::OkStatus();
}

std::string FormatDate(int32_t days) {
  std::string out;
  bool bc = false;
  AppendDate(days, &out, &bc);
  if (bc) out.append(" BC");
  return out;
}

std::string FormatTime(int64_t micros) {
  std::string out;
  AppendTimeOfDay(micros, &out);
  return out;
}

std::string FormatTimestamp(int64_t micros) {
  return FormatTimestampCommon(micros, /*with_zone=*/false);
}

std::string FormatTimestamptz(int64_t micros) {
  return FormatTimestampCommon(micros, /*with_zone=*/true);
}

std::string FormatInterval(const IntervalParts& interval) {
  // As EncodeInterval splits it: C division truncates toward zero, so every
  // part takes the sign of what it came from.
  const int64_t year = interval.months / 12;
  const int64_t mon = interval.months % 12;
  const int64_t mday = interval.days;
  int64_t time = interval.micros;
  const int64_t hour = time / kMicrosPerHour;
  time -= hour * kMicrosPerHour;
  const int64_t min = time / kMicrosPerMinute;
  time -= min * kMicrosPerMinute;
  const int64_t sec = time / kMicrosPerSecond;
  const int64_t fsec = time - sec * kMicrosPerSecond;
  if (year == 0 && mon == 0 && mday == 0 && hour == 0 && min == 0 && sec == 0 &&
      fsec == 0) {
    return "PT0S";
  }
  std::string out = "P";
  AppendIsoPart(year, 'Y', &out);
  AppendIsoPart(mon, 'M', &out);
  AppendIsoPart(mday, 'D', &out);
  if (hour != 0 || min != 0 || sec != 0 || fsec != 0) out.push_back('T');
  AppendIsoPart(hour, 'H', &out);
  AppendIsoPart(min, 'M', &out);
  if (sec != 0 || fsec != 0) {
    if (sec < 0 || fsec < 0) out.push_back('-');
    AppendSeconds(sec, fsec, /*pad=*/false, &out);
    out.push_back('S');
  }
  return out;
}

}  // namespace cdc::envelope
