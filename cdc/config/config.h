// Config: pgcdc's YAML configuration, parsed and validated before anything
// starts.
//
// ${VAR} in any scalar is replaced from the environment (so passwords stay out
// of the file; "$${" writes a literal "${"). ${credential:NAME} is replaced by
// the content of the file $CREDENTIALS_DIRECTORY/NAME, one trailing newline
// stripped: the credentials systemd passes a service with LoadCredential=
// (NAME is 1 to 255 letters, digits, '_', '-' and '.', not starting with '.'
// nor containing ".."). An unset variable, an unset CREDENTIALS_DIRECTORY or
// a credential file that cannot be read is an error naming the key, the line
// and the variable or credential, never its content. Substituted text is not
// expanded again.
//
// In source.dsn a reference stands for exactly one value, whatever its
// characters (spaces, quotes, '=', '%', backslashes), so a password works as
// one and cannot add connection keywords:
//   - keyword/value dsn: a reference where a value starts, or inside an
//     unquoted value, makes that value single-quoted, with '\' and '\''
//     escaped as libpq reads them ("password=${PW}" becomes
//     "password='it\'s'"); inside an already single-quoted value its '\' and
//     '\'' are escaped;
//   - URI dsn (it starts with postgresql:// or postgres://): the text is
//     percent-encoded, all but RFC 3986's unreserved characters;
//   - a reference where a keyword would start (e.g. the whole dsn,
//     "${DATABASE_URL}") is dsn text, taken as it is.
// Everywhere else (Kafka properties included, which reach librdkafka as
// separate names and values) the text is put in as it is.
//
// An unknown key, a missing required key, a wrong type or a bad value is
// kInvalidArgument whose message names the key's dotted path and its line,
// e.g.
//   "pgcdc.yaml:7: kafka.topic_prefix: required key is missing".
// A bad value is quoted in the message as the file has it when it came from
// a reference: its expansion may be a secret put under the wrong key.
//
// Plain values; thread-compatible.
#ifndef CDC_CONFIG_CONFIG_H_
#define CDC_CONFIG_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/common/table_name.h"

namespace cdc::config {

// The common type (common/table_name.h), named here too so that the
// configuration's code and tests keep speaking of config::TableName.
using TableName = ::cdc::TableName;

struct SourceConfig {
  std::string dsn;                // required: libpq connection string or URI
  std::string slot;               // required: [a-z0-9_]{1,63}
  std::string publication;        // required
  std::vector<TableName> tables;  // required, non-empty, no duplicates
  // How often a standby status update is sent even when nothing changed;
  // keep well inside the server's wal_sender_timeout (default 60 s).
  int status_interval_ms = 10000;
  // A replication connection that brings nothing (not even the answer to a
  // ping sent at half this time) for this long is taken for lost and
  // reconnected; 0 turns the check off.
  int receive_timeout_ms = 60000;
  // When not 0, pgcdc writes a tiny non-transactional logical decoding
  // message (prefix "pgcdc.heartbeat", never published) this often, so that
  // the slot's position keeps moving even when nothing it publishes changes
  // and the database is otherwise idle.
  int heartbeat_interval_ms = 0;
  // pgoutput protocol version; 0 negotiates the highest the server and
  // pgcdc share (3 on PostgreSQL 15+, 2 on 14, 1 before).
  int protocol_version = 0;
  // Have the server stream large in-progress transactions (protocol 2+)
  // instead of spilling them itself and sending them at commit. pgcdc holds
  // their chunks until Stream Commit: in memory up to spill_memory_bytes over
  // all open transactions, then in unlinked files in spill_directory.
  bool streaming = true;
  std::string spill_directory;  // empty: $TMPDIR, else /tmp
  int64_t spill_memory_bytes = 16 * 1024 * 1024;
  // The slot is made (or switched to) failover = true, so that PostgreSQL
  // 17+ synchronises it to physical standbys (sync_replication_slots) and it
  // survives a promotion; refused on older servers (docs/failover.md).
  bool slot_failover = false;
};

// How pgcdc makes the topics it writes to (kafka.topics): with the Admin
// API, before the first record goes to one, because clusters often refuse
// auto-creation (auto.create.topics.enable=false). A topic that exists is
// used as it is; settings that differ from these are warned about.
struct TopicsConfig {
  // false: pgcdc never creates a topic (they are made beforehand, or by the
  // broker's auto-creation).
  bool create = true;
  // -1: the broker's num.partitions / default.replication.factor.
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  // Topic configs set at creation (cleanup.policy, min.insync.replicas,
  // retention.ms, ...), passed to the broker as written; it validates them.
  std::map<std::string, std::string> configs;
};

// The values kafka.format accepts: how records are written.
inline constexpr const char kFormatProtobuf[] = "protobuf";  // cdc.v1
inline constexpr const char kFormatJson[] = "json";  // cdc.v1, canonical JSON
// Debezium 3.x's PostgreSQL connector through Kafka's JsonConverter.
inline constexpr const char kFormatDebeziumJson[] = "debezium-json";
inline constexpr const char* kFormats[] = {kFormatProtobuf, kFormatJson,
                                           kFormatDebeziumJson};

struct KafkaConfig {
  std::string bootstrap_servers;  // required; "embedded" = in-process broker
  std::string topic_prefix;       // required
  std::string format = kFormatProtobuf;           // one of kFormats
  std::map<std::string, std::string> properties;  // passed to librdkafka
  // Bytes of produced but unacknowledged events past which pgcdc stops
  // reading from PostgreSQL (backpressure); at most kMaxInflightBytesLimit.
  int64_t max_inflight_bytes = 16 * 1024 * 1024;
  // How long SIGTERM waits for in-flight acknowledgements.
  int shutdown_timeout_ms = 30000;
  // How long `run` waits at start for a broker to answer before it gives up
  // (exit 3); 0: it does not check and waits as long as it takes. Once
  // running, outages are waited out without limit.
  int startup_timeout_ms = 30000;
  // Where an event the broker refuses for good (too large, not authorized,
  // a policy) goes instead of stopping pgcdc: a cdc.v1.DeadLetter naming it
  // and why. Empty: such an event stops pgcdc.
  std::string dead_letter_topic;
  TopicsConfig topics;
};

inline constexpr int64_t kMaxInflightBytesLimit = int64_t{1} << 30;

struct MetricsConfig {
  std::string listen;  // "host:port"; empty: no metrics endpoint
};

// What pgcdc writes to stderr.
struct LogConfig {
  // "text": "2026-11-23T01:02:03.456Z INFO message key=value"; "json": one
  // object per line (time, level, msg and the line's fields).
  std::string format = "text";
  // The least severe level written: "debug", "info", "warn" or "error".
  std::string level = "info";
  // Seconds between two progress lines (rates, lag, the in-flight window)
  // while streaming; 0 turns them off.
  int progress_interval_s = 30;
};

// When the existing rows of the tables are published (op READ) before the
// stream: see cdc/snapshot/snapshotter.h for how the handoff is made exact.
struct SnapshotConfig {
  // "initial": when pgcdc creates the slot; "never"; "always": at every
  // start; "initial_only": a snapshot, then exit (no slot kept);
  // "when_needed": when the slot is missing or lost (wal_status 'lost').
  std::string mode = "initial";
  // Incremental snapshots (`pgcdc snapshot`, tables newly added to
  // source.tables): rows read per chunk, between two watermarks. Bounds the
  // memory a chunk takes and how long a chunk's window stays open.
  int chunk_rows = 4096;
  // A chunk's read (the request's condition included) is cancelled past
  // this (statement_timeout) and tried again; a condition that keeps it
  // past this three times is given up.
  int chunk_timeout_ms = 600000;
};

// The values snapshot.mode accepts, in the order the docs list them.
inline constexpr const char* kSnapshotModes[] = {"initial", "never", "always",
                                                 "initial_only", "when_needed"};

struct EventsConfig {
  // An UPDATE that changes the row's key: "delete_create" (a DELETE of the
  // old key, then a CREATE of the new one) or "update" (one UPDATE).
  std::string key_change = "delete_create";
};

// Logical decoding messages (pg_logical_emit_message) published as MESSAGE
// events. Off unless the `messages` section is present.
struct MessagesConfig {
  // Published prefixes, matched exactly; "*" publishes every prefix.
  std::vector<std::string> prefixes;
  // Default <topic_prefix>.messages; with kafka.format debezium-json
  // <topic_prefix>.message, as Debezium names it.
  std::string topic;
  bool enabled() const { return !prefixes.empty(); }
  bool Publishes(std::string_view prefix) const {
    for (const std::string& p : prefixes) {
      if (p == "*" || p == prefix) return true;
    }
    return false;
  }
};

// The settings of the debezium-json format, under Debezium's own names and
// with its defaults (the `debezium` section; only with that format).
struct DebeziumConfig {
  bool schemas_enable = true;                     // schemas.enable
  std::string decimal_handling_mode = "precise";  // precise|double|string
  // adaptive|adaptive_time_microseconds|connect
  std::string time_precision_mode = "adaptive";
  // bytes|base64|base64-url-safe|hex
  std::string binary_handling_mode = "bytes";
  bool tombstones_on_delete = true;
  std::string unavailable_value_placeholder = "__debezium_unavailable_value";
  // skipped.operations: of c, u, d, t ("none": none). Debezium skips
  // truncates by default.
  std::vector<std::string> skipped_operations = {"t"};
  bool Skips(std::string_view op) const {
    for (const std::string& s : skipped_operations) {
      if (s == op) return true;
    }
    return false;
  }
  // provide.transaction.metadata: each streamed event's `transaction`
  // block, and BEGIN and END records on <topic_prefix>.transaction.
  bool provide_transaction_metadata = false;
};

// Who may steer pgcdc through the WAL (cdc/snapshot/signal_auth.h).
struct SignalsConfig {
  // The key snapshot signals are sealed with (HMAC-SHA256). Empty: pgcdc
  // seals its own signals with a key it keeps in the source database, and
  // nobody else can write one but through `pgcdc snapshot`.
  std::string secret;
};
inline constexpr size_t kMinSignalSecretBytes = 16;

struct Config {
  SourceConfig source;
  KafkaConfig kafka;
  MetricsConfig metrics;
  LogConfig log;
  SnapshotConfig snapshot;
  MessagesConfig messages;
  EventsConfig events;
  SignalsConfig signals;
  DebeziumConfig debezium;
};

// Parses YAML text. `origin` names the text in messages (usually the path).
// `getenv` resolves ${VAR} and CREDENTIALS_DIRECTORY; the default reads the
// process environment.
using EnvLookup = bool (*)(std::string_view name, std::string* value);
absl::StatusOr<Config> ParseConfig(std::string_view yaml,
                                   std::string_view origin = "config",
                                   EnvLookup getenv = nullptr);

// Every key ParseConfig accepts, as a dotted path ("kafka.topics.partitions").
// A section of known keys (kafka.topics) is listed through its keys; a map
// whose keys are free-form (kafka.properties) is listed itself.
std::vector<std::string> AcceptedKeys();

// Reads and parses a file; a missing or unreadable file is kInvalidArgument.
// `getenv` as for ParseConfig.
absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      EnvLookup getenv = nullptr);

}  // namespace cdc::config

#endif  // CDC_CONFIG_CONFIG_H_
