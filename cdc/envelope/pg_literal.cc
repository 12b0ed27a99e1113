#include "cdc/envelope/pg_literal.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "cdc/envelope/text_error.h"

namespace cdc::envelope {
namespace {

// PostgreSQL's MAXDIM.
constexpr size_t kMaxDims = 6;

// array_isspace / isspace in the C locale.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

bool EqualsNullIgnoringCase(std::string_view s) {
  if (s.size() != 4) return false;
  static constexpr char kNull[] = "null";
  for (size_t i = 0; i < 4; ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kNull[i]) return false;
  }
  return true;
}

bool ReadInt32(std::string_view& s, int32_t* out) {
  size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (negative) ++i;
  const size_t first = i;
  int64_t value = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - first < 11) {
    value = value * 10 + (s[i] - '0');
    ++i;
  }
  if (i == first) return false;
  if (negative) value = -value;
  if (value < std::numeric_limits<int32_t>::min() ||
      value > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  s.remove_prefix(i);
  *out = static_cast<int32_t>(value);
  return true;
}

class ArrayReader {
 public:
  ArrayReader(std::string_view text, char delimiter, ArrayLiteral* out)
      : rest_(text), delimiter_(delimiter), out_(out) {}

  // Returns an explanation on failure, "" on success.
  std::string_view Read() {
    std::vector<int32_t> declared_dims, declared_lbs;
    if (!rest_.empty() && rest_[0] == '[') {
      while (!rest_.empty() && rest_[0] == '[') {
        rest_.remove_prefix(1);
        int32_t lower = 0, upper = 0;
        if (!ReadInt32(rest_, &lower) || rest_.empty() || rest_[0] != ':') {
          return "bad dimension decoration";
        }
        rest_.remove_prefix(1);
        if (!ReadInt32(rest_, &upper) || rest_.empty() || rest_[0] != ']') {
          return "bad dimension decoration";
        }
        rest_.remove_prefix(1);
        const int64_t length = int64_t{upper} - lower + 1;
        if (length < 1 || length > std::numeric_limits<int32_t>::max() ||
            declared_dims.size() >= kMaxDims) {
          return "bad dimension decoration";
        }
        declared_dims.push_back(static_cast<int32_t>(length));
        declared_lbs.push_back(lower);
      }
      if (rest_.empty() || rest_[0] != '=') return "missing '=' after bounds";
      rest_.remove_prefix(1);
    }
    if (rest_.empty() || rest_[0] != '{') return "missing '{'";
    if (std::string_view why = ReadLevel(0); !why.empty()) return why;
    if (!rest_.empty()) return "text after the closing '}'";
    if (leaf_depth_ < 0) {
      // "{}": the empty array, which the server never decorates.
      if (!declared_dims.empty()) return "bounds on an empty array";
      out_->dims.clear();
      out_->lower_bounds.clear();
      return "";
    }
    out_->dims.assign(dims_.begin(), dims_.begin() + leaf_depth_ + 1);
    if (declared_dims.empty()) {
      out_->lower_bounds.assign(out_->dims.size(), 1);
    } else {
      if (declared_dims != out_->dims) return "bounds disagree with contents";
      out_->lower_bounds = declared_lbs;
    }
    return "";
  }

 private:
  // At rest_[0] == '{'; reads through the matching '}'.
  std::string_view ReadLevel(size_t depth) {
    if (depth >= kMaxDims) return "more than 6 dimensions";
    if (dims_.size() <= depth) dims_.push_back(-1);
    rest_.remove_prefix(1);
    int64_t count = 0;
    if (!rest_.empty() && rest_[0] == '}') {
      // Only the whole array may be empty.
      if (depth != 0) return "empty sub-array";
      rest_.remove_prefix(1);
      return "";
    }
    for (;;) {
      if (rest_.empty()) return "unterminated array";
      if (rest_[0] == '{') {
        if (leaf_depth_ >= 0 && static_cast<int>(depth) >= leaf_depth_) {
          return "sub-array where an element was expected";
        }
        if (std::string_view why = ReadLevel(depth + 1); !why.empty()) {
          return why;
        }
      } else {
        if (leaf_depth_ < 0) leaf_depth_ = static_cast<int>(depth);
        if (leaf_depth_ != static_cast<int>(depth)) {
          return "element where a sub-array was expected";
        }
        if (std::string_view why = ReadElement(); !why.empty()) return why;
      }
      ++count;
      if (rest_.empty()) return "unterminated array";
      if (rest_[0] == '}') {
        rest_.remove_prefix(1);
        break;
      }
      if (rest_[0] != delimiter_) return "expected a delimiter or '}'";
      rest_.remove_prefix(1);
    }
    if (count > std::numeric_limits<int32_t>::max()) return "too many elements";
    if (dims_[depth] < 0) {
      dims_[depth] = static_cast<int32_t>(count);
    } else if (dims_[depth] != count) {
      return "sub-arrays of different lengths";
    }
    return "";
  }

  std::string_view ReadElement() {
    if (rest_[0] == '"') {
      rest_.remove_prefix(1);
      std::string element;
      for (;;) {
        if (rest_.empty()) return "unterminated quoted element";
        const char c = rest_[0];
        rest_.remove_prefix(1);
        if (c == '"') break;
        if (c == '\\') {
          if (rest_.empty()) return "unterminated quoted element";
          element.push_back(rest_[0]);
          rest_.remove_prefix(1);
          continue;
        }
        element.push_back(c);
      }
      out_->elements.emplace_back(std::move(element));
      return "";
    }
    size_t n = 0;
    while (n < rest_.size() && rest_[n] != delimiter_ && rest_[n] != '}') {
      const char c = rest_[n];
      // array_out quotes anything holding these.
      if (c == '"' || c == '\\' || c == '{' || IsSpace(c)) {
        return "unquoted element with a special character";
      }
      ++n;
    }
    if (n == 0) return "empty unquoted element";
    std::string_view element = rest_.substr(0, n);
    rest_.remove_prefix(n);
    if (EqualsNullIgnoringCase(element)) {
      out_->elements.emplace_back(std::nullopt);
    } else {
      out_->elements.emplace_back(std::string(element));
    }
    return "";
  }

  std::string_view rest_;
  const char delimiter_;
  ArrayLiteral* out_;
  std::vector<int32_t> dims_;  // length per depth, -1 until a level closes
  int leaf_depth_ = -1;        // depth of the elements, once one was seen
};

}  // namespace

absl::Status ParseArrayLiteral(std::string_view type, std::string_view text,
                               char delimiter, ArrayLiteral* out) {
  *out = ArrayLiteral();
  ArrayReader reader(text, delimiter, out);
  if (std::string_view why = reader.Read(); !why.empty()) {
    return BadText(type, text, why);
  }
  int64_t expected = out->dims.empty() ? 0 : 1;
  for (int32_t d : out->dims) expected *= d;
  if (static_cast<int64_t>(out->elements.size()) != expected) {
    // Cannot happen when the levels agree; kept as a guard for callers that
    // index elements by dims.
    return BadText(type, text, "element count disagrees with dimensions");
  }
  return absl::OkStatus();
}

absl::Status ParseRecordLiteral(
    std::string_view type, std::string_view text,
    std::vector<std::optional<std::string>>* fields) {
  fields->clear();
  std::string_view s = text;
  if (s.size() < 2 || s.front() != '(' || s.back() != ')') {
    return BadText(type, text, "not in parentheses");
  }
  s = s.substr(1, s.size() - 2);
  // A record of zero columns prints "()"; of one NULL column also "()".
  // The caller tells them apart by the attribute count, so read "()" as one
  // NULL field and let the caller accept zero fields for zero attributes.
  for (;;) {
    if (s.empty() || s[0] == ',') {
      fields->emplace_back(std::nullopt);
    } else if (s[0] == '"') {
      s.remove_prefix(1);
      std::string field;
      for (;;) {
        if (s.empty()) return BadText(type, text, "unterminated quoted field");
        const char c = s[0];
        s.remove_prefix(1);
        if (c == '"') {
          if (!s.empty() && s[0] == '"') {
            field.push_back('"');
            s.remove_prefix(1);
            continue;
          }
          break;
        }
        if (c == '\\') {
          if (s.empty()) {
            return BadText(type, text, "unterminated quoted field");
          }
          field.push_back(s[0]);
          s.remove_prefix(1);
          continue;
        }
        field.push_back(c);
      }
      fields->emplace_back(std::move(field));
    } else {
      size_t n = 0;
      while (n < s.size() && s[n] != ',') {
        const char c = s[n];
        // record_out quotes anything holding these.
        if (c == '"' || c == '\\' || c == '(' || c == ')' || IsSpace(c)) {
          return BadText(type, text, "unquoted field with a special character");
        }
        ++n;
      }
      fields->emplace_back(std::string(s.substr(0, n)));
      s.remove_prefix(n);
    }
    if (s.empty()) break;
    if (s[0] != ',') return BadText(type, text, "expected ',' or ')'");
    s.remove_prefix(1);
  }
  return absl::OkStatus();
}

void AppendArrayElement(std::string_view element, char delimiter,
                        std::string* out) {
  bool quote = element.empty() || EqualsNullIgnoringCase(element);
  for (char c : element) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == delimiter ||
        IsSpace(c)) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(element.data(), element.size());
    return;
  }
  out->push_back('"');
  for (char c : element) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendRecordField(std::string_view field, std::string* out) {
  bool quote = field.empty();
  for (char c : field) {
    if (c == '"' || c == '\\' || c == '(' || c == ')' || c == ',' ||
        IsSpace(c)) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"' || c == '\\') out->push_back(c);
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace cdc::envelope
