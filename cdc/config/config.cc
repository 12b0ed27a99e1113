#include "cdc/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace cdc::config {
namespace {

// PostgreSQL silently truncates identifiers to NAMEDATALEN - 1 bytes, so a
// longer name would never match what the server reports.
constexpr size_t kMaxIdentifierBytes = 63;
// Kafka's own limit on a topic name; the prefix alone must fit in it.
constexpr size_t kMaxTopicBytes = 249;

// The keys each section of the file accepts. The parser refuses any other,
// and AcceptedKeys() lists these same arrays, so that the documentation can
// be checked against what is parsed. Maps whose keys are free-form
// (kafka.properties, kafka.topics.configs) have no list.
using KeyList = absl::Span<const std::string_view>;
constexpr std::string_view kRootKeys[] = {"source", "kafka",    "metrics",
                                          "log",    "snapshot", "messages",
                                          "events", "signals",  "debezium"};
constexpr std::string_view kSourceKeys[] = {"dsn",
                                            "slot",
                                            "publication",
                                            "tables",
                                            "status_interval_ms",
                                            "receive_timeout_ms",
                                            "heartbeat_interval_ms",
                                            "protocol_version",
                                            "streaming",
                                            "spill_directory",
                                            "spill_memory_bytes",
                                            "slot_failover"};
constexpr std::string_view kKafkaKeys[] = {"bootstrap_servers",
                                           "topic_prefix",
                                           "properties",
                                           "max_inflight_bytes",
                                           "shutdown_timeout_ms",
                                           "startup_timeout_ms",
                                           "dead_letter_topic",
                                           "topics",
                                           "format"};
constexpr std::string_view kTopicsKeys[] = {"create", "partitions",
                                            "replication_factor", "configs"};
constexpr std::string_view kMetricsKeys[] = {"listen"};
constexpr std::string_view kLogKeys[] = {"format", "level",
                                         "progress_interval_s"};
constexpr const char* kLogFormats[] = {"text", "json"};
constexpr const char* kLogLevels[] = {"debug", "info", "warn", "error"};
constexpr std::string_view kSnapshotKeys[] = {"mode", "chunk_rows",
                                              "chunk_timeout_ms"};
constexpr std::string_view kMessagesKeys[] = {"prefixes", "topic"};
constexpr std::string_view kEventsKeys[] = {"key_change"};
constexpr std::string_view kSignalsKeys[] = {"secret"};
constexpr std::string_view kDebeziumKeys[] = {
    "schemas.enable",       "decimal.handling.mode",
    "time.precision.mode",  "binary.handling.mode",
    "tombstones.on.delete", "unavailable.value.placeholder",
    "skipped.operations",   "provide.transaction.metadata"};

// Where each list applies, by the dotted path of its map ("" is the top).
struct Section {
  std::string_view path;
  KeyList keys;
};
constexpr Section kSections[] = {{"", kRootKeys},
                                 {"source", kSourceKeys},
                                 {"kafka", kKafkaKeys},
                                 {"kafka.topics", kTopicsKeys},
                                 {"metrics", kMetricsKeys},
                                 {"log", kLogKeys},
                                 {"snapshot", kSnapshotKeys},
                                 {"messages", kMessagesKeys},
                                 {"events", kEventsKeys},
                                 {"signals", kSignalsKeys},
                                 {"debezium", kDebeziumKeys}};

// Kafka's legal topic names (and prefixes of them).
bool IsTopicName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxTopicBytes &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
         });
}
// A configuration is a few kilobytes; the cap keeps a path such as /dev/zero
// from being read forever.
constexpr off_t kMaxConfigFileBytes = 16 << 20;
// systemd's own limit on one credential (CREDENTIAL_SIZE_MAX).
constexpr size_t kMaxCredentialBytes = 1 << 20;
// Where systemd's LoadCredential= puts a service's credentials.
constexpr char kCredentialsDirectoryVariable[] = "CREDENTIALS_DIRECTORY";
constexpr std::string_view kCredentialPrefix = "credential:";

// Reads `fd` to its end, at most `max_bytes`; on failure, why.
absl::Status ReadToEnd(int fd, size_t max_bytes, std::string* out) {
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InvalidArgumentError(std::strerror(errno));
    }
    if (n == 0) return absl::OkStatus();
    out->append(buffer, static_cast<size_t>(n));
    if (out->size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("larger than ", max_bytes, " bytes"));
    }
  }
}

bool IsVariableName(std::string_view name) {
  return !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '_';
         });
}

// A credential name that can only name a file directly inside
// $CREDENTIALS_DIRECTORY: no '/', no "." or "..", nothing hidden.
bool IsCredentialName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name[0] != '.' &&
         name.find("..") == std::string_view::npos &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
         });
}

// One piece of a scalar once its ${...} references are resolved: text
// written in the file ("$${" already turned into "${"), or the text a
// reference stands for.
struct Piece {
  std::string text;
  bool substituted = false;
};

std::string Join(const std::vector<Piece>& pieces) {
  std::string out;
  for (const Piece& piece : pieces) out += piece.text;
  return out;
}

// libpq's isspace() in the C locale, which its connection string parser
// uses.
bool IsDsnSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

// Appends `text` as the inside of a single-quoted libpq value: '\' and '\''
// escaped with a backslash, everything else as it is (spaces and '=' mean
// nothing inside quotes).
void AppendQuotedValueText(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == '\\' || c == '\'') out->push_back('\\');
    out->push_back(c);
  }
}

// Appends `text` percent-encoded for any part of a postgresql:// URI: only
// RFC 3986's unreserved characters stay as they are. libpq decodes the user,
// password, host, port, database and query parameters.
void AppendPercentEncoded(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
}

// Assembles a libpq keyword/value connection string from its pieces,
// following libpq's own parser (conninfo_parse in fe-connect.c) so as to
// know where each substituted piece falls:
//   - where a keyword may start (or inside one): the piece is connection
//     string text, read as if written in the file (a whole dsn kept in one
//     variable);
//   - where a value starts or inside an unquoted value: the value becomes a
//     single-quoted one, its written text unescaped as libpq reads it and
//     the piece's text taken as it is, '\' and '\'' escaped;
//   - inside a single-quoted value: the piece's '\' and '\'' are escaped.
// So a substituted value is always exactly one value, whatever characters
// it has. Values without substituted text are copied as written.
class KeywordDsnWriter {
 public:
  void Add(const Piece& piece) {
    if (!piece.substituted || state_ == State::kBetween ||
        state_ == State::kKeyword || state_ == State::kBeforeEquals) {
      for (char c : piece.text) Written(c);
      return;
    }
    if (state_ == State::kBeforeValue) StartUnquoted();
    if (state_ == State::kUnquoted) {
      // A backslash written just before the reference has nothing of the
      // file's to escape: it stays a backslash.
      if (escape_) meaning_.push_back('\\');
      escape_ = false;
      meaning_ += piece.text;
      quote_ = true;
      return;
    }
    // kQuoted. Likewise for a pending backslash: doubled, it cannot escape
    // the piece's first character.
    if (escape_) out_.push_back('\\');
    escape_ = false;
    AppendQuotedValueText(piece.text, &out_);
  }

  std::string Finish() {
    if (state_ == State::kUnquoted) EndUnquoted();
    return std::move(out_);
  }

 private:
  enum class State {
    kBetween,       // where a keyword may start
    kKeyword,       // in a keyword
    kBeforeEquals,  // blanks after a keyword
    kBeforeValue,   // after '=', blanks before the value
    kUnquoted,      // in an unquoted value
    kQuoted,        // in a single-quoted value
  };

  // One character written in the file.
  void Written(char c) {
    switch (state_) {
      case State::kBetween:
        out_.push_back(c);
        if (c == '=') {
          state_ = State::kBeforeValue;
        } else if (!IsDsnSpace(c)) {
          state_ = State::kKeyword;
        }
        return;
      case State::kKeyword:
      case State::kBeforeEquals:
        out_.push_back(c);
        if (c == '=') {
          state_ = State::kBeforeValue;
        } else if (IsDsnSpace(c)) {
          state_ = State::kBeforeEquals;
        } else if (state_ == State::kBeforeEquals) {
          state_ = State::kKeyword;  // libpq refuses this ("missing =")
        }
        return;
      case State::kBeforeValue:
        if (IsDsnSpace(c)) {
          out_.push_back(c);
        } else if (c == '\'') {
          out_.push_back(c);
          state_ = State::kQuoted;
        } else {
          StartUnquoted();
          Written(c);
        }
        return;
      case State::kUnquoted:
        if (escape_) {
          escape_ = false;
          written_.push_back(c);
          meaning_.push_back(c);
        } else if (IsDsnSpace(c)) {
          EndUnquoted();
          out_.push_back(c);
          state_ = State::kBetween;
        } else if (c == '\\') {
          escape_ = true;
          written_.push_back(c);
        } else {
          written_.push_back(c);
          meaning_.push_back(c);
        }
        return;
      case State::kQuoted:
        out_.push_back(c);
        if (escape_) {
          escape_ = false;
        } else if (c == '\\') {
          escape_ = true;
        } else if (c == '\'') {
          state_ = State::kBetween;
        }
        return;
    }
  }

  void StartUnquoted() {
    state_ = State::kUnquoted;
    written_.clear();
    meaning_.clear();
    escape_ = false;
    quote_ = false;
  }

  void EndUnquoted() {
    if (quote_) {
      // A trailing backslash escapes nothing; libpq drops it, so does this.
      out_.push_back('\'');
      AppendQuotedValueText(meaning_, &out_);
      out_.push_back('\'');
    } else {
      out_ += written_;
    }
    escape_ = false;
  }

  State state_ = State::kBetween;
  std::string out_;
  // The unquoted value being read: as written, and as libpq reads it.
  std::string written_;
  std::string meaning_;
  bool quote_ = false;   // it has substituted text: written out quoted
  bool escape_ = false;  // the last character written was a backslash
};

// The connection string or URI `pieces` make, with every substituted piece
// in a value made to stand for exactly that value (see KeywordDsnWriter and
// AppendPercentEncoded). Like libpq, it tells a URI by its prefix; a
// reference that opens the dsn is dsn text (the whole dsn may live in one
// variable), so the prefix is looked for in its text and what follows it.
std::string AssembleDsn(const std::vector<Piece>& pieces) {
  std::string head;
  size_t next = 0;
  if (!pieces.empty() && pieces[0].substituted) head = pieces[next++].text;
  std::string start = head;
  if (next < pieces.size() && !pieces[next].substituted) {
    start += pieces[next].text;
  }
  if (absl::StartsWith(start, "postgresql://") ||
      absl::StartsWith(start, "postgres://")) {
    std::string out = std::move(head);
    for (; next < pieces.size(); ++next) {
      if (pieces[next].substituted) {
        AppendPercentEncoded(pieces[next].text, &out);
      } else {
        out += pieces[next].text;
      }
    }
    return out;
  }
  KeywordDsnWriter writer;
  for (const Piece& piece : pieces) writer.Add(piece);
  return writer.Finish();
}

bool ProcessGetenv(std::string_view name, std::string* value) {
  const char* found = std::getenv(std::string(name).c_str());
  if (found == nullptr) return false;
  *value = found;
  return true;
}

const char* KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Edits (insert, delete, substitute, swap adjacent) between `a` and `b`;
// counting a swap as one edit catches the commonest typo ("slto").
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The known key closest to `key` when it is plausibly a typo of it (e.g.
// "bootstrap.servers" for "bootstrap_servers"); empty otherwise.
std::string_view ClosestKey(std::string_view key, KeyList known) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : known) {
    const size_t distance = EditDistance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // Short keys differ from each other by little, so they get less slack.
  const size_t allowed = key.size() <= 3 ? 1 : key.size() <= 8 ? 2 : 3;
  return best_distance <= allowed ? best : std::string_view();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

// One entry of a YAML map, with its key already read as text.
struct Entry {
  std::string key;
  int line = 0;  // of the key
  YAML::Node value;
};

// A YAML map whose keys were checked against the ones its section accepts.
struct Map {
  std::string path;  // dotted path of the map; empty for the document root
  int line = 1;      // where the map starts; where missing keys are reported
  std::vector<Entry> entries;

  const Entry* Find(std::string_view key) const {
    for (const Entry& entry : entries) {
      if (entry.key == key) return &entry;
    }
    return nullptr;
  }
  std::string Child(std::string_view key) const {
    return path.empty() ? std::string(key)
                        : absl::StrCat(path, ".", AsAbsl(key));
  }
};

// A scalar's text after ${...} expansion, with where it came from.
struct Value {
  std::string text;
  std::string path;
  int line = 0;
  std::string written;       // the scalar as the file has it
  bool substituted = false;  // some of `text` came from a ${...} reference
};

// `value` as an error message quotes it. Text that came from a ${...}
// reference is not shown, only the reference: it may be a secret put under
// the wrong key.
std::string Quoted(const Value& value) {
  if (!value.substituted) return absl::StrCat("\"", value.text, "\"");
  return absl::StrCat("\"", value.written, "\" (its expansion is not shown)");
}

// How the text of a reference is put into a scalar.
enum class Syntax {
  kPlain,  // as it is
  kDsn,    // a libpq connection string or URI: see AssembleDsn
};

class Parser {
 public:
  Parser(std::string_view origin, EnvLookup getenv)
      : origin_(origin), getenv_(getenv != nullptr ? getenv : ProcessGetenv) {}

  absl::StatusOr<Config> Parse(std::string_view yaml);

 private:
  absl::Status Error(int line, std::string_view path,
                     std::string_view what) const;
  int LineOf(const YAML::Node& node, int fallback) const;

  // `node` must be a map (or empty, read as an empty map) whose keys are all
  // scalars, distinct and, unless `known` is empty, among `known`.
  absl::Status ReadMap(const YAML::Node& node, std::string path, int line,
                       KeyList known, Map* out) const;
  // The map under `key`; an absent key reads as an empty map.
  absl::Status ReadSection(const Map& parent, std::string_view key,
                           bool required, KeyList known, Map* out) const;
  // Splits `raw` at its ${VAR} and ${credential:NAME} references and reads
  // what each stands for.
  absl::Status Resolve(std::string_view raw, std::string_view path, int line,
                       std::vector<Piece>* out) const;
  // The content of $CREDENTIALS_DIRECTORY/name, one trailing newline
  // stripped. Errors name the credential, never its content.
  absl::Status ReadCredential(std::string_view name, std::string_view path,
                              int line, std::string* out) const;
  absl::Status ReadScalar(const YAML::Node& node, std::string path, int line,
                          Value* out, Syntax syntax = Syntax::kPlain) const;
  // Reads `key` of `map` when present; `*found` says whether it was.
  absl::Status ReadString(const Map& map, std::string_view key, bool required,
                          Value* out, bool* found = nullptr,
                          Syntax syntax = Syntax::kPlain) const;
  template <typename Int>
  absl::Status ReadInt(const Map& map, std::string_view key, int64_t min,
                       int64_t max, Int* out) const;
  // true/false (YAML's other spellings of booleans are refused: they are
  // more often a typo than meant).
  absl::Status ReadBool(const Map& map, std::string_view key, bool* out) const;

  absl::Status ParseSource(const Map& root, SourceConfig* out) const;
  absl::Status ParseTables(const Map& source,
                           std::vector<TableName>* out) const;
  absl::Status ParseKafka(const Map& root, KafkaConfig* out) const;
  absl::Status ParseTopics(const Map& kafka, TopicsConfig* out) const;
  // Reads the non-empty list of scalars under `key` of `map` (`*found`
  // says whether the key was there; when it is missing and not `required`,
  // `out` stays empty).
  absl::Status ReadScalarList(const Map& map, std::string_view key,
                              bool required, std::string_view noun,
                              std::vector<Value>* out,
                              bool* found = nullptr) const;
  absl::Status ParseMetrics(const Map& root, MetricsConfig* out) const;
  absl::Status ParseLog(const Map& root, LogConfig* out) const;
  absl::Status ParseSnapshot(const Map& root, SnapshotConfig* out) const;
  absl::Status ParseMessages(const Map& root, const KafkaConfig& kafka,
                             MessagesConfig* out) const;
  absl::Status ParseEvents(const Map& root, EventsConfig* out) const;
  absl::Status ParseSignals(const Map& root, SignalsConfig* out) const;
  absl::Status ParseDebezium(const Map& root, const KafkaConfig& kafka,
                             DebeziumConfig* out) const;
  // Reads `key` of `map` when present into `*out`, which must be one of
  // `allowed`.
  absl::Status ReadChoice(const Map& map, std::string_view key,
                          absl::Span<const char* const> allowed,
                          std::string* out) const;

  std::string origin_;
  EnvLookup getenv_;
};

absl::Status Parser::Error(int line, std::string_view path,
                           std::string_view what) const {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin_, ":", line, ": ", AsAbsl(what)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(origin_, ":", line, ": ", AsAbsl(path), ": ", AsAbsl(what)));
}

int Parser::LineOf(const YAML::Node& node, int fallback) const {
  if (!node.IsDefined()) return fallback;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

absl::Status Parser::ReadMap(const YAML::Node& node, std::string path, int line,
                             KeyList known, Map* out) const {
  out->path = std::move(path);
  out->line = line;
  out->entries.clear();
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) {
    return Error(line, out->path,
                 absl::StrCat("expected a map, got ", KindName(node)));
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const int key_line = LineOf(it->first, line);
    if (!it->first.IsScalar()) {
      return Error(
          key_line, out->path,
          absl::StrCat("keys must be scalars, got ", KindName(it->first)));
    }
    std::string key = it->first.Scalar();
    const std::string key_path = out->Child(key);
    if (const Entry* earlier = out->Find(key)) {
      return Error(key_line, key_path,
                   absl::StrCat("duplicate key (first set on line ",
                                earlier->line, ")"));
    }
    if (known.size() != 0 &&
        std::find(known.begin(), known.end(), key) == known.end()) {
      std::string what = "unknown key";
      std::string_view suggestion = ClosestKey(key, known);
      if (!suggestion.empty()) {
        absl::StrAppend(&what, "; did you mean \"", out->Child(suggestion),
                        "\"?");
      } else if (out->path == "kafka" && key.find('.') != std::string::npos) {
        // Looks like a librdkafka property put one level too high.
        absl::StrAppend(&what,
                        "; librdkafka properties go under "
                        "kafka.properties");
      }
      return Error(key_line, key_path, what);
    }
    out->entries.push_back({std::move(key), key_line, it->second});
  }
  return absl::OkStatus();
}

absl::Status Parser::ReadSection(const Map& parent, std::string_view key,
                                 bool required, KeyList known, Map* out) const {
  const Entry* entry = parent.Find(key);
  if (entry == nullptr) {
    if (required) {
      return Error(parent.line, parent.Child(key), "required key is missing");
    }
    return ReadMap(YAML::Node(), parent.Child(key), parent.line, known, out);
  }
  // Missing keys inside are reported at the section's own key.
  return ReadMap(entry->value, parent.Child(key), entry->line, known, out);
}

absl::Status Parser::Resolve(std::string_view raw, std::string_view path,
                             int line, std::vector<Piece>* out) const {
  // One left-to-right pass; substituted text is not scanned again, so a
  // value containing "${" cannot pull in other variables.
  out->clear();
  std::string written;
  auto flush_written = [&]() {
    if (!written.empty()) out->push_back({std::move(written), false});
    written.clear();
  };
  size_t i = 0;
  while (i < raw.size()) {
    if (raw.compare(i, 3, "$${") == 0) {
      written.append("${");
      i += 3;
      continue;
    }
    if (raw.compare(i, 2, "${") != 0) {
      written.push_back(raw[i++]);
      continue;
    }
    const size_t close = raw.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Error(line, path,
                   "unterminated \"${\" (write \"$${\" for a literal \"${\")");
    }
    const std::string_view name = raw.substr(i + 2, close - i - 2);
    std::string value;
    if (absl::StartsWith(AsAbsl(name), AsAbsl(kCredentialPrefix))) {
      const std::string_view credential = name.substr(kCredentialPrefix.size());
      if (!IsCredentialName(credential)) {
        return Error(line, path,
                     absl::StrCat("\"${", AsAbsl(name),
                                  "}\" is not a valid credential reference "
                                  "(a name is 1 to 255 letters, digits, '_', "
                                  "'-' and '.', not starting with '.' nor "
                                  "containing \"..\")"));
      }
      CDC_RETURN_IF_ERROR(ReadCredential(credential, path, line, &value));
    } else {
      if (!IsVariableName(name)) {
        return Error(line, path,
                     absl::StrCat("\"${", AsAbsl(name),
                                  "}\" is not a valid environment variable "
                                  "reference (write \"$${\" for a literal "
                                  "\"${\")"));
      }
      if (!getenv_(name, &value)) {
        return Error(
            line, path,
            absl::StrCat("environment variable ", AsAbsl(name), " is not set"));
      }
    }
    flush_written();
    out->push_back({std::move(value), true});
    i = close + 1;
  }
  flush_written();
  return absl::OkStatus();
}

absl::Status Parser::ReadCredential(std::string_view name,
                                    std::string_view path, int line,
                                    std::string* out) const {
  auto fail = [&](std::string_view why) {
    return Error(line, path,
                 absl::StrCat("credential ", AsAbsl(name), ": ", AsAbsl(why)));
  };
  std::string directory;
  if (!getenv_(kCredentialsDirectoryVariable, &directory) ||
      directory.empty()) {
    return fail(absl::StrCat(kCredentialsDirectoryVariable,
                             " is not set (systemd sets it for a service "
                             "with LoadCredential=)"));
  }
  const std::string file = absl::StrCat(directory, "/", AsAbsl(name));
  // O_NONBLOCK: a FIFO in its place must not hang the start (only a regular
  // file is read).
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return fail(absl::StrCat("cannot read ", file, ": ", std::strerror(errno)));
  }
  out->clear();
  absl::Status read;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    read = absl::InvalidArgumentError(std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    read = absl::InvalidArgumentError("not a regular file");
  } else {
    read = ReadToEnd(fd, kMaxCredentialBytes, out);
  }
  ::close(fd);
  if (!read.ok()) {
    out->clear();
    return fail(absl::StrCat("cannot read ", file, ": ", read.message()));
  }
  if (out->find('\0') != std::string::npos) {
    out->clear();
    // Connection strings and librdkafka properties are C strings.
    return fail(absl::StrCat(file,
                             " contains a NUL byte, which no value "
                             "can carry"));
  }
  if (!out->empty() && out->back() == '\n') out->pop_back();
  return absl::OkStatus();
}

absl::Status Parser::ReadScalar(const YAML::Node& node, std::string path,
                                int line, Value* out, Syntax syntax) const {
  if (node.IsNull()) return Error(line, path, "value is missing");
  if (!node.IsScalar()) {
    return Error(line, path,
                 absl::StrCat("expected a scalar, got ", KindName(node)));
  }
  out->line = LineOf(node, line);
  out->written = node.Scalar();
  std::vector<Piece> pieces;
  CDC_RETURN_IF_ERROR(Resolve(out->written, path, out->line, &pieces));
  out->substituted =
      std::any_of(pieces.begin(), pieces.end(),
                  [](const Piece& piece) { return piece.substituted; });
  out->text = syntax == Syntax::kDsn ? AssembleDsn(pieces) : Join(pieces);
  out->path = std::move(path);
  return absl::OkStatus();
}

absl::Status Parser::ReadString(const Map& map, std::string_view key,
                                bool required, Value* out, bool* found,
                                Syntax syntax) const {
  const Entry* entry = map.Find(key);
  if (found != nullptr) *found = entry != nullptr;
  if (entry == nullptr) {
    if (required) {
      return Error(map.line, map.Child(key), "required key is missing");
    }
    return absl::OkStatus();
  }
  return ReadScalar(entry->value, map.Child(key), entry->line, out, syntax);
}

template <typename Int>
absl::Status Parser::ReadInt(const Map& map, std::string_view key, int64_t min,
                             int64_t max, Int* out) const {
  Value value;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(map, key, /*required=*/false, &value, &found));
  if (!found) return absl::OkStatus();
  std::string_view digits = value.text;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  int64_t parsed = 0;
  if (!AllDigits(digits) || !absl::SimpleAtoi(value.text, &parsed) ||
      parsed < min || parsed > max) {
    return Error(value.line, value.path,
                 absl::StrCat("must be an integer from ", min, " to ", max,
                              ", got ", Quoted(value)));
  }
  *out = static_cast<Int>(parsed);
  return absl::OkStatus();
}

absl::Status Parser::ReadBool(const Map& map, std::string_view key,
                              bool* out) const {
  Value value;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(map, key, /*required=*/false, &value, &found));
  if (!found) return absl::OkStatus();
  if (value.text != "true" && value.text != "false") {
    return Error(value.line, value.path,
                 absl::StrCat("must be true or false, got ", Quoted(value)));
  }
  *out = value.text == "true";
  return absl::OkStatus();
}

absl::Status Parser::ParseSource(const Map& root, SourceConfig* out) const {
  Map source;
  CDC_RETURN_IF_ERROR(
      ReadSection(root, "source", /*required=*/true, kSourceKeys, &source));

  Value dsn;
  CDC_RETURN_IF_ERROR(ReadString(source, "dsn", /*required=*/true, &dsn,
                                 /*found=*/nullptr, Syntax::kDsn));
  if (dsn.text.empty()) return Error(dsn.line, dsn.path, "must not be empty");
  out->dsn = std::move(dsn.text);

  Value slot;
  CDC_RETURN_IF_ERROR(ReadString(source, "slot", /*required=*/true, &slot));
  const bool slot_ok =
      !slot.text.empty() && slot.text.size() <= kMaxIdentifierBytes &&
      std::all_of(slot.text.begin(), slot.text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
  if (!slot_ok) {
    return Error(slot.line, slot.path,
                 absl::StrCat(Quoted(slot),
                              " is not a valid replication slot name (1 to "
                              "63 of lower-case letters, digits and _)"));
  }
  out->slot = std::move(slot.text);

  Value publication;
  CDC_RETURN_IF_ERROR(
      ReadString(source, "publication", /*required=*/true, &publication));
  if (publication.text.empty() ||
      publication.text.size() > kMaxIdentifierBytes) {
    return Error(
        publication.line, publication.path,
        absl::StrCat("must be 1 to ", kMaxIdentifierBytes, " bytes long"));
  }
  out->publication = std::move(publication.text);

  CDC_RETURN_IF_ERROR(ParseTables(source, &out->tables));
  CDC_RETURN_IF_ERROR(ReadInt(source, "status_interval_ms", 100, 3600000,
                              &out->status_interval_ms));
  CDC_RETURN_IF_ERROR(ReadInt(source, "receive_timeout_ms", 0, 3600000,
                              &out->receive_timeout_ms));
  CDC_RETURN_IF_ERROR(ReadInt(source, "heartbeat_interval_ms", 0, 3600000,
                              &out->heartbeat_interval_ms));
  CDC_RETURN_IF_ERROR(
      ReadInt(source, "protocol_version", 0, 3, &out->protocol_version));
  CDC_RETURN_IF_ERROR(ReadBool(source, "streaming", &out->streaming));
  CDC_RETURN_IF_ERROR(ReadBool(source, "slot_failover", &out->slot_failover));
  Value spill_directory;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(source, "spill_directory", /*required=*/false,
                                 &spill_directory, &found));
  if (found) {
    if (spill_directory.text.empty()) {
      return Error(spill_directory.line, spill_directory.path,
                   "must not be empty");
    }
    out->spill_directory = std::move(spill_directory.text);
  }
  return ReadInt(source, "spill_memory_bytes", 0, int64_t{1} << 40,
                 &out->spill_memory_bytes);
}

absl::Status Parser::ReadScalarList(const Map& map, std::string_view key,
                                    bool required, std::string_view noun,
                                    std::vector<Value>* out,
                                    bool* found) const {
  out->clear();
  const Entry* entry = map.Find(key);
  const std::string path = map.Child(key);
  if (found != nullptr) *found = entry != nullptr;
  if (entry == nullptr) {
    if (!required) return absl::OkStatus();
    return Error(map.line, path, "required key is missing");
  }
  const YAML::Node& list = entry->value;
  if (!list.IsSequence()) {
    return Error(entry->line, path,
                 absl::StrCat("expected a list of ", AsAbsl(noun), "s, got ",
                              KindName(list)));
  }
  if (list.size() == 0) {
    return Error(entry->line, path,
                 absl::StrCat("must list at least one ", AsAbsl(noun)));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    Value value;
    CDC_RETURN_IF_ERROR(ReadScalar(item, absl::StrCat(path, "[", i, "]"),
                                   LineOf(item, entry->line), &value));
    out->push_back(std::move(value));
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseTables(const Map& source,
                                 std::vector<TableName>* out) const {
  std::vector<Value> values;
  CDC_RETURN_IF_ERROR(
      ReadScalarList(source, "tables", /*required=*/true, "table", &values));
  std::vector<std::pair<TableName, int>> seen;  // with the line it was on
  for (const Value& value : values) {
    const std::string& text = value.text;
    TableName name;
    const size_t dot = text.find('.');
    if (dot == std::string::npos) {
      name.schema = "public";
      name.table = text;
    } else if (text.find('.', dot + 1) != std::string::npos) {
      return Error(value.line, value.path,
                   absl::StrCat(Quoted(value),
                                " has more than one dot; expected "
                                "\"schema.table\" or \"table\""));
    } else {
      name.schema = text.substr(0, dot);
      name.table = text.substr(dot + 1);
    }
    if (name.schema.empty() || name.table.empty()) {
      return Error(
          value.line, value.path,
          absl::StrCat(Quoted(value), " has an empty schema or table name"));
    }
    if (name.schema.size() > kMaxIdentifierBytes ||
        name.table.size() > kMaxIdentifierBytes) {
      return Error(value.line, value.path,
                   absl::StrCat(Quoted(value),
                                ": schema and table names are "
                                "at most ",
                                kMaxIdentifierBytes, " bytes"));
    }
    for (const auto& [earlier, earlier_line] : seen) {
      if (earlier == name) {
        return Error(
            value.line, value.path,
            absl::StrCat(
                "table ", value.substituted ? Quoted(value) : name.Qualified(),
                " is listed twice (first on line ", earlier_line, ")"));
      }
    }
    seen.emplace_back(name, value.line);
  }
  out->clear();
  for (auto& [name, line] : seen) out->push_back(std::move(name));
  return absl::OkStatus();
}

absl::Status Parser::ParseKafka(const Map& root, KafkaConfig* out) const {
  Map kafka;
  CDC_RETURN_IF_ERROR(
      ReadSection(root, "kafka", /*required=*/true, kKafkaKeys, &kafka));

  Value servers;
  CDC_RETURN_IF_ERROR(
      ReadString(kafka, "bootstrap_servers", /*required=*/true, &servers));
  if (servers.text.empty()) {
    return Error(servers.line, servers.path,
                 "must not be empty (host:port[,host:port...] or "
                 "\"embedded\")");
  }
  out->bootstrap_servers = std::move(servers.text);

  Value prefix;
  CDC_RETURN_IF_ERROR(
      ReadString(kafka, "topic_prefix", /*required=*/true, &prefix));
  if (!IsTopicName(prefix.text)) {
    return Error(
        prefix.line, prefix.path,
        absl::StrCat(Quoted(prefix),
                     " is not a valid Kafka topic prefix (1 to ",
                     kMaxTopicBytes, " of letters, digits, '.', '_' and '-')"));
  }
  out->topic_prefix = std::move(prefix.text);

  Map properties;
  CDC_RETURN_IF_ERROR(ReadSection(kafka, "properties", /*required=*/false,
                                  /*known=*/{}, &properties));
  out->properties.clear();
  for (const Entry& entry : properties.entries) {
    const std::string path = properties.Child(entry.key);
    if (entry.key.empty()) {
      return Error(entry.line, path, "property name is empty");
    }
    if (entry.key == "bootstrap.servers") {
      // Two sources for one setting would leave the winner to chance.
      return Error(entry.line, path, "set kafka.bootstrap_servers instead");
    }
    Value value;
    CDC_RETURN_IF_ERROR(ReadScalar(entry.value, path, entry.line, &value));
    out->properties[entry.key] = std::move(value.text);
  }

  // At most 1 GiB: the window bounds pgcdc's memory (unacknowledged events,
  // an incremental snapshot's chunk), so it must be a size a host has.
  CDC_RETURN_IF_ERROR(ReadInt(kafka, "max_inflight_bytes", 65536,
                              kMaxInflightBytesLimit,
                              &out->max_inflight_bytes));
  CDC_RETURN_IF_ERROR(ReadInt(kafka, "startup_timeout_ms", 0, 3600000,
                              &out->startup_timeout_ms));
  Value dead_letter;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(kafka, "dead_letter_topic", /*required=*/false,
                                 &dead_letter, &found));
  if (found) {
    if (!IsTopicName(dead_letter.text)) {
      return Error(dead_letter.line, dead_letter.path,
                   absl::StrCat(Quoted(dead_letter),
                                " is not a valid Kafka topic name"));
    }
    out->dead_letter_topic = std::move(dead_letter.text);
  }
  CDC_RETURN_IF_ERROR(ParseTopics(kafka, &out->topics));
  CDC_RETURN_IF_ERROR(ReadChoice(kafka, "format", kFormats, &out->format));
  return ReadInt(kafka, "shutdown_timeout_ms", 0, 600000,
                 &out->shutdown_timeout_ms);
}

absl::Status Parser::ParseTopics(const Map& kafka, TopicsConfig* out) const {
  Map topics;
  CDC_RETURN_IF_ERROR(
      ReadSection(kafka, "topics", /*required=*/false, kTopicsKeys, &topics));
  CDC_RETURN_IF_ERROR(ReadBool(topics, "create", &out->create));
  // Kafka's own limits: a partition count is an int32, a replication
  // factor an int16.
  CDC_RETURN_IF_ERROR(
      ReadInt(topics, "partitions", 1, 2147483647, &out->partitions));
  CDC_RETURN_IF_ERROR(ReadInt(topics, "replication_factor", 1, 32767,
                              &out->replication_factor));
  Map configs;
  CDC_RETURN_IF_ERROR(ReadSection(topics, "configs", /*required=*/false,
                                  /*known=*/{}, &configs));
  out->configs.clear();
  for (const Entry& entry : configs.entries) {
    const std::string path = configs.Child(entry.key);
    // Kafka's config names are dotted lower-case words; anything else is a
    // typo or an attempt to smuggle text into the broker's request.
    if (entry.key.empty() ||
        !std::all_of(entry.key.begin(), entry.key.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                 c == '.' || c == '_' || c == '-';
        })) {
      return Error(entry.line, path,
                   "is not a Kafka topic config name (letters, digits, '.', "
                   "'_' and '-')");
    }
    if (entry.key == "bootstrap.servers" ||
        absl::StartsWith(entry.key, "sasl.") ||
        absl::StartsWith(entry.key, "ssl.")) {
      return Error(entry.line, path,
                   "is a client property, not a topic config: it goes under "
                   "kafka.properties");
    }
    Value value;
    CDC_RETURN_IF_ERROR(ReadScalar(entry.value, path, entry.line, &value));
    out->configs[entry.key] = std::move(value.text);
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseMetrics(const Map& root, MetricsConfig* out) const {
  Map metrics;
  CDC_RETURN_IF_ERROR(
      ReadSection(root, "metrics", /*required=*/false, kMetricsKeys, &metrics));
  Value listen;
  bool found = false;
  CDC_RETURN_IF_ERROR(
      ReadString(metrics, "listen", /*required=*/false, &listen, &found));
  // An empty value (e.g. from an empty ${VAR}) means no endpoint, as absence
  // does.
  if (!found || listen.text.empty()) return absl::OkStatus();

  const std::string& text = listen.text;
  auto bad = [&](std::string_view why) {
    return Error(
        listen.line, listen.path,
        absl::StrCat(Quoted(listen), " is not host:port: ", AsAbsl(why)));
  };
  std::string_view host;
  std::string_view port;
  if (text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return bad("unclosed '['");
    host = std::string_view(text).substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("the port is missing");
    }
    port = std::string_view(text).substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return bad("the port is missing");
    host = std::string_view(text).substr(0, colon);
    port = std::string_view(text).substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad("write an IPv6 address in brackets, e.g. [::1]:9187");
    }
  }
  if (host.empty()) {
    return bad("the host is missing (0.0.0.0 listens on every interface)");
  }
  int port_number = 0;
  if (!AllDigits(port) || port.size() > 5 ||
      !absl::SimpleAtoi(AsAbsl(port), &port_number) || port_number < 1 ||
      port_number > 65535) {
    return bad("the port must be from 1 to 65535");
  }
  out->listen = text;
  return absl::OkStatus();
}

absl::Status Parser::ParseLog(const Map& root, LogConfig* out) const {
  Map log;
  CDC_RETURN_IF_ERROR(
      ReadSection(root, "log", /*required=*/false, kLogKeys, &log));
  CDC_RETURN_IF_ERROR(
      ReadInt(log, "progress_interval_s", 0, 86400, &out->progress_interval_s));
  // One of `names`, or an error listing them.
  auto read_choice = [&](const char* key, absl::Span<const char* const> names,
                         std::string* value) -> absl::Status {
    Value v;
    bool found = false;
    CDC_RETURN_IF_ERROR(ReadString(log, key, /*required=*/false, &v, &found));
    if (!found) return absl::OkStatus();
    for (const char* name : names) {
      if (v.text == name) {
        *value = v.text;
        return absl::OkStatus();
      }
    }
    return Error(v.line, v.path,
                 absl::StrCat(Quoted(v),
                              " is not one of: ", absl::StrJoin(names, ", ")));
  };
  CDC_RETURN_IF_ERROR(read_choice("format", kLogFormats, &out->format));
  return read_choice("level", kLogLevels, &out->level);
}

absl::Status Parser::ParseSnapshot(const Map& root, SnapshotConfig* out) const {
  Map snapshot;
  CDC_RETURN_IF_ERROR(ReadSection(root, "snapshot", /*required=*/false,
                                  kSnapshotKeys, &snapshot));
  CDC_RETURN_IF_ERROR(
      ReadInt(snapshot, "chunk_rows", 1, 1000000, &out->chunk_rows));
  CDC_RETURN_IF_ERROR(ReadInt(snapshot, "chunk_timeout_ms", 1000, 86400000,
                              &out->chunk_timeout_ms));
  Value mode;
  bool found = false;
  CDC_RETURN_IF_ERROR(
      ReadString(snapshot, "mode", /*required=*/false, &mode, &found));
  if (!found) return absl::OkStatus();
  bool known = false;
  for (const char* m : kSnapshotModes) known = known || mode.text == m;
  if (!known) {
    return Error(mode.line, mode.path,
                 absl::StrCat(Quoted(mode),
                              " is not a snapshot mode; use initial, never, "
                              "always, initial_only or when_needed"));
  }
  out->mode = std::move(mode.text);
  return absl::OkStatus();
}

absl::Status Parser::ParseMessages(const Map& root, const KafkaConfig& kafka,
                                   MessagesConfig* out) const {
  Map messages;
  CDC_RETURN_IF_ERROR(ReadSection(root, "messages", /*required=*/false,
                                  kMessagesKeys, &messages));
  std::vector<Value> prefixes;
  bool section = root.Find("messages") != nullptr;
  CDC_RETURN_IF_ERROR(ReadScalarList(messages, "prefixes",
                                     /*required=*/section, "prefix",
                                     &prefixes));
  for (const Value& prefix : prefixes) {
    if (prefix.text.empty()) {
      return Error(prefix.line, prefix.path,
                   "an empty prefix matches nothing; use \"*\" for all");
    }
    out->prefixes.push_back(prefix.text);
  }
  Value topic;
  bool found = false;
  CDC_RETURN_IF_ERROR(
      ReadString(messages, "topic", /*required=*/false, &topic, &found));
  if (found) {
    if (!IsTopicName(topic.text)) {
      return Error(
          topic.line, topic.path,
          absl::StrCat(Quoted(topic), " is not a valid Kafka topic name (1 to ",
                       kMaxTopicBytes,
                       " of letters, digits, '.', '_' and '-')"));
    }
    out->topic = std::move(topic.text);
  } else {
    out->topic =
        kafka.topic_prefix +
        (kafka.format == kFormatDebeziumJson ? ".message" : ".messages");
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseEvents(const Map& root, EventsConfig* out) const {
  Map events;
  CDC_RETURN_IF_ERROR(
      ReadSection(root, "events", /*required=*/false, kEventsKeys, &events));
  Value key_change;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(events, "key_change", /*required=*/false,
                                 &key_change, &found));
  if (!found) return absl::OkStatus();
  if (key_change.text != "delete_create" && key_change.text != "update") {
    return Error(key_change.line, key_change.path,
                 absl::StrCat(Quoted(key_change),
                              ": expected \"delete_create\" or \"update\""));
  }
  out->key_change = std::move(key_change.text);
  return absl::OkStatus();
}

absl::Status Parser::ReadChoice(const Map& map, std::string_view key,
                                absl::Span<const char* const> allowed,
                                std::string* out) const {
  Value value;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(map, key, /*required=*/false, &value, &found));
  if (!found) return absl::OkStatus();
  for (const char* a : allowed) {
    if (value.text == a) {
      *out = std::move(value.text);
      return absl::OkStatus();
    }
  }
  std::vector<std::string> quoted;
  for (const char* a : allowed) quoted.push_back(absl::StrCat("\"", a, "\""));
  return Error(value.line, value.path,
               absl::StrCat(Quoted(value), ": expected one of ",
                            absl::StrJoin(quoted, ", ")));
}

absl::Status Parser::ParseDebezium(const Map& root, const KafkaConfig& kafka,
                                   DebeziumConfig* out) const {
  const Entry* entry = root.Find("debezium");
  if (entry != nullptr && kafka.format != kFormatDebeziumJson) {
    return Error(entry->line, "debezium",
                 absl::StrCat("these settings are those of kafka.format \"",
                              kFormatDebeziumJson, "\"; the format is \"",
                              kafka.format, "\""));
  }
  Map debezium;
  CDC_RETURN_IF_ERROR(ReadSection(root, "debezium", /*required=*/false,
                                  kDebeziumKeys, &debezium));
  CDC_RETURN_IF_ERROR(
      ReadBool(debezium, "schemas.enable", &out->schemas_enable));
  static constexpr const char* kDecimalModes[] = {"precise", "double",
                                                  "string"};
  CDC_RETURN_IF_ERROR(ReadChoice(debezium, "decimal.handling.mode",
                                 kDecimalModes, &out->decimal_handling_mode));
  static constexpr const char* kTimeModes[] = {
      "adaptive", "adaptive_time_microseconds", "connect"};
  CDC_RETURN_IF_ERROR(ReadChoice(debezium, "time.precision.mode", kTimeModes,
                                 &out->time_precision_mode));
  static constexpr const char* kBinaryModes[] = {"bytes", "base64",
                                                 "base64-url-safe", "hex"};
  CDC_RETURN_IF_ERROR(ReadChoice(debezium, "binary.handling.mode", kBinaryModes,
                                 &out->binary_handling_mode));
  CDC_RETURN_IF_ERROR(
      ReadBool(debezium, "tombstones.on.delete", &out->tombstones_on_delete));
  CDC_RETURN_IF_ERROR(ReadBool(debezium, "provide.transaction.metadata",
                               &out->provide_transaction_metadata));
  Value placeholder;
  bool found = false;
  CDC_RETURN_IF_ERROR(ReadString(debezium, "unavailable.value.placeholder",
                                 /*required=*/false, &placeholder, &found));
  if (found) out->unavailable_value_placeholder = std::move(placeholder.text);
  Value skipped;
  found = false;
  CDC_RETURN_IF_ERROR(ReadString(debezium, "skipped.operations",
                                 /*required=*/false, &skipped, &found));
  if (found) {
    // Debezium's form: a comma-separated list of c, u, d, t, or "none".
    out->skipped_operations.clear();
    for (absl::string_view op : absl::StrSplit(skipped.text, ',')) {
      op = absl::StripAsciiWhitespace(op);
      if (op == "none" && skipped.text.find(',') == std::string::npos) break;
      if (op != "c" && op != "u" && op != "d" && op != "t") {
        return Error(skipped.line, skipped.path,
                     absl::StrCat(Quoted(skipped),
                                  ": expected \"none\" or a comma-separated "
                                  "list of c, u, d and t"));
      }
      out->skipped_operations.emplace_back(op);
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseSignals(const Map& root, SignalsConfig* out) const {
  Map signals;
  CDC_RETURN_IF_ERROR(
      ReadSection(root, "signals", /*required=*/false, kSignalsKeys, &signals));
  Value secret;
  bool found = false;
  CDC_RETURN_IF_ERROR(
      ReadString(signals, "secret", /*required=*/false, &secret, &found));
  // An empty value (an empty ${VAR}) means none, as absence does.
  if (!found || secret.text.empty()) return absl::OkStatus();
  // Never repeated in a message: it is a secret.
  if (secret.text.size() < kMinSignalSecretBytes) {
    return Error(secret.line, secret.path,
                 absl::StrCat("too short (", secret.text.size(),
                              " bytes); use at least ", kMinSignalSecretBytes,
                              " random bytes, e.g. from openssl rand -hex 32"));
  }
  out->secret = std::move(secret.text);
  return absl::OkStatus();
}

absl::StatusOr<Config> Parser::Parse(std::string_view yaml) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return Error(line, "", absl::StrCat("malformed YAML: ", e.msg));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return Error(1, "",
                 "the configuration is empty (it needs at least the source "
                 "and kafka sections)");
  }
  if (documents.size() > 1) {
    return Error(LineOf(documents[1], 1), "",
                 "expected one YAML document, found more");
  }
  const YAML::Node& document = documents[0];
  const int line = LineOf(document, 1);
  if (!document.IsMap()) {
    return Error(line, "",
                 absl::StrCat("expected a map at the top level, got ",
                              KindName(document)));
  }

  // yaml-cpp builds nodes lazily in places and reports misuse by throwing;
  // nothing below should, but an escaped exception would end the process.
  try {
    Map root;
    CDC_RETURN_IF_ERROR(ReadMap(document, "", line, kRootKeys, &root));
    Config config;
    CDC_RETURN_IF_ERROR(ParseSource(root, &config.source));
    CDC_RETURN_IF_ERROR(ParseKafka(root, &config.kafka));
    CDC_RETURN_IF_ERROR(ParseMetrics(root, &config.metrics));
    CDC_RETURN_IF_ERROR(ParseLog(root, &config.log));
    CDC_RETURN_IF_ERROR(ParseSnapshot(root, &config.snapshot));
    CDC_RETURN_IF_ERROR(ParseMessages(root, config.kafka, &config.messages));
    CDC_RETURN_IF_ERROR(ParseEvents(root, &config.events));
    CDC_RETURN_IF_ERROR(ParseSignals(root, &config.signals));
    CDC_RETURN_IF_ERROR(ParseDebezium(root, config.kafka, &config.debezium));
    return config;
  } catch (const YAML::Exception& e) {
    const int error_line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return Error(error_line, "", absl::StrCat("invalid YAML: ", e.msg));
  }
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml,
                                   std::string_view origin, EnvLookup getenv) {
  return Parser(origin, getenv).Parse(yaml);
}

std::vector<std::string> AcceptedKeys() {
  std::vector<std::string> keys;
  for (const Section& section : kSections) {
    for (std::string_view key : section.keys) {
      std::string path(section.path);
      if (!path.empty()) path += '.';
      path += key;
      // A key that holds a section of known keys is listed through them.
      const bool holds_section =
          std::any_of(std::begin(kSections), std::end(kSections),
                      [&path](const Section& s) { return s.path == path; });
      if (!holds_section) keys.push_back(std::move(path));
    }
  }
  return keys;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      EnvLookup getenv) {
  auto unreadable = [&path](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read config file ", path, ": ", AsAbsl(why)));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unreadable(std::strerror(errno));
  std::string text;
  absl::Status status;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    status = unreadable(std::strerror(errno));
  } else if (S_ISDIR(st.st_mode)) {
    status = unreadable("is a directory");
  } else if (absl::Status read =
                 ReadToEnd(fd, static_cast<size_t>(kMaxConfigFileBytes), &text);
             !read.ok()) {
    status = unreadable(AsStd(read.message()));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return ParseConfig(text, path, getenv);
}

}  // namespace cdc::config
