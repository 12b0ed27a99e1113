#include "cdc/envelope/debezium_hstore.h"

#include <utility>

namespace cdc::envelope {
namespace {

// One quoted hstore string at text[*pos] ('"' already checked); unescapes
// it into *out and moves *pos past the closing quote.
bool ReadQuoted(std::string_view text, size_t* pos, std::string* out) {
  size_t i = *pos + 1;
  out->clear();
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c == '\\') {
      if (++i == text.size()) return false;
    }
    out->push_back(text[i]);
    ++i;
  }
  return false;  // unterminated
}

// The next code point of UTF-8 `text` at *pos (advanced past it); U+FFFD
// for a byte that does not start a valid sequence, which is skipped alone.
uint32_t NextCodePoint(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  const unsigned char b0 = byte(*pos);
  if (b0 < 0x80) {
    ++*pos;
    return b0;
  }
  int length = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, min = 0x10000;
  }
  if (length == 0 || *pos + length > text.size()) {
    ++*pos;
    return 0xFFFD;
  }
  for (int k = 1; k < length; ++k) {
    const unsigned char b = byte(*pos + k);
    if ((b & 0xC0) != 0x80) {
      ++*pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*pos;
    return 0xFFFD;
  }
  *pos += length;
  return cp;
}

// HashMap.hash: the hash's high half folded into its low half.
uint32_t Spread(int32_t hash) {
  const auto h = static_cast<uint32_t>(hash);
  return h ^ (h >> 16);
}

}  // namespace

bool ParseHstore(std::string_view text, std::vector<HstoreEntry>* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    if (!out->empty()) {
      if (text.substr(i, 2) != ", ") return false;
      i += 2;
    }
    HstoreEntry entry;
    if (i >= text.size() || text[i] != '"' ||
        !ReadQuoted(text, &i, &entry.key)) {
      return false;
    }
    if (text.substr(i, 2) != "=>") return false;
    i += 2;
    if (text.substr(i, 4) == "NULL") {
      i += 4;
    } else if (i < text.size() && text[i] == '"') {
      entry.value.emplace();
      if (!ReadQuoted(text, &i, &*entry.value)) return false;
    } else {
      return false;
    }
    out->push_back(std::move(entry));
  }
  return true;
}

int32_t JavaStringHash(std::string_view text) {
  uint32_t h = 0;  // int arithmetic wraps in Java; unsigned does here
  size_t pos = 0;
  while (pos < text.size()) {
    const uint32_t cp = NextCodePoint(text, &pos);
    if (cp >= 0x10000) {
      const uint32_t v = cp - 0x10000;
      h = 31 * h + (0xD800 + (v >> 10));
      h = 31 * h + (0xDC00 + (v & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return static_cast<int32_t>(h);
}

std::vector<HstoreEntry> InJavaHashMapOrder(std::vector<HstoreEntry> entries) {
  // HashMap's constants: DEFAULT_INITIAL_CAPACITY, the load factor 0.75,
  // TREEIFY_THRESHOLD and MIN_TREEIFY_CAPACITY.
  constexpr size_t kInitialCapacity = 16;
  constexpr size_t kTreeifyThreshold = 8;
  constexpr size_t kMinTreeifyCapacity = 64;
  std::vector<uint32_t> hashes;
  hashes.reserve(entries.size());
  for (const HstoreEntry& e : entries) {
    hashes.push_back(Spread(JavaStringHash(e.key)));
  }
  // Buckets of indices into `entries`, each in insertion order.
  std::vector<std::vector<size_t>> table(kInitialCapacity);
  size_t size = 0;
  auto resize = [&] {
    const size_t old_capacity = table.size();
    std::vector<std::vector<size_t>> grown(old_capacity * 2);
    for (size_t j = 0; j < old_capacity; ++j) {
      for (size_t index : table[j]) {
        grown[(hashes[index] & old_capacity) == 0 ? j : j + old_capacity]
            .push_back(index);
      }
    }
    table = std::move(grown);
  };
  for (size_t index = 0; index < entries.size(); ++index) {
    std::vector<size_t>& bucket = table[hashes[index] & (table.size() - 1)];
    bool replaced = false;
    for (size_t other : bucket) {
      if (hashes[other] == hashes[index] &&
          entries[other].key == entries[index].key) {
        entries[other].value = std::move(entries[index].value);
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    bucket.push_back(index);
    // putVal treeifies a bin that had TREEIFY_THRESHOLD entries before this
    // one; treeifyBin only resizes a table below MIN_TREEIFY_CAPACITY.
    if (bucket.size() > kTreeifyThreshold &&
        table.size() < kMinTreeifyCapacity) {
      resize();
    }
    if (++size > table.size() / 4 * 3) resize();
  }
  std::vector<HstoreEntry> ordered;
  ordered.reserve(size);
  for (const std::vector<size_t>& bucket : table) {
    for (size_t index : bucket) ordered.push_back(std::move(entries[index]));
  }
  return ordered;
}

}  // namespace cdc::envelope
