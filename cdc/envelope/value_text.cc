#include "cdc/envelope/value_text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "cdc/envelope/datetime.h"
#include "cdc/envelope/pg_literal.h"

namespace cdc::envelope {
namespace {

template <typename Float>
std::string FormatFloat(Float value, int max_fixed_exponent) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value,
                                 std::chars_format::scientific);
  std::string scientific(buf, end);
  const size_t e = scientific.find('e');
  const int exponent = std::atoi(scientific.c_str() + e + 1);
  if (exponent >= -4 && exponent < max_fixed_exponent) {
    auto [fixed_end, fixed_ec] =
        std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
    return std::string(buf, fixed_end);
  }
  return scientific;
}

void AppendArrayLevel(const v1::ArrayValue& array, size_t dim, int* next,
                      char delimiter, std::string* out) {
  out->push_back('{');
  for (int i = 0; i < array.dims(static_cast<int>(dim)); ++i) {
    if (i > 0) out->push_back(delimiter);
    if (dim + 1 < static_cast<size_t>(array.dims_size())) {
      AppendArrayLevel(array, dim + 1, next, delimiter, out);
      continue;
    }
    if (*next >= array.elements_size()) return;  // malformed: stop short
    const v1::Value& element = array.elements((*next)++);
    std::optional<std::string> text =
        ValueToPgText(element, array.element_type());
    if (!text.has_value()) {
      out->append("NULL");
    } else {
      AppendArrayElement(*text, delimiter, out);
    }
  }
  out->push_back('}');
}

std::string ArrayText(const v1::ArrayValue& array) {
  if (array.dims_size() == 0) return "{}";
  std::string out;
  bool decorate = false;
  for (int lb : array.lower_bounds()) decorate |= lb != 1;
  if (decorate) {
    for (int i = 0; i < array.dims_size() && i < array.lower_bounds_size();
         ++i) {
      const int64_t lower = array.lower_bounds(i);
      absl::StrAppend(&out, "[", lower, ":", lower + array.dims(i) - 1, "]");
    }
    out.push_back('=');
  }
  const char delimiter = array.element_type() == "box" ? ';' : ',';
  int next = 0;
  AppendArrayLevel(array, 0, &next, delimiter, &out);
  return out;
}

std::string CompositeText(const v1::Row& row) {
  std::string out = "(";
  for (int i = 0; i < row.columns_size(); ++i) {
    if (i > 0) out.push_back(',');
    const v1::Column& column = row.columns(i);
    std::optional<std::string> text = ValueToPgText(
        column.value(),
        column.base_type().empty() ? column.type() : column.base_type());
    if (text.has_value()) AppendRecordField(*text, &out);
  }
  out.push_back(')');
  return out;
}

}  // namespace

std::string FormatFloat8(double value) { return FormatFloat(value, 15); }
std::string FormatFloat4(float value) { return FormatFloat(value, 6); }

std::optional<std::string> ValueToPgText(const v1::Value& value,
                                         std::string_view type) {
  switch (value.kind_case()) {
    case v1::Value::kNull:
    case v1::Value::kUnchangedToast:
    case v1::Value::KIND_NOT_SET:
      return std::nullopt;
    case v1::Value::kBoolValue:
      return std::string(value.bool_value() ? "t" : "f");
    case v1::Value::kIntValue:
      return absl::StrCat(value.int_value());
    case v1::Value::kDoubleValue:
      return type == "float4"
                 ? FormatFloat4(static_cast<float>(value.double_value()))
                 : FormatFloat8(value.double_value());
    case v1::Value::kNumericValue:
      return value.numeric_value().value();
    case v1::Value::kText:
      return value.text();
    case v1::Value::kTextBytes:  // the same text, only not UTF-8
      return value.text_bytes();
    case v1::Value::kBytesValue: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "\\x";
      out.reserve(2 + 2 * value.bytes_value().size());
      for (unsigned char c : value.bytes_value()) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return out;
    }
    case v1::Value::kTimestampUs:
      return FormatTimestamptz(value.timestamp_us());
    case v1::Value::kLocalTimestampUs:
      return FormatTimestamp(value.local_timestamp_us());
    case v1::Value::kDateDays:
      return FormatDate(value.date_days());
    case v1::Value::kTimeUs:
      return FormatTime(value.time_us());
    case v1::Value::kArrayValue:
      return ArrayText(value.array_value());
    case v1::Value::kCompositeValue:
      return CompositeText(value.composite_value());
    case v1::Value::kIntervalValue: {
      const v1::Interval& i = value.interval_value();
      return FormatInterval({i.months(), i.days(), i.microseconds()});
    }
  }
  return std::nullopt;
}

}  // namespace cdc::envelope
