#include "cdc/pg/copy_text.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "cdc/common/status_macros.h"

namespace cdc::pg {
namespace {

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// The control character that \<letter> stands for, or 0.
char ControlFor(char letter) {
  // Pairs: the letter, then the character.
  static constexpr char kPairs[] = "b\bf\fn\nr\rt\tv\v";
  for (size_t k = 0; k + 1 < sizeof(kPairs); k += 2) {
    if (kPairs[k] == letter) return kPairs[k + 1];
  }
  return 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes the escapes of one column's raw text `raw` into `out`.
// `column` (0-based) and `row_offset` only name the place in errors.
absl::Status Unescape(std::string_view raw, size_t column, size_t row_offset,
                      std::string* out) {
  out->clear();
  out->reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    // Copy the run up to the next backslash in one go.
    size_t backslash = raw.find('\\', i);
    if (backslash == std::string_view::npos) {
      out->append(raw.data() + i, raw.size() - i);
      break;
    }
    out->append(raw.data() + i, backslash - i);
    i = backslash + 1;
    if (i >= raw.size()) {
      return absl::DataLossError(absl::StrCat(
          "COPY row: column ", column + 1, " (byte ", row_offset + backslash,
          ") ends in a lone backslash; expected an escaped character after "
          "it"));
    }
    const char c = raw[i++];
    if (char control = ControlFor(c); control != 0) {
      out->push_back(control);
    } else if (c == 'x' && i < raw.size() && HexValue(raw[i]) >= 0) {
      int value = HexValue(raw[i++]);
      if (i < raw.size() && HexValue(raw[i]) >= 0) {
        value = value * 16 + HexValue(raw[i++]);
      }
      out->push_back(static_cast<char>(value));
    } else if (IsOctal(c)) {
      int value = c - '0';
      for (int digits = 1; digits < 3 && i < raw.size() && IsOctal(raw[i]);
           ++digits) {
        value = value * 8 + (raw[i++] - '0');
      }
      // Three octal digits reach 0777; COPY FROM keeps the low byte.
      out->push_back(static_cast<char>(value & 0xff));
    } else {
      // \\, and any other escaped character (\x without a hex digit too).
      out->push_back(c);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseCopyTextRow(std::string_view row, size_t columns,
                              TupleData* out) {
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  if (out->values.size() != columns) out->values.resize(columns);
  if (columns == 0) {  // a table without columns: each row is an empty line
    if (row.empty()) return absl::OkStatus();
    return absl::DataLossError(
        "COPY row: expected an empty row for a table without columns");
  }
  size_t column = 0;
  size_t start = 0;
  for (;;) {
    // A tab inside a value is always escaped (\t), so each raw tab ends a
    // column; a raw newline cannot appear before the row's end.
    size_t tab = row.find('\t', start);
    size_t end = tab == std::string_view::npos ? row.size() : tab;
    std::string_view raw = row.substr(start, end - start);
    if (column >= columns) {
      return absl::DataLossError(absl::StrCat(
          "COPY row: expected ", columns,
          " columns but found more (a tab at byte ", start - 1, ")"));
    }
    if (raw.find('\n') != std::string_view::npos ||
        raw.find('\r') != std::string_view::npos) {
      return absl::DataLossError(absl::StrCat(
          "COPY row: column ", column + 1,
          " holds a raw line break; expected one row ended by a newline, "
          "with \\n and \\r escaped"));
    }
    TupleValue& value = out->values[column];
    if (raw == "\\N") {
      value.kind = TupleValue::Kind::kNull;
      value.data.clear();
    } else {
      value.kind = TupleValue::Kind::kText;
      CDC_RETURN_IF_ERROR(Unescape(raw, column, start, &value.data));
    }
    ++column;
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (column != columns) {
    return absl::DataLossError(absl::StrCat("COPY row: expected ", columns,
                                            " columns but found ", column));
  }
  return absl::OkStatus();
}

}  // namespace cdc::pg
