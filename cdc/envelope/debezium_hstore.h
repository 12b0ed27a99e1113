// hstore values as Debezium 3.6.1 writes them under its default
// hstore.handling.mode=json: PostgresValueConverter reads the value's text
// with PgJDBC's HStoreConverter.fromString into a java.util.HashMap and
// writes that map with Jackson as a JSON object, in the map's iteration
// order. That order is Java's, and this file reproduces it: a key's bucket
// is its String.hashCode spread (h ^ h >>> 16) masked to a table of 16
// slots, doubled whenever the entries pass 3/4 of it (or a bucket reaches 9
// entries while the table is below 64 slots); inside a bucket, insertion
// order. A bucket of 9 or more entries in a table of 64 slots or more
// becomes a tree in Java, whose iteration order this does not model (it
// needs that many colliding keys in one value).
//
// Pure; thread-safe.
#ifndef CDC_ENVELOPE_DEBEZIUM_HSTORE_H_
#define CDC_ENVELOPE_DEBEZIUM_HSTORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdc::envelope {

struct HstoreEntry {
  std::string key;
  std::optional<std::string> value;  // nullopt: NULL
};

// Parses hstore's output text ("k"=>"v", "k2"=>NULL: keys and values in
// double quotes, '"' and '\' escaped with a backslash, pairs separated by
// ", "; "" for an empty hstore) into its entries, in text order. False for
// text that is not in that form.
bool ParseHstore(std::string_view text, std::vector<HstoreEntry>* out);

// java.lang.String.hashCode of the string that UTF-8 `text` decodes to (over
// its UTF-16 code units; a byte that is not valid UTF-8 counts as U+FFFD, as
// Java's decoder makes it).
int32_t JavaStringHash(std::string_view text);

// `entries` in the order a java.util.HashMap<String, String> they were put
// into, in order, iterates them; a key put twice keeps its first place and
// its last value.
std::vector<HstoreEntry> InJavaHashMapOrder(std::vector<HstoreEntry> entries);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_DEBEZIUM_HSTORE_H_
