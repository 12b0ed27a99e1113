#include "cdc/envelope/value_codec.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/utf8.h"
#include "cdc/envelope/datetime.h"
#include "cdc/envelope/pg_literal.h"
#include "cdc/envelope/text_error.h"

namespace cdc::envelope {
namespace {

std::string_view TypeLabel(pg::Oid type_oid) {
  switch (type_oid) {
    case kBoolOid:
      return "bool";
    case kByteaOid:
      return "bytea";
    case kInt8Oid:
      return "int8";
    case kInt2Oid:
      return "int2";
    case kInt4Oid:
      return "int4";
    case kOidOid:
      return "oid";
    case kFloat4Oid:
      return "float4";
    case kFloat8Oid:
      return "float8";
    case kNumericOid:
      return "numeric";
    default:
      return "text";
  }
}

absl::Status BadText(pg::Oid type_oid, std::string_view text,
                     std::string_view why = {}) {
  return envelope::BadText(TypeLabel(type_oid), text, why);
}

// Every text-valued case goes through here: a proto3 string must be UTF-8,
// so bytes that are not (only a SQL_ASCII database stores them) travel as
// text_bytes, unchanged, instead of making the whole event unreadable.
// Inlined into its callers: a call per text value cost as much as the check.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void SetText(std::string_view text,
                                                 v1::Value* out) {
  if (IsValidUtf8(text)) {
    out->set_text(text.data(), text.size());
  } else {
    out->set_text_bytes(text.data(), text.size());
  }
}

// For a name the event would carry in a string field (a type or attribute
// name from the catalog) that is not UTF-8: no field could hold it, so the
// event cannot be made (see the header).
absl::Status BadName(std::string_view what, std::string_view name) {
  return absl::DataLossError(absl::StrCat(
      AsAbsl(what), " \"", EscapeBytes(name), "\" is not valid UTF-8"));
}

absl::Status ParseInt(pg::Oid type_oid, std::string_view text, int64_t min,
                      int64_t max, v1::Value* out) {
  int64_t parsed = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no '+', spaces or base prefixes, which is what we want:
  // int2out/int4out/int8out/oidout print none of them.
  auto [ptr, ec] = std::from_chars(text.data(), end, parsed);
  if (ec == std::errc::result_out_of_range) {
    return BadText(type_oid, text, "out of range");
  }
  if (ec != std::errc() || ptr != end) return BadText(type_oid, text);
  if (parsed < min || parsed > max) {
    return BadText(type_oid, text, "out of range");
  }
  out->set_int_value(parsed);
  return absl::OkStatus();
}

absl::Status ParseDouble(pg::Oid type_oid, std::string_view text,
                         v1::Value* out) {
  // float4out/float8out spell the specials this way only.
  if (text == "NaN") {
    out->set_double_value(std::numeric_limits<double>::quiet_NaN());
    return absl::OkStatus();
  }
  if (text == "Infinity") {
    out->set_double_value(std::numeric_limits<double>::infinity());
    return absl::OkStatus();
  }
  if (text == "-Infinity") {
    out->set_double_value(-std::numeric_limits<double>::infinity());
    return absl::OkStatus();
  }
  // from_chars would also take "inf", "nan" and ".5", none of which the
  // server prints; insist on a digit first. from_chars is locale-independent.
  const size_t first = !text.empty() && text[0] == '-' ? 1 : 0;
  if (first >= text.size() || text[first] < '0' || text[first] > '9') {
    return BadText(type_oid, text);
  }
  double parsed = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, parsed);
  if (ec == std::errc::result_out_of_range) {
    return BadText(type_oid, text, "out of range");
  }
  if (ec != std::errc() || ptr != end) return BadText(type_oid, text);
  out->set_double_value(parsed);
  return absl::OkStatus();
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

absl::Status ParseNumeric(std::string_view text, v1::Value* out) {
  int32_t scale = 0;
  if (text != "NaN" && text != "Infinity" && text != "-Infinity") {
    // numeric_out prints [-]digits[.digits], never an exponent or a '+'.
    std::string_view rest = text;
    if (!rest.empty() && rest[0] == '-') rest.remove_prefix(1);
    const size_t dot = rest.find('.');
    if (dot == std::string_view::npos) {
      if (!IsDigits(rest)) return BadText(kNumericOid, text);
    } else {
      std::string_view fraction = rest.substr(dot + 1);
      if (!IsDigits(rest.substr(0, dot)) || !IsDigits(fraction)) {
        return BadText(kNumericOid, text);
      }
      // NUMERIC_MAX_DISPLAY_SCALE is 1000; anything near INT32_MAX is not a
      // numeric the server printed.
      if (fraction.size() >
          static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        return BadText(kNumericOid, text, "scale out of range");
      }
      scale = static_cast<int32_t>(fraction.size());
    }
  }
  v1::Decimal* decimal = out->mutable_numeric_value();
  decimal->set_value(text.data(), text.size());
  decimal->set_scale(scale);
  return absl::OkStatus();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

absl::Status ParseBytea(std::string_view text, v1::Value* out) {
  std::string* bytes = out->mutable_bytes_value();
  bytes->clear();
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    // bytea_output = hex (the default since 9.0): "\x" then two hex digits
    // per byte. An escape-format value cannot start this way, since escape
    // format always doubles a backslash.
    std::string_view hex = text.substr(2);
    if (hex.size() % 2 != 0) {
      return BadText(kByteaOid, text, "odd number of hex digits");
    }
    bytes->resize(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int high = HexDigit(hex[i]);
      const int low = HexDigit(hex[i + 1]);
      if (high < 0 || low < 0) return BadText(kByteaOid, text, "bad hex digit");
      (*bytes)[i / 2] = static_cast<char>((high << 4) | low);
    }
    return absl::OkStatus();
  }
  // bytea_output = escape: printable bytes as themselves, '\' as "\\", the
  // rest as "\ooo" (three octal digits).
  bytes->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      bytes->push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      bytes->push_back('\\');
      ++i;
      continue;
    }
    if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
        IsOctal(text[i + 2]) && IsOctal(text[i + 3])) {
      bytes->push_back(static_cast<char>(((text[i + 1] - '0') << 6) |
                                         ((text[i + 2] - '0') << 3) |
                                         (text[i + 3] - '0')));
      i += 3;
      continue;
    }
    return BadText(kByteaOid, text, "bad escape sequence");
  }
  return absl::OkStatus();
}

bool IsInfinity(std::string_view text) {
  return text == "infinity" || text == "-infinity";
}

// Date/time types. ±infinity, and timestamps a 64-bit microsecond count
// since 1970 cannot hold, stay text (see the header).
absl::Status ConvertDateTime(pg::Oid type_oid, std::string_view text,
                             v1::Value* out) {
  if (type_oid != kTimeOid && type_oid != kIntervalOid && IsInfinity(text)) {
    SetText(text, out);
    return absl::OkStatus();
  }
  switch (type_oid) {
    case kDateOid: {
      int32_t days = 0;
      CDC_RETURN_IF_ERROR(ParseDate(text, &days));
      out->set_date_days(days);
      return absl::OkStatus();
    }
    case kTimeOid: {
      int64_t micros = 0;
      CDC_RETURN_IF_ERROR(ParseTime(text, &micros));
      out->set_time_us(micros);
      return absl::OkStatus();
    }
    case kTimestampOid:
    case kTimestamptzOid: {
      int64_t micros = 0;
      absl::Status s = type_oid == kTimestampOid
                           ? ParseTimestamp(text, &micros)
                           : ParseTimestamptz(text, &micros);
      if (s.code() == absl::StatusCode::kOutOfRange) {
        SetText(text, out);
        return absl::OkStatus();
      }
      if (!s.ok()) return s;
      if (type_oid == kTimestampOid) {
        out->set_local_timestamp_us(micros);
      } else {
        out->set_timestamp_us(micros);
      }
      return absl::OkStatus();
    }
    case kIntervalOid: {
      IntervalParts parts;
      CDC_RETURN_IF_ERROR(ParseInterval(text, &parts));
      v1::Interval* interval = out->mutable_interval_value();
      interval->set_months(parts.months);
      interval->set_days(parts.days);
      interval->set_microseconds(parts.micros);
      return absl::OkStatus();
    }
    default:
      SetText(text, out);
      return absl::OkStatus();
  }
}

// Built-in scalars with a case of their own; everything else as text.
absl::Status ConvertScalar(pg::Oid type_oid, std::string_view text,
                           v1::Value* out) {
  switch (type_oid) {
    case kBoolOid:
      if (text == "t") {
        out->set_bool_value(true);
      } else if (text == "f") {
        out->set_bool_value(false);
      } else {
        return BadText(type_oid, text);
      }
      return absl::OkStatus();
    case kInt2Oid:
      return ParseInt(type_oid, text, std::numeric_limits<int16_t>::min(),
                      std::numeric_limits<int16_t>::max(), out);
    case kInt4Oid:
      return ParseInt(type_oid, text, std::numeric_limits<int32_t>::min(),
                      std::numeric_limits<int32_t>::max(), out);
    case kInt8Oid:
      return ParseInt(type_oid, text, std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<int64_t>::max(), out);
    case kOidOid:
      return ParseInt(type_oid, text, 0, std::numeric_limits<uint32_t>::max(),
                      out);
    case kFloat4Oid:
    case kFloat8Oid:
      return ParseDouble(type_oid, text, out);
    case kNumericOid:
      return ParseNumeric(text, out);
    case kByteaOid:
      return ParseBytea(text, out);
    case kDateOid:
    case kTimeOid:
    case kTimestampOid:
    case kTimestamptzOid:
    case kIntervalOid:
      return ConvertDateTime(type_oid, text, out);
    default:
      SetText(text, out);
      return absl::OkStatus();
  }
}

// Composites inside arrays inside composites... nest as deep as the catalog
// says; this only bounds a registry that (impossibly) describes a cycle.
constexpr int kMaxNesting = 32;

absl::Status Convert(const pg::TypeRegistry* types, pg::Oid type_oid,
                     std::string_view text, int depth, v1::Value* out);

absl::Status ConvertArray(const pg::TypeRegistry& types,
                          const pg::TypeInfo& array, std::string_view text,
                          int depth, v1::Value* out) {
  const pg::TypeInfo* element = types.Find(array.array_element);
  const char delimiter = element != nullptr ? element->delimiter : ',';
  ArrayLiteral literal;
  CDC_RETURN_IF_ERROR(ParseArrayLiteral(array.name, text, delimiter, &literal));
  std::string element_type = TypeNameFor(&types, array.array_element);
  if (!IsValidUtf8(element_type)) {
    return BadName(
        absl::StrCat("the element type name of ", EscapeBytes(array.name)),
        element_type);
  }
  v1::ArrayValue* result = out->mutable_array_value();
  result->Clear();
  result->set_element_type(std::move(element_type));
  for (int32_t d : literal.dims) result->add_dims(d);
  for (int32_t lb : literal.lower_bounds) result->add_lower_bounds(lb);
  result->mutable_elements()->Reserve(
      static_cast<int>(literal.elements.size()));
  for (const std::optional<std::string>& e : literal.elements) {
    v1::Value* value = result->add_elements();
    if (!e.has_value()) {
      value->mutable_null();
      continue;
    }
    if (absl::Status s =
            Convert(&types, array.array_element, *e, depth + 1, value);
        !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("element of ", array.name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ConvertComposite(const pg::TypeRegistry& types,
                              const pg::TypeInfo& composite,
                              std::string_view text, int depth,
                              v1::Value* out) {
  std::vector<std::optional<std::string>> fields;
  CDC_RETURN_IF_ERROR(ParseRecordLiteral(composite.name, text, &fields));
  // "()" is both a record of no attributes and one of one NULL attribute.
  if (composite.attributes.empty() && fields.size() == 1 &&
      !fields[0].has_value()) {
    fields.clear();
  }
  if (fields.size() != composite.attributes.size()) {
    return envelope::BadText(
        composite.name, text,
        absl::StrCat(fields.size(), " fields but the type has ",
                     composite.attributes.size(), " attributes"));
  }
  v1::Row* row = out->mutable_composite_value();
  row->Clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    const pg::TypeInfo::Attribute& attribute = composite.attributes[i];
    v1::Column* column = row->add_columns();
    column->set_name(attribute.name);
    column->set_type(TypeNameFor(&types, attribute.type_oid));
    column->set_type_oid(attribute.type_oid);
    column->set_base_type(BaseTypeNameFor(&types, attribute.type_oid));
    if (!IsValidUtf8(column->name()) || !IsValidUtf8(column->type()) ||
        !IsValidUtf8(column->base_type())) {
      const std::string what = absl::StrCat("attribute ", i + 1, " of type ",
                                            EscapeBytes(composite.name), ": ");
      if (!IsValidUtf8(column->name())) {
        return BadName(absl::StrCat(what, "its name"), column->name());
      }
      return BadName(
          absl::StrCat(what, "its type name"),
          IsValidUtf8(column->type()) ? column->base_type() : column->type());
    }
    if (!fields[i].has_value()) {
      column->mutable_value()->mutable_null();
      continue;
    }
    if (absl::Status s = Convert(&types, attribute.type_oid, *fields[i],
                                 depth + 1, column->mutable_value());
        !s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat(composite.name, ".", attribute.name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Convert(const pg::TypeRegistry* types, pg::Oid type_oid,
                     std::string_view text, int depth, v1::Value* out) {
  if (types == nullptr) return ConvertScalar(type_oid, text, out);
  if (depth > kMaxNesting) {
    return envelope::BadText(TypeNameFor(types, type_oid), text,
                             "nested too deeply");
  }
  // One lookup for the common case, a type that is no domain (this runs
  // for every column of every row); a domain is resolved to its base.
  pg::Oid base = type_oid;
  const pg::TypeInfo* info = types->Find(type_oid);
  if (info != nullptr && info->kind == pg::TypeInfo::Kind::kDomain &&
      info->domain_base != 0) {
    base = types->ResolveDomain(type_oid);
    info = types->Find(base);
  }
  if (info != nullptr) {
    if (info->array_element != 0) {
      return ConvertArray(*types, *info, text, depth, out);
    }
    if (info->kind == pg::TypeInfo::Kind::kComposite) {
      return ConvertComposite(*types, *info, text, depth, out);
    }
  }
  return ConvertScalar(base, text, out);
}

}  // namespace

absl::Status ConvertText(const pg::TypeRegistry* types, pg::Oid type_oid,
                         std::string_view text, v1::Value* out) {
  return Convert(types, type_oid, text, 0, out);
}

absl::Status TextToValue(const pg::TypeRegistry* types, pg::Oid type_oid,
                         const pg::TupleValue& value, v1::Value* out) {
  switch (value.kind) {
    case pg::TupleValue::Kind::kNull:
      out->mutable_null();
      return absl::OkStatus();
    case pg::TupleValue::Kind::kUnchangedToast:
      out->mutable_unchanged_toast();
      return absl::OkStatus();
    case pg::TupleValue::Kind::kText:
      return Convert(types, type_oid, value.data, 0, out);
    case pg::TupleValue::Kind::kBinary:
      out->set_bytes_value(value.data);
      return absl::OkStatus();
  }
  return absl::DataLossError(
      absl::StrCat("unknown tuple value kind '",
                   std::string(1, static_cast<char>(value.kind)), "'"));
}

absl::Status TextToValue(pg::Oid type_oid, const pg::TupleValue& value,
                         v1::Value* out) {
  return TextToValue(nullptr, type_oid, value, out);
}

absl::StatusOr<v1::Value> TextToValue(pg::Oid type_oid,
                                      const pg::TupleValue& value) {
  v1::Value out;
  absl::Status status = TextToValue(nullptr, type_oid, value, &out);
  if (!status.ok()) return status;
  return out;
}

std::string TypeNameFor(const pg::TypeRegistry* types, pg::Oid type_oid) {
  if (types != nullptr) {
    if (const pg::TypeInfo* info = types->Find(type_oid); info != nullptr) {
      return info->name;
    }
  }
  return absl::StrCat("oid:", type_oid);
}

std::string BaseTypeNameFor(const pg::TypeRegistry* types, pg::Oid type_oid) {
  if (types == nullptr) return "";
  const pg::TypeInfo* info = types->Find(type_oid);
  if (info == nullptr || info->kind != pg::TypeInfo::Kind::kDomain) return "";
  return TypeNameFor(types, types->ResolveDomain(type_oid));
}

}  // namespace cdc::envelope
