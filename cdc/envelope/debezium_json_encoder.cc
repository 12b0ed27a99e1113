#include "cdc/envelope/debezium_json_encoder.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/envelope/datetime.h"
#include "cdc/envelope/debezium_default.h"
#include "cdc/envelope/debezium_hstore.h"
#include "cdc/envelope/value_codec.h"

// Known differences from Debezium 3.6.1.Final (the test compares six
// captures of the real connector and lists each with the record it shows in):
//   - With provide.transaction.metadata, a transaction's logical messages
//     are each counted under a data collection of their own, as Debezium
//     does, but named LOGICAL_DECODING_MESSAGE where Debezium prints a Java
//     object's identity (debezium_transaction.h).
//   - Generated columns are missing: pgoutput (PostgreSQL 15) does not send
//     them; Debezium reads them from the catalog.
//   - hstore columns are written as Debezium's default
//     hstore.handling.mode=json does, in Java's HashMap order
//     (debezium_hstore.h); hstore.handling.mode=map is not offered. Left
//     out are the types Debezium has no schema for
//     (include.unknown.datatypes=false): composites, geometric types but point,
//     multiranges, arrays of those and of money, name, interval, varbit, xml,
//     bit and domains; PostGIS and pgvector types are not mapped either.
//   - Where Debezium writes garbage or loses values, pgcdc writes the value:
//     multi-dimensional arrays (Debezium: nulls or "[Ljava.lang.String;@…"),
//     a numeric array holding NaN (Debezium: null), a name column streamed
//     (Debezium: null), a BC date read by a snapshot (Debezium: as AD).
//   - Values past what Debezium's arithmetic holds: an infinite date in an
//     array (Debezium: -625821272 for -infinity), a timestamp past int64
//     microseconds (Debezium overflows; pgcdc writes its 'infinity' value).
//     Top-level infinite dates and timestamps are copied (see below).
//   - An unchanged TOASTed array of any element type becomes a one-element
//     array holding the placeholder (seen for text[]).
//   - Enum columns' `allowed` needs pg::TypeInfo::enum_labels, and domain
//     columns' modifiers pg::TypeInfo::domain_typmod, from the catalog
//     reader; column nullability and defaults need TableShape::not_null and
//     default_expr (the defaults as debezium_default.h reads them).
namespace cdc::envelope {
namespace {

using DecimalMode = DebeziumJsonOptions::DecimalMode;
using TimePrecision = DebeziumJsonOptions::TimePrecision;
using BinaryMode = DebeziumJsonOptions::BinaryMode;

// Built-in type OIDs beyond value_codec.h's (pg_type.dat).
constexpr pg::Oid kCharOid = 18;
constexpr pg::Oid kNameOid = 19;
constexpr pg::Oid kTextOid = 25;
constexpr pg::Oid kJsonOid = 114;
constexpr pg::Oid kXmlOid = 142;
constexpr pg::Oid kCidrOid = 650;
constexpr pg::Oid kMacaddr8Oid = 774;
constexpr pg::Oid kMoneyOid = 790;
constexpr pg::Oid kMacaddrOid = 829;
constexpr pg::Oid kInetOid = 869;
constexpr pg::Oid kBpcharOid = 1042;
constexpr pg::Oid kVarcharOid = 1043;
constexpr pg::Oid kPointOid = 600;
constexpr pg::Oid kTimetzOid = 1266;
constexpr pg::Oid kBitOid = 1560;
constexpr pg::Oid kVarbitOid = 1562;
constexpr pg::Oid kUuidOid = 2950;
constexpr pg::Oid kTsvectorOid = 3614;
constexpr pg::Oid kJsonbOid = 3802;
constexpr pg::Oid kInt4rangeOid = 3904;
constexpr pg::Oid kNumrangeOid = 3906;
constexpr pg::Oid kTsrangeOid = 3908;
constexpr pg::Oid kTstzrangeOid = 3910;
constexpr pg::Oid kDaterangeOid = 3912;
constexpr pg::Oid kInt8rangeOid = 3926;

// Built-in array types and their elements, for when no registry is given.
struct BuiltinArray {
  pg::Oid array;
  pg::Oid element;
};
constexpr BuiltinArray kBuiltinArrays[] = {
    {1000, kBoolOid},      {1001, kByteaOid},     {1002, kCharOid},
    {1003, kNameOid},      {1005, kInt2Oid},      {1007, kInt4Oid},
    {1009, kTextOid},      {1014, kBpcharOid},    {1015, kVarcharOid},
    {1016, kInt8Oid},      {1021, kFloat4Oid},    {1022, kFloat8Oid},
    {1028, kOidOid},       {1040, kMacaddrOid},   {1041, kInetOid},
    {651, kCidrOid},       {775, kMacaddr8Oid},   {1182, kDateOid},
    {1183, kTimeOid},      {1115, kTimestampOid}, {1185, kTimestamptzOid},
    {1187, kIntervalOid},  {1231, kNumericOid},   {1270, kTimetzOid},
    {2951, kUuidOid},      {199, kJsonOid},       {3807, kJsonbOid},
    {791, kMoneyOid},      {143, kXmlOid},        {1561, kBitOid},
    {1563, kVarbitOid},    {3905, kInt4rangeOid}, {3907, kNumrangeOid},
    {3909, kTsrangeOid},   {3911, kTstzrangeOid}, {3913, kDaterangeOid},
    {3927, kInt8rangeOid},
};

// How a column's values are written; each writer below says which
// PostgresValueConverter rule it copies.
enum class Writer : uint8_t {
  kDropped,  // no schema in Debezium: the column is left out
  kBool,
  kInt,
  kFloat32,
  kFloat64,
  kDecimal,        // org.apache.kafka.connect.data.Decimal of `scale`
  kVariableScale,  // io.debezium.data.VariableScaleDecimal
  kDecimalDouble,
  kDecimalString,
  kMoney,  // money text as a decimal per decimal mode
  kString,
  kDate,
  kTimeMs,
  kTimeUs,
  kTimestampMs,
  kTimestampUs,
  kZonedTimestamp,
  kZonedTime,
  kMicroDuration,
  kBinary,
  kBits,
  kBitBool,
  kPoint,   // io.debezium.data.geometry.Point
  kHstore,  // io.debezium.data.Json of the map (debezium_hstore.h)
  kArray,
};

// One column's (or array element's) type as Debezium writes it.
struct Spec {
  Writer writer = Writer::kDropped;
  int scale = 0;     // kDecimal, kMoney
  int fraction = 6;  // kZonedTimestamp: fraction digits, <= 0: as needed
  // The schema JSON's parts.
  std::string type;  // "int32", "string", ...
  std::string name;  // "" for none
  int version = 0;   // 0 for none
  std::string doc;   // "" for none
  std::vector<std::pair<std::string, std::string>> parameters;
  std::unique_ptr<Spec> element;  // kArray
  bool element_optional = true;   // kArray: Enum elements are required
};

// ---- JSON text --------------------------------------------------------

// A JSON string as Jackson writes it: '"' and '\\' escaped, control
// characters as short escapes or \u00XX.
void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        static constexpr char kHex[] = "0123456789ABCDEF";
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, 6);
      }
    }
  }
  out->append(text.data() + start, text.size() - start);
  out->push_back('"');
}

// A string as Kafka's Values.append writes an embedded one (the
// SimpleHeaderConverter): only '\\' and '"' escaped.
void AppendHeaderQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '\\' || c == '"') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// Shortest round-trip digits of a finite non-zero value as Java's
// Double/Float.toString prints them: plain from 1e-3 up to 1e7, else
// "d.dddE±n" (Jackson writes floats and doubles this way).
template <typename F>
void AppendJavaFloating(F v, std::string* out) {
  if (v == 0) {
    out->append(std::signbit(v) ? "-0.0" : "0.0");
    return;
  }
  char buf[64];
  auto r =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);
  bool negative = false;
  if (sci.front() == '-') {
    negative = true;
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  if (negative) out->push_back('-');
  if (exponent >= -3 && exponent < 7) {
    if (exponent >= 0) {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out->append(digits);
        out->append(int_digits - digits.size(), '0');
        out->append(".0");
      } else {
        out->append(digits, 0, int_digits);
        out->push_back('.');
        out->append(digits, int_digits, std::string::npos);
      }
    } else {
      out->append("0.");
      out->append(static_cast<size_t>(-exponent - 1), '0');
      out->append(digits);
    }
    return;
  }
  out->push_back(digits[0]);
  out->push_back('.');
  if (digits.size() > 1) {
    out->append(digits, 1, std::string::npos);
  } else {
    out->push_back('0');
  }
  out->push_back('E');
  AppendInt(exponent, out);
}

// A float or double as JsonConverter writes it: non-finite values as the
// strings Jackson quotes them as (QUOTE_NON_NUMERIC_NUMBERS), unquoted in
// header text (Java's toString).
template <typename F>
void AppendFloating(F v, bool header, std::string* out) {
  if (std::isfinite(v)) {
    AppendJavaFloating(v, out);
    return;
  }
  const char* text = std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (header) {
    out->append(text);
  } else {
    out->push_back('"');
    out->append(text);
    out->push_back('"');
  }
}

// ---- Decimals ---------------------------------------------------------

// The sign and digits of PostgreSQL's numeric text, its scale padded or cut
// to `scale` (< 0: kept). False for NaN and the infinities.
bool UnscaledDigits(std::string_view text, int scale, bool* negative,
                    std::string* digits, int* text_scale) {
  digits->clear();
  *negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    *negative = text[0] == '-';
    text.remove_prefix(1);
  }
  int frac = -1;
  for (char c : text) {
    if (c == '.') {
      frac = 0;
    } else if (c >= '0' && c <= '9') {
      digits->push_back(c);
      if (frac >= 0) ++frac;
    } else {
      return false;  // NaN, Infinity
    }
  }
  if (digits->empty()) return false;
  if (frac < 0) frac = 0;
  if (scale >= 0) {
    if (frac < scale) digits->append(static_cast<size_t>(scale - frac), '0');
    if (frac > scale) digits->resize(digits->size() - (frac - scale));
    frac = scale;
  }
  *text_scale = frac;
  // Leading zeros say nothing.
  size_t nz = digits->find_first_not_of('0');
  if (nz == std::string::npos) {
    digits->assign("0");
    *negative = false;
  } else {
    digits->erase(0, nz);
  }
  return true;
}

// BigInteger.toByteArray of the number: big-endian two's complement in the
// fewest bytes that keep the sign.
void TwosComplement(bool negative, const std::string& digits,
                    std::string* out) {
  std::string mag;  // big-endian magnitude
  for (char d : digits) {
    int carry = d - '0';
    for (size_t i = mag.size(); i-- > 0;) {
      const int v = static_cast<unsigned char>(mag[i]) * 10 + carry;
      mag[i] = static_cast<char>(v & 0xFF);
      carry = v >> 8;
    }
    while (carry > 0) {
      mag.insert(mag.begin(), static_cast<char>(carry & 0xFF));
      carry >>= 8;
    }
  }
  if (mag.empty()) mag.push_back('\0');
  out->clear();
  if (!negative) {
    if (static_cast<unsigned char>(mag[0]) & 0x80) out->push_back('\0');
    out->append(mag);
    return;
  }
  // -m = ~m + 1, over one more byte, then the redundant 0xFF dropped.
  std::string twos(mag.size() + 1, '\0');
  for (size_t i = 0; i < mag.size(); ++i) twos[i + 1] = mag[i];
  int carry = 1;
  for (size_t i = twos.size(); i-- > 0;) {
    const int v = (~static_cast<unsigned char>(twos[i]) & 0xFF) + carry;
    twos[i] = static_cast<char>(v & 0xFF);
    carry = v >> 8;
  }
  size_t start = 0;
  while (start + 1 < twos.size() &&
         static_cast<unsigned char>(twos[start]) == 0xFF &&
         (static_cast<unsigned char>(twos[start + 1]) & 0x80)) {
    ++start;
  }
  out->append(twos, start, std::string::npos);
}

// Base64 with padding, standard or URL-safe alphabet (java.util.Base64's
// encoders), quoted.
void AppendBase64(std::string_view bytes, std::string* out,
                  bool url_safe = false) {
  static constexpr char kStandard[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrlSafe[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url_safe ? kUrlSafe : kStandard;
  const size_t start = out->size();
  out->resize(start + 2 + (bytes.size() + 2) / 3 * 4);
  char* p = out->data() + start;
  *p++ = '"';
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    *p++ = alphabet[v >> 18];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = alphabet[(v >> 6) & 63];
    *p++ = alphabet[v & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t v = (in[i] << 16) | (two ? in[i + 1] << 8 : 0);
    *p++ = alphabet[v >> 18];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = two ? alphabet[(v >> 6) & 63] : '=';
    *p++ = '=';
  }
  *p = '"';
}

// BigDecimal.toString: plain unless the exponent is below -6.
void AppendBigDecimalText(bool negative, const std::string& digits, int scale,
                          std::string* out) {
  if (negative) out->push_back('-');
  const int64_t adjusted =
      -static_cast<int64_t>(scale) + static_cast<int64_t>(digits.size()) - 1;
  if (scale == 0) {
    out->append(digits);
  } else if (scale > 0 && adjusted >= -6) {
    const int64_t int_digits = static_cast<int64_t>(digits.size()) - scale;
    if (int_digits > 0) {
      out->append(digits, 0, static_cast<size_t>(int_digits));
      out->push_back('.');
      out->append(digits, static_cast<size_t>(int_digits), std::string::npos);
    } else {
      out->append("0.");
      out->append(static_cast<size_t>(-int_digits), '0');
      out->append(digits);
    }
  } else {
    out->push_back(digits[0]);
    if (digits.size() > 1) {
      out->push_back('.');
      out->append(digits, 1, std::string::npos);
    }
    out->push_back('E');
    if (adjusted >= 0) out->push_back('+');
    AppendInt(adjusted, out);
  }
}

// ---- Dates and times --------------------------------------------------

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void Append2(int v, std::string* out) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

// Fraction digits of `nanos`: exactly `width`, or as few as needed (none
// for 0) when width <= 0, as java.time's formatters print them.
void AppendFraction(int64_t nanos, int width, std::string* out) {
  char digits[9];
  int64_t n = nanos;
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  int count = width;
  if (width <= 0 || width > 9) {
    count = 9;
    while (count > 0 && digits[count - 1] == '0') --count;
  }
  if (count == 0) return;
  out->push_back('.');
  out->append(digits, static_cast<size_t>(count));
}

// ZonedTimestamp.toIsoString of a UTC instant (ISO_OFFSET_DATE_TIME, or
// exactly `width` fraction digits).
void AppendZonedTimestamp(int64_t micros, int width, std::string* out) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  const int64_t of_day = micros - days * kMicrosPerDay;
  int64_t year;
  int month, day;
  CivilFromDays(days, &year, &month, &day);
  out->push_back('"');
  if (year > 9999) {
    out->push_back('+');
    AppendInt(year, out);
  } else {
    int64_t y = year;
    if (y < 0) {
      out->push_back('-');
      y = -y;
    }
    char buf[4] = {static_cast<char>('0' + y / 1000 % 10),
                   static_cast<char>('0' + y / 100 % 10),
                   static_cast<char>('0' + y / 10 % 10),
                   static_cast<char>('0' + y % 10)};
    out->append(buf, 4);
  }
  out->push_back('-');
  Append2(month, out);
  out->push_back('-');
  Append2(day, out);
  out->push_back('T');
  const int64_t secs = of_day / kMicrosPerSecond;
  Append2(static_cast<int>(secs / 3600), out);
  out->push_back(':');
  Append2(static_cast<int>(secs / 60 % 60), out);
  out->push_back(':');
  Append2(static_cast<int>(secs % 60), out);
  AppendFraction((of_day % kMicrosPerSecond) * 1000, width, out);
  out->append("Z\"");
}

// PostgreSQL's timetz text (ISO: "HH:MM:SS[.ffffff]±HH[:MM[:SS]]") as
// ZonedTime writes it: shifted to UTC (PostgresValueConverter.
// convertTimeWithZone), ISO_OFFSET_TIME. False if the text is not that.
bool AppendZonedTime(std::string_view text, std::string* out) {
  size_t sign = text.find_first_of("+-", 1);
  if (sign == std::string_view::npos) return false;
  int64_t local;
  if (!ParseTime(text.substr(0, sign), &local).ok()) return false;
  int parts[3] = {0, 0, 0};
  int n = 0;
  std::string_view off = text.substr(sign + 1);
  while (!off.empty() && n < 3) {
    auto r = std::from_chars(off.data(), off.data() + off.size(), parts[n]);
    if (r.ec != std::errc()) return false;
    ++n;
    off.remove_prefix(static_cast<size_t>(r.ptr - off.data()));
    if (!off.empty() && off.front() == ':') off.remove_prefix(1);
  }
  int64_t offset_us =
      (parts[0] * 3600LL + parts[1] * 60LL + parts[2]) * kMicrosPerSecond;
  if (text[sign] == '-') offset_us = -offset_us;
  int64_t utc = local - offset_us;
  utc = utc - FloorDiv(utc, kMicrosPerDay) * kMicrosPerDay;
  const int64_t secs = utc / kMicrosPerSecond;
  out->push_back('"');
  Append2(static_cast<int>(secs / 3600), out);
  out->push_back(':');
  Append2(static_cast<int>(secs / 60 % 60), out);
  out->push_back(':');
  Append2(static_cast<int>(secs % 60), out);
  AppendFraction((utc % kMicrosPerSecond) * 1000, 0, out);
  out->append("Z\"");
  return true;
}

// What Debezium writes for the infinite dates and timestamps, copied so that
// pgcdc's output compares equal: a date is PostgreSQL's internal day number
// (DATEVAL_NOEND = INT32_MAX, DATEVAL_NOBEGIN = INT32_MIN, days from
// 2000-01-01) moved to 1970 in 32 bits, which overflows for 'infinity'
// (seen: -2147472692); a timestamp is pgjdbc's
// PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY (seen:
// 9223372036825200000).
constexpr int32_t kDateInfinity = static_cast<int32_t>(
    static_cast<uint32_t>(INT32_MAX) + 10957u);  // -2147472692
constexpr int32_t kDateMinusInfinity = INT32_MIN + 10957;
constexpr int64_t kTimestampInfinity = 9223372036825200000LL;
constexpr int64_t kTimestampMinusInfinity = -9223372036832400000LL;

// MicroDuration.durationMicros with DAYS_PER_MONTH_AVG = 30.4375, computed
// in doubles from PGInterval's fields as Debezium does
// (PostgresValueConverter.convertInterval).
int64_t MicroDuration(const v1::Interval& interval) {
  const int64_t us = interval.microseconds();
  const int64_t hours = us / (3600 * kMicrosPerSecond);
  const int64_t minutes = us / (60 * kMicrosPerSecond) % 60;
  const int64_t whole_seconds = us / kMicrosPerSecond % 60;
  const double seconds = static_cast<double>(whole_seconds) +
                         static_cast<double>(us % kMicrosPerSecond) / 1e6;
  const double days = interval.months() * 30.4375 + interval.days();
  const double total = (((days * 24 + static_cast<double>(hours)) * 60) +
                        static_cast<double>(minutes)) *
                           60 +
                       seconds;
  // Java's (long) cast: saturating, NaN to 0 (seen: -178000000 years is
  // Long.MIN_VALUE).
  const double micros = total * 1e6;
  if (std::isnan(micros)) return 0;
  if (micros >= 9223372036854775807.0) return INT64_MAX;
  if (micros <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(micros);
}

// PostgreSQL's point text "(x,y)".
bool ParsePoint(std::string_view text, double xy[2]) {
  if (text.size() < 5 || text.front() != '(' || text.back() != ')') {
    return false;
  }
  std::string inner(text.substr(1, text.size() - 2));
  const size_t comma = inner.find(',');
  if (comma == std::string::npos) return false;
  inner[comma] = '\0';
  char* end = nullptr;
  xy[0] = std::strtod(inner.c_str(), &end);
  if (end != inner.c_str() + comma) return false;
  xy[1] = std::strtod(inner.c_str() + comma + 1, &end);
  return end == inner.c_str() + inner.size();
}

// ---- Specs ------------------------------------------------------------

struct Mapper {
  const DebeziumJsonOptions& options;
  const pg::TypeRegistry* types;

  // The element of a built-in array type, or of a registry-known one.
  pg::Oid ArrayElement(pg::Oid oid) const {
    if (types != nullptr) {
      if (const pg::TypeInfo* info = types->Find(oid);
          info != nullptr && info->array_element != 0) {
        return info->array_element;
      }
    }
    for (const BuiltinArray& a : kBuiltinArrays) {
      if (a.array == oid) return a.element;
    }
    return 0;
  }

  // The modifier a domain (or a domain over it) gives its base type.
  int32_t DomainTypmod(pg::Oid oid) const {
    for (int depth = 0; depth < 16 && types != nullptr; ++depth) {
      const pg::TypeInfo* info = types->Find(oid);
      if (info == nullptr || info->kind != pg::TypeInfo::Kind::kDomain) break;
      if (info->domain_typmod >= 0) return info->domain_typmod;
      oid = info->domain_base;
    }
    return -1;
  }

  static void Named(Spec* spec, std::string type, std::string name,
                    int version = 1) {
    spec->type = std::move(type);
    spec->name = std::move(name);
    spec->version = version;
  }

  void Decimal(Spec* spec, int scale, std::optional<int> precision) const {
    spec->writer = Writer::kDecimal;
    spec->scale = scale;
    Named(spec, "bytes", "org.apache.kafka.connect.data.Decimal");
    spec->parameters.push_back({"scale", absl::StrCat(scale)});
    if (precision.has_value()) {
      spec->parameters.push_back(
          {"connect.decimal.precision", absl::StrCat(*precision)});
    }
  }

  // PostgresValueConverter.schemaBuilder and converter, by type.
  Spec Map(pg::Oid type_oid, int32_t typmod, bool in_array) const {
    Spec spec;
    const pg::Oid oid =
        types != nullptr ? types->ResolveDomain(type_oid) : type_oid;
    // A domain column has no modifier of its own: its base type's
    // (numeric(12,2) under a domain is a Decimal of scale 2, seen).
    if (oid != type_oid && typmod < 0) typmod = DomainTypmod(type_oid);
    // time(p), timestamp(p), timestamptz(p) carry p as their modifier; none
    // means 6 (PostgreSQL's maximum).
    const int precision = typmod >= 0 ? typmod : 6;
    auto string = [&]() {
      spec.writer = Writer::kString;
      spec.type = "string";
    };
    switch (oid) {
      case kBoolOid:
        spec.writer = Writer::kBool;
        spec.type = "boolean";
        return spec;
      case kInt2Oid:
        spec.writer = Writer::kInt;
        spec.type = "int16";
        return spec;
      case kInt4Oid:
        spec.writer = Writer::kInt;
        spec.type = "int32";
        return spec;
      case kInt8Oid:
      case kOidOid:
        spec.writer = Writer::kInt;
        spec.type = "int64";
        return spec;
      case kFloat4Oid:
        spec.writer = Writer::kFloat32;
        spec.type = "float";
        return spec;
      case kFloat8Oid:
        spec.writer = Writer::kFloat64;
        spec.type = "double";
        return spec;
      case kNumericOid: {
        // numericSchema / convertDecimal: PRECISE gives a Decimal of the
        // column's scale, or VariableScaleDecimal when it has none
        // (isVariableScaleDecimal).
        if (options.decimal_mode == DecimalMode::kDouble) {
          spec.writer = Writer::kDecimalDouble;
          spec.type = "double";
        } else if (options.decimal_mode == DecimalMode::kString) {
          spec.writer = Writer::kDecimalString;
          spec.type = "string";
        } else if (typmod < 4) {
          spec.writer = Writer::kVariableScale;
          Named(&spec, "struct", "io.debezium.data.VariableScaleDecimal");
          spec.doc = "Variable scaled decimal";
        } else {
          const int p = ((typmod - 4) >> 16) & 0xFFFF;
          const int s = (typmod - 4) & 0xFFFF;
          Decimal(&spec, s, p);
        }
        return spec;
      }
      case kMoneyOid:
        // moneySchema: Decimal(money.fraction.digits), no precision.
        if (options.decimal_mode == DecimalMode::kDouble) {
          spec.writer = Writer::kMoney;
          spec.type = "double";
        } else if (options.decimal_mode == DecimalMode::kString) {
          spec.writer = Writer::kMoney;
          spec.type = "string";
        } else {
          Decimal(&spec, options.money_fraction_digits, std::nullopt);
          spec.writer = Writer::kMoney;
        }
        return spec;
      case kTextOid:
      case kVarcharOid:
      case kBpcharOid:
      case kCharOid:
      case kNameOid:
      case kInetOid:
      case kCidrOid:
      case kMacaddrOid:
      case kMacaddr8Oid:
      case kInt4rangeOid:
      case kNumrangeOid:
      case kTsrangeOid:
      case kTstzrangeOid:
      case kDaterangeOid:
      case kInt8rangeOid:
        string();
        return spec;
      case kTsvectorOid:
        spec.writer = Writer::kString;
        Named(&spec, "string", "io.debezium.data.Tsvector");
        return spec;
      case kPointOid:
        spec.writer = Writer::kPoint;
        Named(&spec, "struct", "io.debezium.data.geometry.Point");
        spec.doc = "Geometry (POINT)";
        return spec;
      case kJsonOid:
      case kJsonbOid:
        spec.writer = Writer::kString;
        Named(&spec, "string", "io.debezium.data.Json");
        return spec;
      case kXmlOid:
        spec.writer = Writer::kString;
        Named(&spec, "string", "io.debezium.data.Xml");
        return spec;
      case kUuidOid:
        spec.writer = Writer::kString;
        Named(&spec, "string", "io.debezium.data.Uuid");
        return spec;
      case kDateOid:
        spec.writer = Writer::kDate;
        if (options.time_precision == TimePrecision::kConnect) {
          Named(&spec, "int32", "org.apache.kafka.connect.data.Date");
        } else {
          Named(&spec, "int32", "io.debezium.time.Date");
        }
        return spec;
      case kTimeOid:
        // TemporalPrecisionMode.getTimeBuilder.
        if (options.time_precision == TimePrecision::kConnect) {
          spec.writer = Writer::kTimeMs;
          Named(&spec, "int32", "org.apache.kafka.connect.data.Time");
        } else if (options.time_precision == TimePrecision::kAdaptive &&
                   precision <= 3) {
          spec.writer = Writer::kTimeMs;
          Named(&spec, "int32", "io.debezium.time.Time");
        } else {
          spec.writer = Writer::kTimeUs;
          Named(&spec, "int64", "io.debezium.time.MicroTime");
        }
        return spec;
      case kTimestampOid:
        if (options.time_precision == TimePrecision::kConnect) {
          spec.writer = Writer::kTimestampMs;
          Named(&spec, "int64", "org.apache.kafka.connect.data.Timestamp");
        } else if (precision <= 3) {
          spec.writer = Writer::kTimestampMs;
          Named(&spec, "int64", "io.debezium.time.Timestamp");
        } else {
          spec.writer = Writer::kTimestampUs;
          Named(&spec, "int64", "io.debezium.time.MicroTimestamp");
        }
        return spec;
      case kTimestamptzOid:
        spec.writer = Writer::kZonedTimestamp;
        spec.fraction = precision;
        Named(&spec, "string", "io.debezium.time.ZonedTimestamp");
        return spec;
      case kTimetzOid:
        spec.writer = Writer::kZonedTime;
        Named(&spec, "string", "io.debezium.time.ZonedTime");
        return spec;
      case kIntervalOid:
        spec.writer = Writer::kMicroDuration;
        Named(&spec, "int64", "io.debezium.time.MicroDuration");
        return spec;
      case kByteaOid:
        spec.writer = Writer::kBinary;
        spec.type =
            options.binary_mode == BinaryMode::kBytes ? "bytes" : "string";
        return spec;
      case kBitOid:
      case kVarbitOid: {
        // bit(1) and varbit(1) are booleans, longer ones Bits
        // (convertBits); a varbit without a length is taken as long.
        const int length = typmod >= 0 ? typmod : INT32_MAX;
        if (length == 1) {
          spec.writer = Writer::kBitBool;
          spec.type = "boolean";
        } else {
          spec.writer = Writer::kBits;
          Named(&spec, "bytes", "io.debezium.data.Bits");
          spec.parameters.push_back({"length", absl::StrCat(length)});
        }
        return spec;
      }
      default:
        break;
    }
    const pg::TypeInfo* info = types != nullptr ? types->Find(oid) : nullptr;
    if (info != nullptr && info->kind == pg::TypeInfo::Kind::kEnum) {
      spec.writer = Writer::kString;
      Named(&spec, "string", "io.debezium.data.Enum");
      spec.parameters.push_back(
          {"allowed", absl::StrJoin(info->enum_labels, ",")});
      return spec;
    }
    if (info != nullptr &&
        (info->name == "citext" || absl::EndsWith(info->name, ".citext") ||
         absl::EndsWith(info->name, ".isbn"))) {
      string();
      return spec;
    }
    if (info != nullptr && !in_array &&
        (info->name == "hstore" || absl::EndsWith(info->name, ".hstore"))) {
      spec.writer = Writer::kHstore;
      Named(&spec, "string", "io.debezium.data.Json");
      return spec;
    }
    if (info != nullptr && absl::EndsWith(info->name, ".ltree")) {
      spec.writer = Writer::kString;
      Named(&spec, "string", "io.debezium.data.Ltree");
      return spec;
    }
    const pg::Oid element = in_array ? 0 : ArrayElement(oid);
    if (element != 0) {
      // Arrays Debezium has no schema for stay out (schemaBuilder returns
      // null for money, name, interval, varbit, xml, point arrays; bit
      // arrays have no converter).
      switch (element) {
        case kMoneyOid:
        case kNameOid:
        case kIntervalOid:
        case kVarbitOid:
        case kXmlOid:
        case kBitOid:
          return spec;
        default:
          break;
      }
      if (types != nullptr && types->ResolveDomain(element) != element) {
        return spec;  // arrays of domains: no schema in Debezium either
      }
      auto element_spec = std::make_unique<Spec>(Map(element, typmod, true));
      if (element_spec->writer == Writer::kDropped ||
          element_spec->writer == Writer::kArray) {
        return spec;
      }
      spec.writer = Writer::kArray;
      spec.type = "array";
      const pg::TypeInfo* element_info =
          types != nullptr ? types->Find(element) : nullptr;
      spec.element_optional =
          !(element_info != nullptr &&
            element_info->kind == pg::TypeInfo::Kind::kEnum);
      spec.element = std::move(element_spec);
      return spec;
    }
    return spec;  // no schema: dropped, as include.unknown.datatypes=false
  }
};

// JsonConverter.asJsonSchema of `spec`, up to (not including) "default",
// "field" and the closing brace.
void AppendSchemaBody(const Spec& spec, bool optional, std::string* out) {
  out->append("{\"type\":\"");
  out->append(spec.type);
  out->push_back('"');
  if (spec.writer == Writer::kArray) {
    out->append(",\"items\":");
    AppendSchemaBody(*spec.element, spec.element_optional, out);
    out->push_back('}');
  } else if (spec.writer == Writer::kPoint) {
    out->append(
        ",\"fields\":[{\"type\":\"double\",\"optional\":false,\"field\":"
        "\"x\"},{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
        "{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
        "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]");
  } else if (spec.writer == Writer::kVariableScale) {
    out->append(
        ",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":"
        "\"scale\"},{\"type\":\"bytes\",\"optional\":false,\"field\":"
        "\"value\"}]");
  }
  out->append(optional ? ",\"optional\":true" : ",\"optional\":false");
  if (!spec.name.empty()) {
    out->append(",\"name\":");
    AppendQuoted(spec.name, out);
  }
  if (spec.version != 0) {
    out->append(",\"version\":");
    AppendInt(spec.version, out);
  }
  if (!spec.doc.empty()) {
    out->append(",\"doc\":");
    AppendQuoted(spec.doc, out);
  }
  if (!spec.parameters.empty()) {
    out->append(",\"parameters\":{");
    bool first = true;
    for (const auto& [key, value] : spec.parameters) {
      if (!first) out->push_back(',');
      first = false;
      AppendQuoted(key, out);
      out->push_back(':');
      AppendQuoted(value, out);
    }
    out->push_back('}');
  }
}

// ---- Values -----------------------------------------------------------

struct ValueWriter {
  const DebeziumJsonOptions& options;
  // Scratch.
  std::string* digits;
  std::string* bytes;

  void Binary(std::string_view data, std::string* out) const {
    switch (options.binary_mode) {
      case BinaryMode::kBytes:
      case BinaryMode::kBase64:
        AppendBase64(data, out);
        return;
      case BinaryMode::kBase64UrlSafe:
        // Java's Base64.getUrlEncoder keeps the padding.
        AppendBase64(data, out, true);
        return;
      case BinaryMode::kHex: {
        static constexpr char kHex[] = "0123456789abcdef";
        out->push_back('"');
        for (char c : data) {
          const unsigned char b = static_cast<unsigned char>(c);
          out->push_back(kHex[b >> 4]);
          out->push_back(kHex[b & 15]);
        }
        out->push_back('"');
        return;
      }
    }
  }

  void Text(std::string_view text, bool header, std::string* out) const {
    if (header) {
      AppendHeaderQuoted(text, out);
    } else {
      AppendQuoted(text, out);
    }
  }

  // A decimal's text as Decimal bytes (base64 of the unscaled value), or
  // its BigDecimal text in a header; null for NaN and the infinities,
  // which a BigDecimal cannot hold.
  void DecimalValue(std::string_view text, int scale, bool header,
                    std::string* out) const {
    bool negative;
    int text_scale;
    if (!UnscaledDigits(text, scale, &negative, digits, &text_scale)) {
      out->append("null");
      return;
    }
    if (header) {
      AppendBigDecimalText(negative, *digits, text_scale, out);
      return;
    }
    TwosComplement(negative, *digits, bytes);
    AppendBase64(*bytes, out);
  }

  void DoubleOf(std::string_view text, bool header, std::string* out) const {
    std::string copy(text);
    AppendFloating(std::strtod(copy.c_str(), nullptr), header, out);
  }

  void Placeholder(const Spec& spec, bool header, std::string* out) const {
    const std::string& p = options.unavailable_value_placeholder;
    if (spec.writer == Writer::kArray) {
      out->push_back('[');
      Text(p, header, out);
      out->push_back(']');
    } else if (spec.writer == Writer::kBinary &&
               options.binary_mode == BinaryMode::kBytes) {
      // As bytes: the placeholder's bytes; in the string modes the
      // placeholder itself (seen under binary.handling.mode=hex).
      Binary(p, out);
    } else if (spec.writer == Writer::kBinary &&
               options.binary_mode != BinaryMode::kHex) {
      // PostgresValueConverter overrides convertBinaryToBytes and
      // convertBinaryToHex for the placeholder, not the base64 modes,
      // which see no bytes and write null (seen under base64).
      out->append("null");
    } else {
      Text(p, header, out);
    }
  }

  // One value of `spec`; `header` for Values.convertToString's text.
  void Write(const Spec& spec, const v1::Value& value, bool header,
             std::string* out) const {
    switch (value.kind_case()) {
      case v1::Value::kNull:
      case v1::Value::KIND_NOT_SET:
        out->append("null");
        return;
      case v1::Value::kUnchangedToast:
        Placeholder(spec, header, out);
        return;
      default:
        break;
    }
    const std::string* text = value.has_text()         ? &value.text()
                              : value.has_text_bytes() ? &value.text_bytes()
                                                       : nullptr;
    switch (spec.writer) {
      case Writer::kDropped:
        out->append("null");
        return;
      case Writer::kBool:
        out->append(value.bool_value() ? "true" : "false");
        return;
      case Writer::kInt:
        AppendInt(value.int_value(), out);
        return;
      case Writer::kFloat32:
        AppendFloating(static_cast<float>(value.double_value()), header, out);
        return;
      case Writer::kFloat64:
        AppendFloating(value.double_value(), header, out);
        return;
      case Writer::kDecimal:
        DecimalValue(value.numeric_value().value(), spec.scale, header, out);
        return;
      case Writer::kVariableScale: {
        bool negative;
        int scale;
        if (!UnscaledDigits(value.numeric_value().value(), -1, &negative,
                            digits, &scale)) {
          out->append("null");  // seen: NaN becomes null (with a WARN)
          return;
        }
        // convertDecimal: stripTrailingZeros, then no negative scale.
        while (scale > 0 && digits->size() > 1 && digits->back() == '0') {
          digits->pop_back();
          --scale;
        }
        if (*digits == "0") scale = 0;
        TwosComplement(negative, *digits, bytes);
        out->append("{\"scale\":");
        AppendInt(scale, out);
        out->append(",\"value\":");
        AppendBase64(*bytes, out);
        out->push_back('}');
        return;
      }
      case Writer::kDecimalDouble:
        DoubleOf(value.numeric_value().value(), header, out);
        return;
      case Writer::kDecimalString: {
        // SpecialValueDecimal.toString: toPlainString, or the name of the
        // special value (seen: "NAN").
        const std::string& v = value.numeric_value().value();
        Text(v == "NaN"         ? "NAN"
             : v == "Infinity"  ? "POSITIVE_INFINITY"
             : v == "-Infinity" ? "NEGATIVE_INFINITY"
                                : std::string_view(v),
             header, out);
        return;
      }
      case Writer::kMoney: {
        // PostgreSQL's money text ("-$1,234.56" in lc_monetary C/en_US):
        // its sign, digits and point.
        std::string plain;
        if (text != nullptr) {
          for (char c : *text) {
            if ((c >= '0' && c <= '9') || c == '.' || c == '-') {
              plain.push_back(c);
            } else if (c == '(') {
              plain.push_back('-');
            }
          }
        }
        if (options.decimal_mode == DecimalMode::kDouble) {
          DoubleOf(plain, header, out);
        } else if (options.decimal_mode == DecimalMode::kString) {
          Text(plain, header, out);
        } else {
          DecimalValue(plain, spec.scale, header, out);
        }
        return;
      }
      case Writer::kString:
      case Writer::kZonedTimestamp:
      case Writer::kZonedTime:
      case Writer::kDate:
      case Writer::kTimestampMs:
      case Writer::kTimestampUs:
      case Writer::kBits:
      case Writer::kBitBool:
      case Writer::kPoint:
      case Writer::kHstore:
        break;
      case Writer::kTimeMs:
        AppendInt(value.time_us() / 1000, out);
        return;
      case Writer::kTimeUs:
        AppendInt(value.time_us(), out);
        return;
      case Writer::kMicroDuration:
        AppendInt(MicroDuration(value.interval_value()), out);
        return;
      case Writer::kBinary:
        Binary(value.bytes_value(), out);
        return;
      case Writer::kArray: {
        out->push_back('[');
        bool first = true;
        for (const v1::Value& element : value.array_value().elements()) {
          if (!first) out->push_back(',');
          first = false;
          Write(*spec.element, element, header, out);
        }
        out->push_back(']');
        return;
      }
    }
    // The writers that read the converted case or, for values it could not
    // hold (infinities), the text.
    switch (spec.writer) {
      case Writer::kDate:
        if (value.has_date_days()) {
          AppendInt(value.date_days(), out);
        } else {
          AppendInt(text != nullptr && *text == "-infinity" ? kDateMinusInfinity
                                                            : kDateInfinity,
                    out);
        }
        return;
      case Writer::kTimestampMs:
      case Writer::kTimestampUs:
        if (value.has_local_timestamp_us()) {
          const int64_t us = value.local_timestamp_us();
          AppendInt(
              spec.writer == Writer::kTimestampUs ? us : FloorDiv(us, 1000),
              out);
        } else {
          // In milliseconds the same constants divided (seen under
          // time.precision.mode=connect).
          const int64_t v = text != nullptr && *text == "-infinity"
                                ? kTimestampMinusInfinity
                                : kTimestampInfinity;
          AppendInt(spec.writer == Writer::kTimestampUs ? v : v / 1000, out);
        }
        return;
      case Writer::kZonedTimestamp:
        if (value.has_timestamp_us()) {
          AppendZonedTimestamp(value.timestamp_us(), spec.fraction, out);
          return;
        }
        break;  // "infinity", "-infinity" as they are
      case Writer::kZonedTime:
        if (text != nullptr && AppendZonedTime(*text, out)) return;
        break;
      case Writer::kBits: {
        // convertBits: a BitSet of the bits, the last character bit 0, as
        // BitSet.toByteArray (little-endian, up to the highest set bit).
        bytes->clear();
        if (text != nullptr) {
          const size_t n = text->size();
          for (size_t i = 0; i < n; ++i) {
            if ((*text)[n - 1 - i] != '1') continue;
            const size_t byte = i / 8;
            if (bytes->size() <= byte) bytes->resize(byte + 1, '\0');
            (*bytes)[byte] = static_cast<char>((*bytes)[byte] | (1 << (i % 8)));
          }
        }
        AppendBase64(*bytes, out);
        return;
      }
      case Writer::kHstore: {
        // PostgresValueConverter.convertHStoreToJsonString: the map as a
        // JSON object (Jackson), itself written as a string.
        std::vector<HstoreEntry> entries;
        if (text == nullptr || !ParseHstore(*text, &entries)) break;
        std::string json = "{";
        for (const HstoreEntry& e : InJavaHashMapOrder(std::move(entries))) {
          if (json.size() > 1) json.push_back(',');
          AppendQuoted(e.key, &json);
          json.push_back(':');
          if (e.value.has_value()) {
            AppendQuoted(*e.value, &json);
          } else {
            json.append("null");
          }
        }
        json.push_back('}');
        Text(json, header, out);
        return;
      }
      case Writer::kPoint: {
        // PostgresValueConverter.convertPoint → Point.createValue: x, y and
        // the point as little-endian WKB, no SRID.
        double xy[2];
        if (text == nullptr || !ParsePoint(*text, xy)) break;
        out->append("{\"x\":");
        AppendFloating(xy[0], header, out);
        out->append(",\"y\":");
        AppendFloating(xy[1], header, out);
        out->append(",\"wkb\":");
        char wkb[21] = {1, 1, 0, 0, 0};
        std::memcpy(wkb + 5, &xy[0], 8);
        std::memcpy(wkb + 13, &xy[1], 8);
        AppendBase64(std::string_view(wkb, sizeof(wkb)), out);
        out->append(",\"srid\":null}");
        return;
      }
      case Writer::kBitBool:
        out->append(text != nullptr && text->find('1') != std::string::npos
                        ? "true"
                        : "false");
        return;
      default:
        break;
    }
    if (text != nullptr) {
      Text(*text, header, out);
    } else if (value.has_bool_value()) {
      // A text type value_codec made a bool of: cannot happen for the
      // types above, but never lose a value.
      out->append(value.bool_value() ? "true" : "false");
    } else {
      out->append("null");
    }
  }
};

// ---- Per table --------------------------------------------------------

struct ColumnState {
  Spec spec;
  std::string field;  // "\"name\":"
  // The schema's default as JSON; "" for none.
  std::string default_json;
  // What a SQL NULL is written as: JsonConverter writes a field's default
  // for a null value (replace.null.with.default, on by default), with
  // schemas on or off.
  std::string null_json;
  // What a column missing from a 'K' image is written as: the null_json of
  // an optional column; for a NOT NULL one, Debezium's converters give its
  // default, else their fallback (JdbcValueConverters.convertValue).
  std::string absent_json;
};

// JdbcValueConverters' fallback for a NOT NULL column without a value
// (convertValue's `fallback` of each converter), as seen from Debezium
// 3.6.1; null where not seen yet. `numeric_scale`: a numeric column's
// declared scale, -1 for none.
std::string FallbackJson(const Spec& spec, int numeric_scale) {
  switch (spec.writer) {
    case Writer::kBool:
    case Writer::kBitBool:
      return "false";
    case Writer::kInt:
    case Writer::kDate:
    case Writer::kTimeMs:
    case Writer::kTimeUs:
    case Writer::kTimestampMs:
    case Writer::kTimestampUs:
    case Writer::kMicroDuration:
      return "0";
    case Writer::kFloat32:
    case Writer::kFloat64:
    case Writer::kDecimalDouble:
      return "0.0";
    case Writer::kDecimal:  // BigDecimal.ZERO: one zero byte
      return "\"AA==\"";
    case Writer::kVariableScale:
      return "{\"scale\":0,\"value\":\"AA==\"}";
    case Writer::kZonedTimestamp:  // the epoch, without a fraction
      return "\"1970-01-01T00:00:00Z\"";
    case Writer::kString:
    case Writer::kBinary:
    case Writer::kBits:
      return "\"\"";
    case Writer::kDecimalString:  // BigDecimal.ZERO at the column's scale
      return numeric_scale > 0
                 ? absl::StrCat("\"0.", std::string(numeric_scale, '0'), "\"")
                 : "\"0\"";
    case Writer::kArray:
      return "[]";
    default:
      return "null";
  }
}

// The fallbacks above that are values of the column's own type, as its
// text: written by the column's writer, so that they follow the modes as a
// value does. Seen from Debezium 3.6.1: money 0 (its Decimal, "0.00" or
// 0.0 by decimal.handling.mode), the point (0,0) with its WKB, and
// midnight UTC for timetz. nullptr for the others.
const char* FallbackText(Writer writer) {
  switch (writer) {
    case Writer::kMoney:
      return "0.00";
    case Writer::kPoint:
      return "(0,0)";
    case Writer::kZonedTime:
      return "00:00:00+00";
    default:
      return nullptr;
  }
}

struct TableState : EncoderTableState {
  std::vector<uint32_t> type_versions;  // ColumnType::version made for
  std::vector<ColumnState> columns;     // parallel to the relation's
  // {"schema":…,"payload":{"before":  (or {"before": without schemas)
  std::string value_head;
  // {"schema":…,"payload":   (or "" without schemas)
  std::string key_head;
  // ,"schema":"…","table":"…","txId":
  std::string source_table;
};

const char* SnapshotText(SnapshotMark mark) {
  // SnapshotRecord.toSource: the lower-case enum name; FALSE is the
  // field's default.
  switch (mark) {
    case SnapshotMark::kNone:
      return "false";
    case SnapshotMark::kMiddle:
      return "true";
    case SnapshotMark::kFirst:
      return "first";
    case SnapshotMark::kFirstInTable:
      return "first_in_data_collection";
    case SnapshotMark::kLastInTable:
      return "last_in_data_collection";
    case SnapshotMark::kLast:
      return "last";
    case SnapshotMark::kIncremental:
      return "incremental";
  }
  return "false";
}

const char* OpText(v1::Op op) {
  switch (op) {
    case v1::CREATE:
      return "c";
    case v1::UPDATE:
      return "u";
    case v1::DELETE:
      return "d";
    case v1::READ:
      return "r";
    case v1::TRUNCATE:
      return "t";
    case v1::MESSAGE:
      return "m";
    default:
      return "";
  }
}

constexpr char kTransactionSchema[] =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
    "\"field\":\"id\"},{\"type\":\"int64\",\"optional\":false,\"field\":"
    "\"total_order\"},{\"type\":\"int64\",\"optional\":false,\"field\":"
    "\"data_collection_order\"}],\"optional\":true,\"name\":\"event.block\","
    "\"version\":1,\"field\":\"transaction\"}";

}  // namespace

// The encoder's private helpers, with access to its members.
class DebeziumJsonEncoderImpl {
 public:
  static TableState& StateFor(DebeziumJsonEncoder& e, const TableShape& table,
                              const pg::RelationMessage& relation);
  static void AppendSource(const DebeziumJsonEncoder& e, const Event& event,
                           const TableState* table, bool own_commit,
                           std::string* out);
  static void AppendRow(DebeziumJsonEncoder& e, const TableState& table,
                        const std::vector<ColumnValue>* image,
                        const std::vector<ColumnValue>* old_row, bool header,
                        std::vector<const v1::Value*>* slots, std::string* out);
  static void AppendKey(DebeziumJsonEncoder& e, const TableState& table,
                        const RowEvent& event, bool header, std::string* out);
};

TableState& DebeziumJsonEncoderImpl::StateFor(
    DebeziumJsonEncoder& e, const TableShape& table,
    const pg::RelationMessage& relation) {
  const size_t n = relation.columns.size();
  if (table.encoder_state != nullptr) {
    auto& state = static_cast<TableState&>(*table.encoder_state);
    bool current = state.columns.size() == n;
    for (size_t i = 0; current && i < n && i < table.types.size(); ++i) {
      current = state.type_versions[i] == table.types[i].version;
    }
    if (current) return state;
  }
  auto state = std::make_unique<TableState>();
  Mapper mapper{e.options_, e.types_};
  state->columns.resize(n);
  state->type_versions.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const pg::RelationColumn& column = relation.columns[i];
    if (i < table.types.size())
      state->type_versions[i] = table.types[i].version;
    state->columns[i].spec =
        mapper.Map(column.type_oid, column.type_modifier, false);
    AppendQuoted(column.name, &state->columns[i].field);
    state->columns[i].field.push_back(':');
  }
  const std::string prefix = absl::StrCat(e.options_.topic_prefix, ".",
                                          table.schema, ".", table.table);
  auto optional = [&](size_t i) {
    if (i < table.not_null.size()) return !table.not_null[i];
    return !(i < table.in_key.size() && table.in_key[i]);
  };
  // Each column's default, converted as its values are.
  std::string digits, bytes;
  ValueWriter writer{e.options_, &digits, &bytes};
  for (size_t i = 0; i < n; ++i) {
    ColumnState& c = state->columns[i];
    const pg::RelationColumn& column = relation.columns[i];
    // numeric(p,s)'s scale, to which Debezium raises a default's.
    const int scale =
        column.type_oid == kNumericOid && column.type_modifier >= 4
            ? (column.type_modifier - 4) & 0xFFFF
            : -1;
    if (i < table.default_expr.size() && table.default_expr[i].has_value() &&
        c.spec.type != "struct") {
      // A struct (VariableScaleDecimal, Point) is never a default: Kafka
      // cannot hold one (PostgresDefaultValueConverter, KAFKA-12694).
      const pg::TypeInfo* type =
          e.types_ != nullptr ? e.types_->Find(column.type_oid) : nullptr;
      const std::optional<std::string> text = DebeziumDefaultText(
          type != nullptr ? std::string_view(type->name) : std::string_view(),
          type != nullptr && type->kind == pg::TypeInfo::Kind::kEnum,
          *table.default_expr[i], scale);
      // A text that does not convert is none, as a value Debezium's
      // mapper cannot parse is.
      v1::Value value;
      if (text.has_value() &&
          ConvertText(e.types_, column.type_oid, *text, &value).ok()) {
        writer.Write(c.spec, value, false, &c.default_json);
      }
    }
    c.null_json = c.default_json.empty() ? "null" : c.default_json;
    c.absent_json = !c.default_json.empty() ? c.default_json
                    : optional(i)           ? "null"
                                            : FallbackJson(c.spec, scale);
    if (const char* zero = FallbackText(c.spec.writer);
        zero != nullptr && c.default_json.empty() && !optional(i)) {
      v1::Value value;
      value.set_text(zero);
      c.absent_json.clear();
      writer.Write(c.spec, value, false, &c.absent_json);
    }
  }
  auto field_schema = [&](size_t i, std::string* out) {
    const ColumnState& c = state->columns[i];
    AppendSchemaBody(c.spec, optional(i), out);
    if (!c.default_json.empty()) {
      out->append(",\"default\":");
      out->append(c.default_json);
    }
    out->append(",\"field\":");
    AppendQuoted(relation.columns[i].name, out);
    out->push_back('}');
  };
  if (e.options_.schemas_enable) {
    std::string row_fields;
    bool first = true;
    for (size_t i = 0; i < n; ++i) {
      if (state->columns[i].spec.writer == Writer::kDropped) continue;
      if (!first) row_fields.push_back(',');
      first = false;
      field_schema(i, &row_fields);
    }
    std::string value_name;
    AppendQuoted(absl::StrCat(prefix, ".Value"), &value_name);
    std::string envelope_name;
    AppendQuoted(absl::StrCat(prefix, ".Envelope"), &envelope_name);
    std::string& head = state->value_head;
    head = "{\"schema\":{\"type\":\"struct\",\"fields\":[";
    for (const char* field : {"before", "after"}) {
      head.append("{\"type\":\"struct\",\"fields\":[");
      head.append(row_fields);
      head.append("],\"optional\":true,\"name\":");
      head.append(value_name);
      head.append(",\"field\":\"");
      head.append(field);
      head.append("\"},");
    }
    head.append(e.source_schema_);
    head.append(",");
    head.append(kTransactionSchema);
    head.append(
        ",{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],"
        "\"optional\":false,\"name\":");
    head.append(envelope_name);
    head.append(",\"version\":2},\"payload\":{\"before\":");
    if (!table.key_columns.empty()) {
      std::string& key = state->key_head;
      key = "{\"schema\":{\"type\":\"struct\",\"fields\":[";
      bool first_key = true;
      for (int i : table.key_columns) {
        if (state->columns[i].spec.writer == Writer::kDropped) continue;
        if (!first_key) key.push_back(',');
        first_key = false;
        field_schema(static_cast<size_t>(i), &key);
      }
      key.append("],\"optional\":false,\"name\":");
      AppendQuoted(absl::StrCat(prefix, ".Key"), &key);
      key.append("},\"payload\":");
    }
  } else {
    state->value_head = "{\"before\":";
  }
  std::string& st = state->source_table;
  st = ",\"schema\":";
  AppendQuoted(table.schema, &st);
  st.append(",\"table\":");
  AppendQuoted(table.table, &st);
  st.append(",\"txId\":");
  table.encoder_state = std::move(state);
  return static_cast<TableState&>(*table.encoder_state);
}

void DebeziumJsonEncoderImpl::AppendSource(const DebeziumJsonEncoder& e,
                                           const Event& event,
                                           const TableState* table,
                                           bool own_commit, std::string* out) {
  const TxnContext& txn = *event.txn;
  out->append(e.source_head_);
  AppendInt(FloorDiv(txn.commit_ts_us, 1000), out);
  out->append(",\"snapshot\":\"");
  out->append(SnapshotText(event.snapshot_mark));
  out->append(e.source_db_);
  // SourceInfo.sequence: [lastCommitLsn, lsn] as decimal strings, JSON
  // text in a string. A non-transactional message is committed
  // (commitMessage) before it is dispatched, so it is its own last commit.
  const Lsn last_commit = own_commit ? event.lsn : txn.last_commit_lsn;
  if (last_commit == 0) {
    out->append("null");
  } else {
    out->append("\\\"");
    AppendInt(static_cast<int64_t>(last_commit), out);
    out->append("\\\"");
  }
  out->append(",\\\"");
  AppendInt(static_cast<int64_t>(event.lsn), out);
  out->append("\\\"]\",\"ts_us\":");
  AppendInt(txn.commit_ts_us, out);
  out->append(",\"ts_ns\":");
  AppendInt(txn.commit_ts_us * 1000, out);
  if (table != nullptr) {
    out->append(table->source_table);
  } else {
    out->append(",\"schema\":\"\",\"table\":\"\",\"txId\":");
  }
  // PostgresSourceInfoStructMaker: an incremental snapshot's rows carry no
  // txId, lsn or xmin.
  if (event.snapshot_mark == SnapshotMark::kIncremental) {
    out->append("null,\"lsn\":null");
  } else {
    if (txn.xid == 0) {
      out->append("null");
    } else {
      AppendInt(txn.xid, out);
    }
    out->append(",\"lsn\":");
    AppendInt(static_cast<int64_t>(event.lsn), out);
  }
  out->append(",\"xmin\":null,\"origin\":null,\"origin_lsn\":null}");
}

void DebeziumJsonEncoderImpl::AppendRow(DebeziumJsonEncoder& e,
                                        const TableState& table,
                                        const std::vector<ColumnValue>* image,
                                        const std::vector<ColumnValue>* old_row,
                                        bool header,
                                        std::vector<const v1::Value*>* slots,
                                        std::string* out) {
  if (image == nullptr) {
    out->append("null");
    return;
  }
  const size_t n = table.columns.size();
  // A whole image is in column order; a 'K' image holds some columns, the
  // others are null (Debezium's delete under REPLICA IDENTITY DEFAULT).
  const bool whole = image->size() == n;
  if (!whole) {
    slots->assign(n, nullptr);
    for (const ColumnValue& c : *image) (*slots)[c.index] = c.value;
  }
  ValueWriter writer{e.options_, &e.digits_, &e.bytes_};
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < n; ++i) {
    const ColumnState& c = table.columns[i];
    if (c.spec.writer == Writer::kDropped) continue;
    if (!first) out->push_back(',');
    first = false;
    out->append(c.field);
    const v1::Value* value = whole ? (*image)[i].value : (*slots)[i];
    // Under REPLICA IDENTITY FULL an unchanged TOASTed value is in the old
    // row, and Debezium writes it rather than the placeholder (seen).
    if (value != nullptr && value->has_unchanged_toast() &&
        old_row != nullptr && old_row->size() == n &&
        !(*old_row)[i].value->has_unchanged_toast()) {
      value = (*old_row)[i].value;
    }
    if (value == nullptr) {
      out->append(header ? "null" : c.absent_json);
    } else if (value->kind_case() == v1::Value::kNull && !header) {
      out->append(c.null_json);
    } else {
      writer.Write(c.spec, *value, header, out);
    }
  }
  out->push_back('}');
}

void DebeziumJsonEncoderImpl::AppendKey(DebeziumJsonEncoder& e,
                                        const TableState& table,
                                        const RowEvent& event, bool header,
                                        std::string* out) {
  ValueWriter writer{e.options_, &e.digits_, &e.bytes_};
  out->push_back('{');
  bool first = true;
  for (const ColumnValue& c : *event.key) {
    const ColumnState& column = table.columns[c.index];
    if (column.spec.writer == Writer::kDropped) continue;
    if (!first) out->push_back(',');
    first = false;
    if (header) {
      // Values.append of the field name: an embedded string.
      AppendHeaderQuoted(event.relation->columns[c.index].name, out);
      out->push_back(':');
    } else {
      out->append(column.field);
    }
    writer.Write(column.spec, *c.value, header, out);
  }
  out->push_back('}');
}

DebeziumJsonEncoder::DebeziumJsonEncoder(SourceInfo source,
                                         DebeziumJsonOptions options,
                                         const pg::TypeRegistry* types)
    : source_(std::move(source)), options_(std::move(options)), types_(types) {
  if (options_.context_headers) {
    // AbstractWorkerSourceTask's context headers, in Connect's order.
    context_headers_ = {
        {"__debezium.context.connectorLogicalName", options_.topic_prefix},
        {"__debezium.context.taskId", "0"},
        {"__debezium.context.connectorName", "postgresql"},
        {"__debezium.context.runId", options_.run_id}};
  }
  // PostgresSourceInfoStructMaker.init over SchemaFactory's
  // sourceInfoSchemaBuilder; snapshot is SnapshotRecord's Enum with its
  // default.
  source_schema_ =
      "{\"type\":\"struct\",\"fields\":["
      "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
      "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
      "{\"type\":\"string\",\"optional\":true,\"name\":"
      "\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":"
      "\"true,first,first_in_data_collection,last_in_data_collection,last,"
      "false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
      "{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
      "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"},"
      "{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"},"
      "{\"type\":\"int64\",\"optional\":true,\"field\":\"origin_lsn\"}],"
      "\"optional\":false,\"name\":"
      "\"io.debezium.connector.postgresql.Source\",\"version\":1,"
      "\"field\":\"source\"}";
  source_head_ = "{\"version\":";
  AppendQuoted(options_.version, &source_head_);
  source_head_.append(",\"connector\":\"postgresql\",\"name\":");
  AppendQuoted(options_.topic_prefix, &source_head_);
  source_head_.append(",\"ts_ms\":");
  source_db_ = "\",\"db\":";
  AppendQuoted(source_.db, &source_db_);
  source_db_.append(",\"sequence\":\"[");
}

namespace {

// Starts `record`'s key, a struct `name` (version 1) of one string field:
// its schema when schemas are on, then the payload up to the field's value,
// which the caller writes and closes (one brace, two with schemas).
std::string& StartStringKey(bool schemas, std::string_view field, bool optional,
                            std::string_view name, Record* record) {
  record->key.emplace();
  std::string& key = *record->key;
  key.clear();
  if (schemas) {
    key.append(
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":"
        "\"string\",\"optional\":");
    key.append(optional ? "true" : "false");
    key.append(",\"field\":");
    AppendQuoted(field, &key);
    key.append("}],\"optional\":false,\"name\":");
    AppendQuoted(name, &key);
    key.append(",\"version\":1},\"payload\":");
  }
  key.append("{");
  AppendQuoted(field, &key);
  key.push_back(':');
  return key;
}

// The envelope's fields after `source`.
void AppendTail(const Event& event, std::string_view transaction,
                std::string* out) {
  out->append(",\"transaction\":");
  out->append(transaction);
  out->append(",\"op\":\"");
  out->append(OpText(event.op));
  out->append("\",\"ts_ms\":");
  AppendInt(event.now_ms(), out);
  out->append(",\"ts_us\":");
  AppendInt(event.now_us, out);
  out->append(",\"ts_ns\":");
  AppendInt(event.now_us * 1000, out);
}

}  // namespace

bool DebeziumJsonEncoder::Skips(v1::Op op) const {
  const char* letter = OpText(op);
  return letter[0] != '\0' && letter[1] == '\0' && op != v1::READ &&
         options_.skipped_operations.find(letter[0]) != std::string::npos;
}

std::string_view DebeziumJsonEncoder::TransactionBlock(const Event& event,
                                                       bool message) {
  // TransactionMonitor.dataEvent: an event with a transaction id, streamed
  // (snapshot rows go through no monitor), in the transaction begun.
  if (!transaction_.in_progress() || event.snapshot || event.txn->xid == 0) {
    return "null";
  }
  int64_t order;
  if (message) {
    order = transaction_.CountMessage();
  } else {
    collection_.assign(event.table->schema);
    collection_.push_back('.');
    collection_.append(event.table->table);
    order = transaction_.Count(collection_);
  }
  transaction_block_.assign("{\"id\":");
  AppendTransactionId(event.lsn, &transaction_block_);
  transaction_block_.append(",\"total_order\":");
  AppendInt(transaction_.total(), &transaction_block_);
  transaction_block_.append(",\"data_collection_order\":");
  AppendInt(order, &transaction_block_);
  transaction_block_.push_back('}');
  return transaction_block_;
}

void DebeziumJsonEncoder::AppendTransactionId(Lsn lsn, std::string* out) const {
  out->push_back('"');
  out->append(transaction_.id());
  out->push_back(':');
  out->append(std::to_string(lsn));
  out->push_back('"');
}

absl::Status DebeziumJsonEncoder::BeginTransaction(const TxnContext& txn,
                                                   Lsn lsn, RecordWriter* out) {
  if (!options_.provide_transaction_metadata) return absl::OkStatus();
  // PostgresStreamingChangeEventSource: a BEGIN record at every Begin
  // message, the transaction id being the xid (Long.toString).
  transaction_.Begin(std::to_string(txn.xid));
  AppendBoundary(true, txn, lsn, out);
  return absl::OkStatus();
}

absl::Status DebeziumJsonEncoder::EndTransaction(const TxnContext& txn, Lsn lsn,
                                                 RecordWriter* out) {
  if (!options_.provide_transaction_metadata) return absl::OkStatus();
  if (transaction_.in_progress()) AppendBoundary(false, txn, lsn, out);
  transaction_.End();
  return absl::OkStatus();
}

void DebeziumJsonEncoder::AppendBoundary(bool begin, const TxnContext& txn,
                                         Lsn lsn, RecordWriter* out) {
  // SchemaFactory.transactionKeySchema / transactionValueSchema and
  // AbstractTransactionStructMaker's values; ts_ms is the commit time
  // (Instant.toEpochMilli) from the Begin or Commit message.
  Record* record = out->AddTo(options_.transaction_topic);
  std::string& key = StartStringKey(
      options_.schemas_enable, "id", false,
      "io.debezium.connector.common.TransactionMetadataKey", record);
  AppendTransactionId(lsn, &key);
  key.append(options_.schemas_enable ? "}}" : "}");

  std::string& value = record->value;
  value.clear();
  if (options_.schemas_enable) {
    value.append(
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
        "\"optional\":false,\"field\":\"status\"},{\"type\":\"string\","
        "\"optional\":false,\"field\":\"id\"},{\"type\":\"int64\","
        "\"optional\":true,\"field\":\"event_count\"},{\"type\":\"array\","
        "\"items\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
        "\"optional\":false,\"field\":\"data_collection\"},{\"type\":"
        "\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
        "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
        "\"optional\":true,\"field\":\"data_collections\"},{\"type\":"
        "\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":"
        "false,\"name\":"
        "\"io.debezium.connector.common.TransactionMetadataValue\","
        "\"version\":1},\"payload\":");
  }
  value.append(begin ? "{\"status\":\"BEGIN\",\"id\":"
                     : "{\"status\":\"END\",\"id\":");
  AppendTransactionId(lsn, &value);
  if (begin) {
    value.append(",\"event_count\":null,\"data_collections\":null");
  } else {
    value.append(",\"event_count\":");
    AppendInt(transaction_.total(), &value);
    value.append(",\"data_collections\":[");
    bool first = true;
    for (const auto& [name, count] : transaction_.InHashMapOrder()) {
      if (!first) value.push_back(',');
      first = false;
      value.append("{\"data_collection\":");
      AppendQuoted(name, &value);
      value.append(",\"event_count\":");
      AppendInt(count, &value);
      value.push_back('}');
    }
    value.push_back(']');
  }
  value.append(",\"ts_ms\":");
  // Instant.toEpochMilli: floor division.
  int64_t ms = txn.commit_ts_us / 1000;
  if (txn.commit_ts_us % 1000 < 0) --ms;
  AppendInt(ms, &value);
  value.append(options_.schemas_enable ? "}}" : "}");
}

absl::Status DebeziumJsonEncoder::EncodeRow(const RowEvent& event,
                                            RecordWriter* out) {
  if (Skips(event.op)) return absl::OkStatus();
  TableState& table =
      DebeziumJsonEncoderImpl::StateFor(*this, *event.table, *event.relation);
  Record* record = out->Add(event);
  std::string& value = record->value;
  value.clear();
  value.append(table.value_head);
  DebeziumJsonEncoderImpl::AppendRow(*this, table, event.before, nullptr, false,
                                     &slots_, &value);
  value.append(",\"after\":");
  DebeziumJsonEncoderImpl::AppendRow(*this, table, event.after, event.before,
                                     false, &slots_, &value);
  value.append(",\"source\":");
  DebeziumJsonEncoderImpl::AppendSource(*this, event, &table, false, &value);
  AppendTail(event, TransactionBlock(event, false), &value);
  value.append(options_.schemas_enable ? "}}" : "}");

  if (event.key == nullptr) {
    record->key.reset();
  } else {
    if (!record->key.has_value()) record->key.emplace();
    std::string& key = *record->key;
    key.clear();
    key.append(table.key_head);
    DebeziumJsonEncoderImpl::AppendKey(*this, table, event, false, &key);
    if (options_.schemas_enable) key.push_back('}');
  }

  // RelationalChangeRecordEmitter.emitUpdateAsPrimaryKeyChangeRecord: the
  // delete of the old key says the new key, the create the old one, as
  // SimpleHeaderConverter writes a Struct (Values.convertToString).
  const char* header_name = nullptr;
  if (event.key_change_pair != nullptr &&
      event.key_change_pair->key != nullptr) {
    header_name =
        event.op == v1::DELETE ? "__debezium.newkey" : "__debezium.oldkey";
    header_.clear();
    DebeziumJsonEncoderImpl::AppendKey(*this, table, *event.key_change_pair,
                                       true, &header_);
    record->headers.push_back({header_name, header_});
  }
  record->headers.insert(record->headers.end(), context_headers_.begin(),
                         context_headers_.end());

  if (event.op == v1::DELETE && options_.tombstones_on_delete) {
    // Copied before Add: it may move the records.
    std::optional<std::string> key = record->key;
    std::vector<Header> headers = record->headers;
    Record* tombstone = out->Add(event);
    tombstone->key = std::move(key);
    tombstone->value.clear();
    tombstone->null_value = true;
    tombstone->headers = std::move(headers);
  }
  return absl::OkStatus();
}

absl::Status DebeziumJsonEncoder::EncodeTruncate(const TruncateEvent& event,
                                                 RecordWriter* out) {
  if (event.relation == nullptr) {
    return absl::InternalError("a truncate event without its relation");
  }
  if (Skips(event.op)) return absl::OkStatus();
  TableState& table =
      DebeziumJsonEncoderImpl::StateFor(*this, *event.table, *event.relation);
  Record* record = out->Add(event);
  record->key.reset();
  record->headers = context_headers_;
  std::string& value = record->value;
  value.clear();
  value.append(table.value_head);
  value.append("null,\"after\":null,\"source\":");
  DebeziumJsonEncoderImpl::AppendSource(*this, event, &table, false, &value);
  AppendTail(event, TransactionBlock(event, false), &value);
  value.append(options_.schemas_enable ? "}}" : "}");
  return absl::OkStatus();
}

absl::Status DebeziumJsonEncoder::EncodeMessage(const MessageEvent& event,
                                                RecordWriter* out) {
  // LogicalDecodingMessageMonitor and PostgresSchemaFactory's message
  // schemas.
  const pg::LogicalMessage& message = *event.message;
  const bool bytes = options_.binary_mode == BinaryMode::kBytes;
  Record* record = out->Add(event);
  std::string& value = record->value;
  value.clear();
  if (options_.schemas_enable) {
    value.append(
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
        "\"optional\":false,\"field\":\"op\"},{\"type\":\"int64\","
        "\"optional\":true,\"field\":\"ts_ms\"},");
    value.append(source_schema_);
    value.push_back(',');
    value.append(kTransactionSchema);
    value.append(
        ",{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":"
        "true,\"field\":\"prefix\"},{\"type\":\"");
    value.append(bytes ? "bytes" : "string");
    value.append(
        "\",\"optional\":true,\"field\":\"content\"}],\"optional\":false,"
        "\"name\":\"io.debezium.connector.postgresql.Message\",\"version\":1,"
        "\"field\":\"message\"}],\"optional\":false,\"name\":"
        "\"io.debezium.connector.postgresql.MessageValue\",\"version\":1},"
        "\"payload\":");
  }
  value.append("{\"op\":\"m\",\"ts_ms\":");
  AppendInt(event.now_ms(), &value);
  value.append(",\"source\":");
  // A message's source names no table: "" schema and table.
  // A non-transactional message has no transaction id.
  MessageEvent stamped = event;
  TxnContext txn = *event.txn;
  if (!message.transactional) txn.xid = 0;
  stamped.txn = &txn;
  DebeziumJsonEncoderImpl::AppendSource(*this, stamped, nullptr,
                                        !message.transactional, &value);
  value.append(",\"transaction\":");
  value.append(TransactionBlock(stamped, true));
  value.append(",\"message\":{\"prefix\":");
  AppendQuoted(message.prefix, &value);
  value.append(",\"content\":");
  ValueWriter writer{options_, &digits_, &bytes_};
  writer.Binary(message.content, &value);
  value.append(options_.schemas_enable ? "}}}" : "}}");

  std::string& key =
      StartStringKey(options_.schemas_enable, "prefix", true,
                     "io.debezium.connector.postgresql.MessageKey", record);
  AppendQuoted(message.prefix, &key);
  key.append(options_.schemas_enable ? "}}" : "}");
  return absl::OkStatus();
}

}  // namespace cdc::envelope
