#include "cdc/envelope/debezium_default.h"

#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "cdc/common/absl_compat.h"

namespace cdc::envelope {
namespace {

// How PostgresDefaultValueConverter.createDefaultValueMappers reads a type.
enum class Kind {
  kBit,       // bit, varbit
  kBool,      // bool
  kText,      // bpchar, varchar, text, xml, json, jsonb
  kInteger,   // int2, int4, int8
  kDecimal,   // numeric, float4, float8
  kLiteral,   // uuid, date, time, timestamp, timestamptz: quoted only
  kInterval,  // interval: no placeholder
};

struct Mapper {
  std::string_view type;
  Kind kind;
  // Debezium trims the expression first (TRIM_DATA_TYPES).
  bool trim;
  // What a function call or CURRENT_* stands for, in PostgreSQL's output
  // form; nullopt: Debezium's placeholder does not parse (no default).
  std::optional<std::string_view> placeholder;
};

// Debezium's mapper names are pg_type names: PostgresType.getName() of the
// column's type OID, that is pg_catalog's typname for built-in types.
constexpr Mapper kMappers[] = {
    {"bit", Kind::kBit, true, std::nullopt},
    {"varbit", Kind::kBit, true, std::nullopt},
    {"bool", Kind::kBool, true, "f"},
    {"bpchar", Kind::kText, false, ""},
    {"varchar", Kind::kText, false, ""},
    {"text", Kind::kText, false, ""},
    {"xml", Kind::kText, false, ""},
    {"json", Kind::kText, false, "{}"},
    {"jsonb", Kind::kText, false, "{}"},
    {"numeric", Kind::kDecimal, true, "0.0"},
    {"float4", Kind::kDecimal, true, "0.0"},
    {"float8", Kind::kDecimal, true, "0.0"},
    {"int2", Kind::kInteger, true, "0"},
    {"int4", Kind::kInteger, true, "0"},
    {"int8", Kind::kInteger, true, "0"},
    {"uuid", Kind::kLiteral, true, "00000000-0000-0000-0000-000000000000"},
    {"date", Kind::kLiteral, true, "1970-01-01"},
    {"time", Kind::kLiteral, true, "00:00:00"},
    {"timestamp", Kind::kLiteral, true, "1970-01-01 00:00:00"},
    {"timestamptz", Kind::kLiteral, true, "1970-01-01 00:00:00+00"},
    // PGInterval("epoch") throws: a generated interval default has none.
    {"interval", Kind::kInterval, true, std::nullopt},
};

const Mapper* MapperFor(std::string_view type_name) {
  for (const Mapper& m : kMappers) {
    if (m.type == type_name) return &m;
  }
  return nullptr;
}

bool IsNameChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '.';
}

// FUNCTION_DEFAULT_PATTERN, ^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\) with
// find(): an optional '(', a name, '(', then a ')' later on the same line.
bool LooksLikeFunctionCall(std::string_view e) {
  size_t i = !e.empty() && e[0] == '(' ? 1 : 0;
  const size_t name = i;
  while (i < e.size() && IsNameChar(e[i])) ++i;
  if (i == name || i >= e.size() || e[i] != '(') return false;
  for (++i; i < e.size() && e[i] != '\n'; ++i) {
    if (e[i] == ')') return true;
  }
  return false;
}

// CURRENT_DATE_TIMES, compared ignoring case.
bool IsCurrentDateTime(std::string_view e) {
  for (std::string_view name :
       {"current_timestamp", "current_time", "current_date", "localtime",
        "localtimestamp"}) {
    if (absl::EqualsIgnoreCase(AsAbsl(e), AsAbsl(name))) return true;
  }
  return false;
}

// Java's String.trim(): every char up to ' ' off both ends.
std::string_view JavaTrim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') {
    s.remove_suffix(1);
  }
  return s;
}

// One quoted literal under casts and parentheses only, as the server
// deparses a constant: `'x'::text`, `('x'::text)::character varying(20)`,
// `B'101'::"bit"` (with `bit_prefix`). Sets `value` (quotes undoubled) and
// `cast` (the text of the last cast's type, "" for none). False for
// anything else: an expression whose first literal Debezium would take.
bool SingleLiteral(std::string_view e, bool bit_prefix, std::string* value,
                   std::string_view* cast) {
  size_t i = 0;
  while (i < e.size() && e[i] == '(') ++i;
  if (bit_prefix && i < e.size() && e[i] == 'B') ++i;
  if (i >= e.size() || e[i] != '\'') return false;
  value->clear();
  for (++i;; ++i) {
    if (i >= e.size()) return false;
    if (e[i] != '\'') {
      value->push_back(e[i]);
    } else if (i + 1 < e.size() && e[i + 1] == '\'') {
      value->push_back('\'');
      ++i;
    } else {
      break;
    }
  }
  std::string_view rest = e.substr(i + 1);
  *cast = "";
  // What may follow: ')' and casts to type names, which hold letters,
  // digits, '_', '.', ' ', '"', typmods "(…)" and array brackets; an
  // operator or a second literal makes it an expression.
  while (!rest.empty()) {
    if (rest[0] == ')') {
      rest.remove_prefix(1);
      continue;
    }
    if (!absl::StartsWith(AsAbsl(rest), "::")) return false;
    rest.remove_prefix(2);
    size_t n = 0;
    int depth = 0;
    bool quoted = false;
    for (; n < rest.size(); ++n) {
      const char c = rest[n];
      if (c == '"') {
        quoted = !quoted;
      } else if (quoted) {
        continue;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (depth == 0) break;
        --depth;
      } else if (c == ':') {
        break;
      } else if (!IsNameChar(c) && c != ' ' && c != '[' && c != ']' &&
                 !(depth > 0 && c == ',')) {
        return false;
      }
    }
    if (quoted || depth != 0 || n == 0) return false;
    *cast = rest.substr(0, n);
    rest.remove_prefix(n);
  }
  return true;
}

// An identifier of a TypeId: its quotes removed ("" undoubled).
std::string Unquote(std::string_view part) {
  if (part.size() < 2 || part.front() != '"' || part.back() != '"') {
    return std::string(part);
  }
  std::string out;
  for (size_t i = 1; i + 1 < part.size(); ++i) {
    out.push_back(part[i]);
    if (part[i] == '"' && i + 2 < part.size() && part[i + 1] == '"') ++i;
  }
  return out;
}

// TypeId.parse: [schema.]name, each part possibly quoted.
void SplitTypeId(std::string_view id, std::string* schema, std::string* name) {
  bool quoted = false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] == '"') quoted = !quoted;
    if (id[i] == '.' && !quoted) {
      *schema = Unquote(id.substr(0, i));
      *name = Unquote(id.substr(i + 1));
      return;
    }
  }
  schema->clear();
  *name = Unquote(id);
}

// extractEnumDefault: a literal cast to the column's enum type, the names
// equal and the schemas equal or either one absent.
std::optional<std::string> EnumDefault(std::string_view type_name,
                                       std::string_view e) {
  std::string value;
  std::string_view cast;
  if (!SingleLiteral(e, false, &value, &cast) || cast.empty()) {
    return std::nullopt;
  }
  std::string schema, name, cast_schema, cast_name;
  // pg::TypeInfo names a type outside pg_catalog "schema.typname", unquoted.
  if (const size_t dot = type_name.find('.'); dot != std::string_view::npos) {
    schema = std::string(type_name.substr(0, dot));
    name = std::string(type_name.substr(dot + 1));
  } else {
    name = std::string(type_name);
  }
  SplitTypeId(cast, &cast_schema, &cast_name);
  if (name != cast_name) return std::nullopt;
  if (!schema.empty() && !cast_schema.empty() && schema != cast_schema) {
    return std::nullopt;
  }
  return value;
}

bool IsInteger(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// A bare number as the server deparses one (digits, a point, an exponent).
bool IsDecimal(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  bool digits = false, point = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    if (absl::ascii_isdigit(s[i])) {
      digits = true;
    } else if (s[i] == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!digits) return false;
  if (i == s.size()) return true;
  if (s[i] != 'e' && s[i] != 'E') return false;
  return IsInteger(s.substr(i + 1));
}

// convertDefaultValue: a BigDecimal's scale raised to the column's, by
// zeros (never lowered). An exponent form is left as it is.
std::string WithScale(std::string value, int scale) {
  if (scale < 0 || value.find_first_of("eE") != std::string::npos ||
      !IsDecimal(value)) {
    return value;
  }
  const size_t point = value.find('.');
  int have = point == std::string::npos
                 ? 0
                 : static_cast<int>(value.size() - point - 1);
  if (have >= scale) return value;
  if (point == std::string::npos) value.push_back('.');
  value.append(static_cast<size_t>(scale - have), '0');
  return value;
}

}  // namespace

std::optional<std::string> DebeziumDefaultText(std::string_view type_name,
                                               bool is_enum,
                                               std::string_view expression,
                                               int numeric_scale) {
  // parseNullDefault and extractDefault: an explicit NULL is no default.
  if (absl::StartsWith(AsAbsl(expression), "NULL::")) return std::nullopt;
  // Enum mappers are registered per enum type and use no placeholder.
  if (is_enum) return EnumDefault(type_name, expression);
  const Mapper* mapper = MapperFor(type_name);
  if (mapper == nullptr) return std::nullopt;
  std::string_view e = mapper->trim ? JavaTrim(expression) : expression;
  if (absl::StartsWith(AsAbsl(e), "NULL::")) return std::nullopt;
  if (LooksLikeFunctionCall(e) || IsCurrentDateTime(e)) {
    if (!mapper->placeholder.has_value()) return std::nullopt;
    if (type_name == "numeric") {
      return WithScale(std::string(*mapper->placeholder), numeric_scale);
    }
    return std::string(*mapper->placeholder);
  }
  std::string value;
  std::string_view cast;
  const bool quoted = e.find('\'') != std::string_view::npos;
  if (quoted && !SingleLiteral(e, mapper->kind == Kind::kBit, &value, &cast)) {
    return std::nullopt;
  }
  switch (mapper->kind) {
    case Kind::kBool: {
      // Boolean.parseBoolean: only "true" is true; pgcdc keeps the two
      // constants the server deparses and drops expressions.
      std::string_view v = quoted ? std::string_view(value) : e;
      if (absl::EqualsIgnoreCase(AsAbsl(v), "true")) return std::string("t");
      if (absl::EqualsIgnoreCase(AsAbsl(v), "false")) return std::string("f");
      return std::nullopt;
    }
    case Kind::kInteger:
      if (quoted) return value;
      if (!IsInteger(e)) return std::nullopt;
      return std::string(e);
    case Kind::kDecimal: {
      if (!quoted && !IsDecimal(e)) return std::nullopt;
      std::string number = quoted ? value : std::string(e);
      if (type_name == "numeric") return WithScale(number, numeric_scale);
      return number;
    }
    case Kind::kText:
    case Kind::kBit:
    case Kind::kLiteral:
    case Kind::kInterval:
      // The server deparses these constants quoted; bare text is an
      // expression (CURRENT_USER, say).
      if (!quoted) return std::nullopt;
      return value;
  }
  return std::nullopt;
}

}  // namespace cdc::envelope
