#include "cdc/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cdc::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A minimal valid configuration; each key on its own line so that tests can
// swap one line (blanking a line keeps the others' numbers).
constexpr char kMinimal[] =
    "source:\n"                                  // 1
    "  dsn: \"host=db dbname=app\"\n"            // 2
    "  slot: pgcdc\n"                            // 3
    "  publication: pgcdc_pub\n"                 // 4
    "  tables: [public.customers, orders]\n"     // 5
    "kafka:\n"                                   // 6
    "  bootstrap_servers: \"127.0.0.1:9092\"\n"  // 7
    "  topic_prefix: app\n";                     // 8

// kMinimal with the first occurrence of `from` replaced by `to`.
std::string With(std::string_view from, std::string_view to,
                 std::string_view base = kMinimal) {
  std::string text(base);
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// A password with every character that means something to libpq's
// keyword/value parser or in a URI: spaces, both quotes, '%', '=', '@', '/',
// '?', '&', backslashes (one before a quote, one at the end).
constexpr char kHardPassword[] =
    "Top Secret 'q\" 100%41 a=b @/?&# \\x\\' end\\";

// The test environment for ${VAR}; EnvLookup is a plain function pointer.
bool FakeEnv(std::string_view name, std::string* value) {
  static const auto* const kEnv =
      new std::map<std::string, std::string, std::less<>>{
          {"PGHOST", "db.internal"},
          {"PGPASSWORD", "s3cr3t"},
          {"EMPTY", ""},
          {"TABLE", "sales.orders"},
          {"INTERVAL", "2500"},
          {"LZ", "lz4"},
          {"DOLLAR", "${PGHOST}"},
          {"HARD", kHardPassword},
          {"INJECT", "x dbname=other host=evil"},
          {"QUOTE", "it's"},
          {"WHOLE_DSN", "host=h port=5433 dbname=app"},
          {"EXTRA", "sslmode=require"},
          {"URL", "postgresql://app@db:5433/app"},
      };
  auto it = kEnv->find(name);
  if (it == kEnv->end()) return false;
  *value = it->second;
  return true;
}

absl::StatusOr<Config> Parse(std::string_view yaml) {
  return ParseConfig(yaml, "test.yaml", FakeEnv);
}

// Asserts kInvalidArgument with the "<origin>:<line>: <key>: " prefix and,
// when given, `detail` somewhere in the message.
void ExpectError(std::string_view yaml, int line, std::string_view key,
                 std::string_view detail = "") {
  absl::StatusOr<Config> config = Parse(yaml);
  ASSERT_FALSE(config.ok()) << yaml;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string prefix =
      key.empty()
          ? absl::StrCat("test.yaml:", line, ": ")
          : absl::StrCat("test.yaml:", line, ": ", std::string(key), ": ");
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(prefix))
      << yaml;
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr(std::string(detail)))
      << yaml;
}

TEST(ConfigTest, FullValidConfig) {
  constexpr std::string_view kFull = R"(# pgcdc
source:
  dsn: "host=127.0.0.1 port=5432 dbname=app user=pgcdc"
  slot: pgcdc_1
  publication: pgcdc
  tables:
    - public.customers
    - Sales.Orders
    - line_items
  status_interval_ms: 5000
  receive_timeout_ms: 0
  heartbeat_interval_ms: 2500
  protocol_version: 1
  streaming: false
  spill_directory: /var/lib/pgcdc/spill
  spill_memory_bytes: 0
  slot_failover: true
kafka:
  bootstrap_servers: "broker1:9092,broker2:9092"
  topic_prefix: app.cdc-v1_x
  properties:
    compression.type: lz4
    linger.ms: 5
    enable.idempotence: true
  max_inflight_bytes: 1048576
  shutdown_timeout_ms: 0
  startup_timeout_ms: 0
  dead_letter_topic: app.cdc.dead-letters
metrics:
  listen: "127.0.0.1:9187"
snapshot:
  mode: never
  chunk_rows: 100
)";
  absl::StatusOr<Config> config = Parse(kFull);
  ASSERT_TRUE(config.ok()) << config.status();
  const SourceConfig& source = config->source;
  EXPECT_EQ(source.dsn, "host=127.0.0.1 port=5432 dbname=app user=pgcdc");
  EXPECT_EQ(source.slot, "pgcdc_1");
  EXPECT_EQ(source.publication, "pgcdc");
  ASSERT_EQ(source.tables.size(), 3u);
  EXPECT_EQ(source.tables[0], (TableName{"public", "customers"}));
  EXPECT_EQ(source.tables[1], (TableName{"Sales", "Orders"}));
  EXPECT_EQ(source.tables[2], (TableName{"public", "line_items"}));
  EXPECT_EQ(source.status_interval_ms, 5000);
  EXPECT_EQ(source.receive_timeout_ms, 0);
  EXPECT_EQ(source.heartbeat_interval_ms, 2500);
  EXPECT_EQ(source.protocol_version, 1);
  EXPECT_FALSE(source.streaming);
  EXPECT_EQ(source.spill_directory, "/var/lib/pgcdc/spill");
  EXPECT_EQ(source.spill_memory_bytes, 0);
  EXPECT_TRUE(source.slot_failover);
  const KafkaConfig& kafka = config->kafka;
  EXPECT_EQ(kafka.bootstrap_servers, "broker1:9092,broker2:9092");
  EXPECT_EQ(kafka.topic_prefix, "app.cdc-v1_x");
  EXPECT_EQ(kafka.properties, (std::map<std::string, std::string>{
                                  {"compression.type", "lz4"},
                                  {"linger.ms", "5"},
                                  {"enable.idempotence", "true"}}));
  EXPECT_EQ(kafka.max_inflight_bytes, 1048576);
  EXPECT_EQ(kafka.shutdown_timeout_ms, 0);
  EXPECT_EQ(kafka.startup_timeout_ms, 0);
  EXPECT_EQ(kafka.dead_letter_topic, "app.cdc.dead-letters");
  EXPECT_EQ(config->metrics.listen, "127.0.0.1:9187");
  EXPECT_EQ(config->snapshot.mode, "never");
  EXPECT_EQ(config->snapshot.chunk_rows, 100);
}

TEST(ConfigTest, KafkaTopics) {
  absl::StatusOr<Config> config =
      Parse(absl::StrCat(kMinimal,
                         "  topics:\n"
                         "    partitions: 12\n"
                         "    replication_factor: 3\n"
                         "    configs:\n"
                         "      cleanup.policy: compact\n"
                         "      min.insync.replicas: 2\n"
                         "      retention.ms: \"604800000\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  const TopicsConfig& topics = config->kafka.topics;
  EXPECT_TRUE(topics.create);
  EXPECT_EQ(topics.partitions, 12);
  EXPECT_EQ(topics.replication_factor, 3);
  EXPECT_EQ(topics.configs, (std::map<std::string, std::string>{
                                {"cleanup.policy", "compact"},
                                {"min.insync.replicas", "2"},
                                {"retention.ms", "604800000"}}));
  absl::StatusOr<Config> off =
      Parse(absl::StrCat(kMinimal, "  topics: {create: false}\n"));
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->kafka.topics.create);
}

TEST(ConfigTest, KafkaTopicsDefaultToTheBrokers) {
  absl::StatusOr<Config> config = Parse(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->kafka.topics.create);
  EXPECT_EQ(config->kafka.topics.partitions, -1);
  EXPECT_EQ(config->kafka.topics.replication_factor, -1);
  EXPECT_TRUE(config->kafka.topics.configs.empty());
}

TEST(ConfigTest, KafkaTopicsAreChecked) {
  ExpectError(absl::StrCat(kMinimal, "  topics:\n    partitions: 0\n"), 10,
              "kafka.topics.partitions", "from 1 to 2147483647");
  ExpectError(
      absl::StrCat(kMinimal, "  topics:\n    replication_factor: 40000\n"), 10,
      "kafka.topics.replication_factor", "from 1 to 32767");
  ExpectError(absl::StrCat(kMinimal, "  topics:\n    create: yes\n"), 10,
              "kafka.topics.create", "true or false");
  ExpectError(absl::StrCat(kMinimal, "  topics:\n    partition: 3\n"), 10,
              "kafka.topics.partition", "did you mean");
  ExpectError(
      absl::StrCat(kMinimal, "  topics:\n    configs:\n      \"a b\": x\n"), 11,
      "kafka.topics.configs.a b", "not a Kafka topic config name");
  ExpectError(absl::StrCat(kMinimal,
                           "  topics:\n    configs:\n      sasl.password: "
                           "x\n"),
              11, "kafka.topics.configs.sasl.password",
              "goes under kafka.properties");
  ExpectError(absl::StrCat(kMinimal,
                           "  topics:\n    configs:\n      retention.ms: "
                           "[1]\n"),
              11, "kafka.topics.configs.retention.ms");
}

TEST(ConfigTest, OutputFormats) {
  absl::StatusOr<Config> config = Parse(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.format, "protobuf");
  EXPECT_TRUE(config->debezium.schemas_enable);
  EXPECT_EQ(config->debezium.skipped_operations, std::vector<std::string>{"t"});
  EXPECT_FALSE(config->debezium.provide_transaction_metadata);
  for (const char* format : {"protobuf", "json", "debezium-json"}) {
    config = Parse(absl::StrCat(kMinimal, "  format: ", format, "\n"));
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->kafka.format, format);
  }
  ExpectError(absl::StrCat(kMinimal, "  format: avro\n"), 9, "kafka.format",
              "expected one of \"protobuf\", \"json\", \"debezium-json\"");
}

TEST(ConfigTest, DebeziumSettingsUnderDebeziumsNames) {
  const std::string base = absl::StrCat(kMinimal, "  format: debezium-json\n");
  absl::StatusOr<Config> config =
      Parse(absl::StrCat(base,
                         "debezium:\n"
                         "  schemas.enable: false\n"
                         "  decimal.handling.mode: string\n"
                         "  time.precision.mode: connect\n"
                         "  binary.handling.mode: hex\n"
                         "  tombstones.on.delete: false\n"
                         "  unavailable.value.placeholder: \"?\"\n"
                         "  skipped.operations: \"u, d\"\n"
                         "  provide.transaction.metadata: true\n"
                         "messages:\n"
                         "  prefixes: [\"*\"]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  const DebeziumConfig& d = config->debezium;
  EXPECT_FALSE(d.schemas_enable);
  EXPECT_EQ(d.decimal_handling_mode, "string");
  EXPECT_EQ(d.time_precision_mode, "connect");
  EXPECT_EQ(d.binary_handling_mode, "hex");
  EXPECT_FALSE(d.tombstones_on_delete);
  EXPECT_EQ(d.unavailable_value_placeholder, "?");
  EXPECT_EQ(d.skipped_operations, (std::vector<std::string>{"u", "d"}));
  EXPECT_TRUE(d.Skips("u"));
  EXPECT_FALSE(d.Skips("t"));
  EXPECT_TRUE(d.provide_transaction_metadata);
  // Debezium's name for the message topic.
  EXPECT_EQ(config->messages.topic, "app.message");

  config = Parse(absl::StrCat(base, "debezium:\n  skipped.operations: none\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->debezium.skipped_operations.empty());

  ExpectError(absl::StrCat(base, "debezium:\n  skipped.operations: x\n"), 11,
              "debezium.skipped.operations", "c, u, d and t");
  ExpectError(absl::StrCat(base, "debezium:\n  decimal.handling.mode: exact\n"),
              11, "debezium.decimal.handling.mode", "expected one of");
  ExpectError(absl::StrCat(base, "debezium:\n  schemas: true\n"), 11,
              "debezium.schemas");
  // The settings of another format are a mistake, not ignored.
  ExpectError(absl::StrCat(kMinimal, "debezium:\n  schemas.enable: false\n"), 9,
              "debezium", "the format is \"protobuf\"");
}

TEST(ConfigTest, FlowStyleMaps) {
  absl::StatusOr<Config> config = Parse(
      "source: {dsn: x, slot: s, publication: p, tables: [t]}\n"
      "kafka: {bootstrap_servers: embedded, topic_prefix: app,"
      " properties: {compression.type: lz4}}\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.bootstrap_servers, "embedded");
  EXPECT_EQ(config->kafka.properties.at("compression.type"), "lz4");
}

TEST(ConfigTest, Defaults) {
  absl::StatusOr<Config> config = Parse(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.status_interval_ms, 10000);
  EXPECT_EQ(config->source.receive_timeout_ms, 60000);
  EXPECT_EQ(config->source.heartbeat_interval_ms, 0);
  EXPECT_EQ(config->source.protocol_version, 0);
  EXPECT_TRUE(config->source.streaming);
  EXPECT_EQ(config->source.spill_directory, "");
  EXPECT_EQ(config->source.spill_memory_bytes, 16 * 1024 * 1024);
  EXPECT_FALSE(config->source.slot_failover);
  EXPECT_TRUE(config->kafka.properties.empty());
  EXPECT_EQ(config->kafka.max_inflight_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(config->kafka.shutdown_timeout_ms, 30000);
  EXPECT_EQ(config->kafka.startup_timeout_ms, 30000);
  EXPECT_EQ(config->kafka.dead_letter_topic, "");
  EXPECT_EQ(config->metrics.listen, "");
  EXPECT_EQ(config->snapshot.mode, "initial");
  EXPECT_EQ(config->snapshot.chunk_rows, 4096);
}

TEST(ConfigTest, EmptyOptionalSectionsAreAllowed) {
  absl::StatusOr<Config> config =
      Parse(absl::StrCat(kMinimal, "  properties:\nmetrics:\nsnapshot: {}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->kafka.properties.empty());
  EXPECT_EQ(config->metrics.listen, "");
}

TEST(ConfigTest, RangeBoundsAreInclusive) {
  absl::StatusOr<Config> low = Parse(absl::StrCat(
      With("  tables: [public.customers, orders]\n",
           "  tables: [t]\n  status_interval_ms: 100\n"),
      "  max_inflight_bytes: 65536\n  shutdown_timeout_ms: 600000\n"));
  ASSERT_TRUE(low.ok()) << low.status();
  EXPECT_EQ(low->source.status_interval_ms, 100);
  EXPECT_EQ(low->kafka.max_inflight_bytes, 65536);
  EXPECT_EQ(low->kafka.shutdown_timeout_ms, 600000);
  absl::StatusOr<Config> high =
      Parse(With("  tables: [public.customers, orders]\n",
                 "  tables: [t]\n  status_interval_ms: 3600000\n"));
  ASSERT_TRUE(high.ok()) << high.status();
  EXPECT_EQ(high->source.status_interval_ms, 3600000);
}

// --- Table names -------------------------------------------------------------

TEST(ConfigTest, TableNamesAreParsedVerbatim) {
  absl::StatusOr<Config> config =
      Parse(With("[public.customers, orders]",
                 "[customers, app.Orders, \"MixedCase\", \"we ird.ta ble\"]"));
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<TableName>& tables = config->source.tables;
  ASSERT_EQ(tables.size(), 4u);
  EXPECT_EQ(tables[0], (TableName{"public", "customers"}));
  EXPECT_EQ(tables[0].Qualified(), "public.customers");
  EXPECT_EQ(tables[1], (TableName{"app", "Orders"}));
  EXPECT_EQ(tables[2], (TableName{"public", "MixedCase"}));
  EXPECT_EQ(tables[3], (TableName{"we ird", "ta ble"}));
}

TEST(ConfigTest, TableNamesWithMoreThanOneDotAreRejected) {
  ExpectError(With("[public.customers, orders]", "[a.b.c]"), 5,
              "source.tables[0]", "more than one dot");
}

TEST(ConfigTest, TableNamesWithEmptyPartsAreRejected) {
  for (const char* bad : {"\".orders\"", "\"public.\"", "\".\"", "\"\""}) {
    ExpectError(
        With("[public.customers, orders]", absl::StrCat("[orders, ", bad, "]")),
        5, "source.tables[1]", "empty");
  }
}

TEST(ConfigTest, OverlongTableNamesAreRejected) {
  ExpectError(With("[public.customers, orders]",
                   absl::StrCat("[", std::string(64, 't'), "]")),
              5, "source.tables[0]", "at most 63 bytes");
  EXPECT_TRUE(Parse(With("[public.customers, orders]",
                         absl::StrCat("[", std::string(63, 't'), "]")))
                  .ok());
}

TEST(ConfigTest, DuplicateTablesAreRejected) {
  // "orders" is public.orders.
  ExpectError(With("  tables: [public.customers, orders]\n",
                   "  tables:\n    - public.orders\n    - x.y\n"
                   "    - orders\n"),
              8, "source.tables[2]",
              "public.orders is listed twice (first "
              "on line 6)");
  // Case matters: these are different tables.
  EXPECT_TRUE(
      Parse(With("[public.customers, orders]", "[orders, Orders]")).ok());
}

TEST(ConfigTest, TablesMustBeANonEmptyListOfScalars) {
  ExpectError(With("[public.customers, orders]", "[]"), 5, "source.tables",
              "at least one table");
  ExpectError(With("[public.customers, orders]", "public.customers"), 5,
              "source.tables", "expected a list of tables, got a scalar");
  ExpectError(With("[public.customers, orders]", ""), 5, "source.tables",
              "got nothing");
  ExpectError(With("  tables: [public.customers, orders]\n",
                   "  tables:\n    - orders\n    - {name: customers}\n"),
              7, "source.tables[1]", "expected a scalar, got a map");
}

// --- Missing keys ------------------------------------------------------------

TEST(ConfigTest, MissingRequiredKeysAreReportedAtTheParentMap) {
  ExpectError(With("  dsn: \"host=db dbname=app\"\n", "\n"), 1, "source.dsn",
              "required key is missing");
  ExpectError(With("  slot: pgcdc\n", "\n"), 1, "source.slot",
              "required key is missing");
  ExpectError(With("  publication: pgcdc_pub\n", "\n"), 1, "source.publication",
              "required key is missing");
  ExpectError(With("  tables: [public.customers, orders]\n", "\n"), 1,
              "source.tables", "required key is missing");
  ExpectError(With("  bootstrap_servers: \"127.0.0.1:9092\"\n", "\n"), 6,
              "kafka.bootstrap_servers", "required key is missing");
  ExpectError(With("  topic_prefix: app\n", "\n"), 6, "kafka.topic_prefix",
              "required key is missing");
}

TEST(ConfigTest, MessageHasTheDocumentedForm) {
  absl::StatusOr<Config> config =
      ParseConfig(With("  topic_prefix: app\n", "\n"), "pgcdc.yaml", FakeEnv);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "pgcdc.yaml:6: kafka.topic_prefix: required key is missing");
}

TEST(ConfigTest, MissingSectionsAreReportedAtTheRoot) {
  const std::string_view minimal = kMinimal;
  const std::string kafka_only(minimal.substr(minimal.find("kafka:")));
  ExpectError(kafka_only, 1, "source", "required key is missing");
  const std::string source_only(minimal.substr(0, minimal.find("kafka:")));
  ExpectError(absl::StrCat("\n\n", source_only), 3, "kafka",
              "required key is missing");
}

TEST(ConfigTest, NullValuesAreRejected) {
  ExpectError(With("  slot: pgcdc\n", "  slot:\n"), 3, "source.slot",
              "value is missing");
  ExpectError(With("  slot: pgcdc\n", "  slot: ~\n"), 3, "source.slot",
              "value is missing");
  ExpectError(absl::StrCat(kMinimal, "  shutdown_timeout_ms:\n"), 9,
              "kafka.shutdown_timeout_ms", "value is missing");
  ExpectError(absl::StrCat(kMinimal, "  properties: {acks: }\n"), 9,
              "kafka.properties.acks", "value is missing");
}

// --- Unknown keys ------------------------------------------------------------

TEST(ConfigTest, UnknownKeysAreRejectedAtEveryLevel) {
  ExpectError(absl::StrCat(kMinimal, "sink:\n  x: 1\n"), 9, "sink",
              "unknown key");
  ExpectError(With("  slot: pgcdc\n", "  slot: pgcdc\n  slot_name: x\n"), 4,
              "source.slot_name", "unknown key");
  ExpectError(absl::StrCat(kMinimal, "  acks: all\n"), 9, "kafka.acks",
              "unknown key");
  ExpectError(absl::StrCat(kMinimal, "metrics:\n  port: 9187\n"), 10,
              "metrics.port", "unknown key");
  ExpectError(absl::StrCat(kMinimal, "snapshot:\n  mode: never\n  x: 1\n"), 11,
              "snapshot.x", "unknown key");
}

TEST(ConfigTest, UnknownKeysSuggestTheClosestKnownKey) {
  ExpectError(With("  topic_prefix:", "  topic_prefx:"), 8, "kafka.topic_prefx",
              "did you mean \"kafka.topic_prefix\"?");
  ExpectError(With("  bootstrap_servers:", "  bootstrap.servers:"), 7,
              "kafka.bootstrap.servers",
              "did you mean \"kafka.bootstrap_servers\"?");
  ExpectError(With("source:", "sources:"), 1, "sources",
              "did you mean \"source\"?");
  ExpectError(With("  slot:", "  slto:"), 3, "source.slto",
              "did you mean \"source.slot\"?");
  ExpectError(absl::StrCat(kMinimal, "  shutdown_timeout: 5\n"), 9,
              "kafka.shutdown_timeout",
              "did you mean \"kafka.shutdown_timeout_ms\"?");
  ExpectError(absl::StrCat(kMinimal, "metric:\n  listen: \":1\"\n"), 9,
              "metric", "did you mean \"metrics\"?");
  // Nothing close: no suggestion.
  absl::StatusOr<Config> far = Parse(absl::StrCat(kMinimal, "  zzzzzz: 1\n"));
  ASSERT_FALSE(far.ok());
  EXPECT_THAT(std::string(far.status().message()),
              Not(HasSubstr("did you mean")));
}

TEST(ConfigTest, LibrdkafkaPropertyInTheWrongPlaceGetsAHint) {
  ExpectError(absl::StrCat(kMinimal, "  compression.type: lz4\n"), 9,
              "kafka.compression.type", "go under kafka.properties");
}

TEST(ConfigTest, PropertiesAcceptAnyKey) {
  absl::StatusOr<Config> config = Parse(absl::StrCat(
      kMinimal,
      "  properties:\n    whatever.you.like: 1\n    security.protocol: SSL\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.properties.at("whatever.you.like"), "1");
  EXPECT_EQ(config->kafka.properties.at("security.protocol"), "SSL");
}

TEST(ConfigTest, PropertiesMustBeScalars) {
  ExpectError(absl::StrCat(kMinimal, "  properties:\n    acks: [all]\n"), 10,
              "kafka.properties.acks", "expected a scalar, got a list");
  ExpectError(absl::StrCat(kMinimal, "  properties: [acks]\n"), 9,
              "kafka.properties", "expected a map, got a list");
  ExpectError(absl::StrCat(kMinimal, "  properties:\n    [a]: b\n"), 10,
              "kafka.properties", "keys must be scalars");
  ExpectError(
      absl::StrCat(kMinimal, "  properties:\n    bootstrap.servers: x:1\n"), 10,
      "kafka.properties.bootstrap.servers", "kafka.bootstrap_servers instead");
}

TEST(ConfigTest, DuplicateKeysAreRejected) {
  ExpectError(With("  slot: pgcdc\n", "  slot: a\n  slot: b\n"), 4,
              "source.slot", "duplicate key (first set on line 3)");
}

// --- Wrong node types --------------------------------------------------------

TEST(ConfigTest, WrongNodeTypesAreRejected) {
  ExpectError(
      "source: [a, b]\nkafka: {bootstrap_servers: x, "
      "topic_prefix: y}\n",
      1, "source", "expected a map, got a list");
  ExpectError(With("kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n"
                   "  topic_prefix: app\n",
                   "kafka: embedded\n"),
              6, "kafka", "expected a map, got a scalar");
  ExpectError(With("  dsn: \"host=db dbname=app\"\n", "  dsn:\n    host: db\n"),
              2, "source.dsn", "expected a scalar, got a map");
  ExpectError(With("  slot: pgcdc\n", "  slot: [a]\n"), 3, "source.slot",
              "expected a scalar, got a list");
  ExpectError(absl::StrCat(kMinimal, "metrics: \"127.0.0.1:9187\"\n"), 9,
              "metrics", "expected a map, got a scalar");
}

TEST(ConfigTest, TopLevelMustBeAMap) {
  ExpectError("- source\n- kafka\n", 1, "", "expected a map at the top level");
  ExpectError("just text\n", 1, "", "expected a map at the top level");
}

TEST(ConfigTest, EmptyConfigIsRejected) {
  ExpectError("", 1, "", "empty");
  ExpectError("# only a comment\n", 1, "", "empty");
}

TEST(ConfigTest, MoreThanOneDocumentIsRejected) {
  ExpectError(absl::StrCat(kMinimal, "---\nsource: {}\n"), 10, "",
              "one YAML document");
}

// --- Bad values --------------------------------------------------------------

TEST(ConfigTest, BadSlotNamesAreRejected) {
  for (const std::string& bad : std::vector<std::string>{
           "PgCdc", "pg-cdc", "\"\"", "\"pg cdc\"", std::string(64, 's')}) {
    ExpectError(With("  slot: pgcdc\n", absl::StrCat("  slot: ", bad, "\n")), 3,
                "source.slot", "not a valid replication slot name");
  }
  EXPECT_TRUE(Parse(With("  slot: pgcdc\n",
                         absl::StrCat("  slot: ", std::string(63, 's'), "\n")))
                  .ok());
}

TEST(ConfigTest, BadPublicationsAreRejected) {
  ExpectError(With("pgcdc_pub", "\"\""), 4, "source.publication",
              "1 to 63 bytes");
  ExpectError(With("pgcdc_pub", std::string(64, 'p')), 4, "source.publication",
              "1 to 63 bytes");
  // Anything else is PostgreSQL's business.
  EXPECT_TRUE(Parse(With("pgcdc_pub", "\"My Pub\"")).ok());
}

TEST(ConfigTest, EmptyDsnAndServersAreRejected) {
  ExpectError(With("\"host=db dbname=app\"", "\"\""), 2, "source.dsn",
              "must not be empty");
  ExpectError(With("\"127.0.0.1:9092\"", "\"\""), 7, "kafka.bootstrap_servers",
              "must not be empty");
}

TEST(ConfigTest, BadTopicPrefixesAreRejected) {
  for (const std::string& bad : std::vector<std::string>{
           "app/x", "\"a b\"", "\"\"", "app:x", std::string(250, 'a')}) {
    ExpectError(With("topic_prefix: app", absl::StrCat("topic_prefix: ", bad)),
                8, "kafka.topic_prefix", "not a valid Kafka topic prefix");
  }
}

TEST(ConfigTest, BadIntegersAreRejected) {
  const std::string insert_at = "  tables: [public.customers, orders]\n";
  for (const char* bad : {"99", "3600001", "abc", "1.5", "-5", "1e4", "0x10",
                          "\"\"", "99999999999999999999999"}) {
    ExpectError(
        With(insert_at,
             absl::StrCat(insert_at, "  status_interval_ms: ", bad, "\n")),
        6, "source.status_interval_ms",
        "must be an integer from 100 to 3600000");
  }
  ExpectError(absl::StrCat(kMinimal, "  max_inflight_bytes: 65535\n"), 9,
              "kafka.max_inflight_bytes", "must be an integer from 65536");
  ExpectError(absl::StrCat(kMinimal, "  shutdown_timeout_ms: 600001\n"), 9,
              "kafka.shutdown_timeout_ms", "from 0 to 600000");
  ExpectError(absl::StrCat(kMinimal, "  dead_letter_topic: \"a b\"\n"), 9,
              "kafka.dead_letter_topic", "not a valid Kafka topic name");
  ExpectError(absl::StrCat(kMinimal, "snapshot:\n  chunk_rows: 0\n"), 10,
              "snapshot.chunk_rows", "from 1 to 1000000");
  ExpectError(absl::StrCat(kMinimal, "  shutdown_timeout_ms: -1\n"), 9,
              "kafka.shutdown_timeout_ms", "from 0 to 600000");
  ExpectError(absl::StrCat(kMinimal, "  shutdown_timeout_ms: {a: 1}\n"), 9,
              "kafka.shutdown_timeout_ms", "expected a scalar, got a map");
}

TEST(ConfigTest, BadStreamingSettingsAreRejected) {
  const std::string insert_at = "  tables: [public.customers, orders]\n";
  for (const char* bad : {"yes", "1", "on", "True", "\"\""}) {
    ExpectError(
        With(insert_at, absl::StrCat(insert_at, "  streaming: ", bad, "\n")), 6,
        "source.streaming", "must be true or false");
    ExpectError(With(insert_at,
                     absl::StrCat(insert_at, "  slot_failover: ", bad, "\n")),
                6, "source.slot_failover", "must be true or false");
  }
  ExpectError(
      With(insert_at, absl::StrCat(insert_at, "  protocol_version: 4\n")), 6,
      "source.protocol_version", "must be an integer from 0 to 3");
  ExpectError(
      With(insert_at, absl::StrCat(insert_at, "  spill_directory: \"\"\n")), 6,
      "source.spill_directory", "must not be empty");
  ExpectError(
      With(insert_at, absl::StrCat(insert_at, "  spill_memory_bytes: -1\n")), 6,
      "source.spill_memory_bytes", "must be an integer from 0");
}

TEST(ConfigTest, MaxInflightBytesIsBoundedByWhatAHostHas) {
  absl::StatusOr<Config> config =
      Parse(absl::StrCat(kMinimal, "  max_inflight_bytes: 1073741824\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.max_inflight_bytes, 1073741824);
  for (const char* big : {"1073741825", "8589934592", "9223372036854775807"}) {
    config = Parse(absl::StrCat(kMinimal, "  max_inflight_bytes: ", big, "\n"));
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << big;
    EXPECT_THAT(config.status().message(),
                HasSubstr("kafka.max_inflight_bytes"));
  }
}

TEST(ConfigTest, SignalSecretIsLongEnoughAndNeverRepeated) {
  absl::StatusOr<Config> config = Parse(
      absl::StrCat(kMinimal, "signals:\n  secret: \"0123456789abcdef\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->signals.secret, "0123456789abcdef");
  config =
      Parse(absl::StrCat(kMinimal, "signals:\n  secret: \"Sh0rtS3cr3t\"\n"));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("signals.secret"));
  EXPECT_THAT(config.status().message(), HasSubstr("at least 16"));
  EXPECT_THAT(config.status().message(),
              ::testing::Not(HasSubstr("Sh0rtS3cr3t")));
  // Absent, or empty (an unset ${VAR}): none.
  config = Parse(kMinimal);
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->signals.secret.empty());
}

TEST(ConfigTest, MetricsListenAddresses) {
  for (const char* good : {"127.0.0.1:9187", "0.0.0.0:1", "localhost:65535",
                           "[::1]:9187", "[::]:80"}) {
    absl::StatusOr<Config> config =
        Parse(absl::StrCat(kMinimal, "metrics:\n  listen: \"", good, "\"\n"));
    ASSERT_TRUE(config.ok()) << good << ": " << config.status();
    EXPECT_EQ(config->metrics.listen, good);
  }
  // An empty value disables the endpoint, like an absent one.
  absl::StatusOr<Config> disabled =
      Parse(absl::StrCat(kMinimal, "metrics:\n  listen: \"${EMPTY}\"\n"));
  ASSERT_TRUE(disabled.ok()) << disabled.status();
  EXPECT_EQ(disabled->metrics.listen, "");

  for (const char* bad :
       {"9187", "127.0.0.1", "127.0.0.1:", ":9187", "127.0.0.1:0",
        "127.0.0.1:65536", "127.0.0.1:http", "::1:9187", "[::1]9187", "[::1",
        "[]:9187", "127.0.0.1:-1", "127.0.0.1:123456"}) {
    ExpectError(absl::StrCat(kMinimal, "metrics:\n  listen: \"", bad, "\"\n"),
                10, "metrics.listen", "is not host:port");
  }
}

TEST(ConfigTest, EverySnapshotModeIsAccepted) {
  for (const char* mode :
       {"initial", "never", "always", "initial_only", "when_needed"}) {
    absl::StatusOr<Config> config =
        Parse(absl::StrCat(kMinimal, "snapshot:\n  mode: ", mode, "\n"));
    ASSERT_TRUE(config.ok()) << mode << ": " << config.status();
    EXPECT_EQ(config->snapshot.mode, mode);
  }
}

TEST(ConfigTest, UnknownSnapshotModesAreRefused) {
  for (const char* mode :
       {"Never", "\"\"", "initial-only", "schema_only", "1", "[initial]"}) {
    ExpectError(absl::StrCat(kMinimal, "snapshot:\n  mode: ", mode, "\n"), 10,
                "snapshot.mode", "");
  }
  ExpectError(absl::StrCat(kMinimal, "snapshot:\n  mode: Initial\n"), 10,
              "snapshot.mode",
              "\"Initial\" is not a snapshot mode; use initial, never, always, "
              "initial_only or when_needed");
}

// --- Malformed YAML ----------------------------------------------------------

TEST(ConfigTest, MalformedYamlReportsItsLine) {
  ExpectError(With("  slot: pgcdc\n", "  slot: [pgcdc\n"), 4, "",
              "malformed YAML");
  ExpectError(With("  slot: pgcdc\n", "   slot: pgcdc\n"), 3, "",
              "malformed YAML");
  ExpectError("source:\n  dsn: x\n\tslot: y\n", 3, "", "malformed YAML");
}

// --- Environment expansion ---------------------------------------------------

TEST(ConfigTest, EnvironmentVariablesAreExpandedInValues) {
  absl::StatusOr<Config> config = Parse(absl::StrCat(
      With("[public.customers, orders]", "[\"${TABLE}\", plain]",
           With("\"host=db dbname=app\"",
                "\"host=${PGHOST} password=${PGPASSWORD} x=${EMPTY}.\"")),
      "  properties:\n    compression.type: ${LZ}\n",
      "  shutdown_timeout_ms: ${INTERVAL}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  // source.dsn quotes each value a reference is in (see the tests below).
  EXPECT_EQ(config->source.dsn, "host='db.internal' password='s3cr3t' x='.'");
  EXPECT_EQ(config->source.tables[0], (TableName{"sales", "orders"}));
  EXPECT_EQ(config->kafka.properties.at("compression.type"), "lz4");
  EXPECT_EQ(config->kafka.shutdown_timeout_ms, 2500);
}

TEST(ConfigTest, ExpandedTextIsNotExpandedAgain) {
  absl::StatusOr<Config> config =
      Parse(With("\"host=db dbname=app\"", "\"${DOLLAR}\""));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.dsn, "${PGHOST}");
}

// Scanning is left to right, so "$$${" is a "$" and then the escape.
TEST(ConfigTest, DoubleDollarEscapesExpansion) {
  absl::StatusOr<Config> config =
      Parse(With("\"host=db dbname=app\"",
                 "\"a=$${PGHOST} b=$$${PGHOST} c=$5 d=$$x e=$ f=${PGHOST}$\""));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.dsn,
            "a=${PGHOST} b=$${PGHOST} c=$5 d=$$x e=$ f='db.internal$'");
}

TEST(ConfigTest, KeysAreNotExpanded) {
  absl::StatusOr<Config> config =
      Parse(absl::StrCat(kMinimal, "  properties:\n    \"${LZ}\": x\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.properties.at("${LZ}"), "x");
}

TEST(ConfigTest, UnsetVariableNamesVariableKeyAndLine) {
  ExpectError(With("\"host=db dbname=app\"", "\"password=${NOPE}\""), 2,
              "source.dsn", "environment variable NOPE is not set");
  ExpectError(absl::StrCat(kMinimal,
                           "  properties:\n    sasl.password: "
                           "${SASL_SECRET}\n"),
              10, "kafka.properties.sasl.password",
              "environment variable SASL_SECRET is not set");
  ExpectError(With("  tables: [public.customers, orders]\n",
                   "  tables:\n    - a\n    - ${MISSING_TABLE}\n"),
              7, "source.tables[1]", "MISSING_TABLE is not set");
}

TEST(ConfigTest, MalformedReferencesAreRejected) {
  ExpectError(With("\"host=db dbname=app\"", "\"x=${PGHOST\""), 2, "source.dsn",
              "unterminated");
  ExpectError(With("\"host=db dbname=app\"", "\"x=${}\""), 2, "source.dsn",
              "not a valid environment variable reference");
  ExpectError(With("\"host=db dbname=app\"", "\"x=${A-B}\""), 2, "source.dsn",
              "not a valid environment variable reference");
  ExpectError(With("\"host=db dbname=app\"", "\"x=${1A}\""), 2, "source.dsn",
              "not a valid environment variable reference");
}

TEST(ConfigTest, DefaultLookupReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("PGCDC_CONFIG_TEST_DSN", "host=from-env", 1), 0);
  unsetenv("PGCDC_CONFIG_TEST_UNSET");
  absl::StatusOr<Config> config = ParseConfig(
      With("\"host=db dbname=app\"", "\"${PGCDC_CONFIG_TEST_DSN}\""));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.dsn, "host=from-env");
  config = ParseConfig(
      With("\"host=db dbname=app\"", "\"${PGCDC_CONFIG_TEST_UNSET}\""));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("config:2: source.dsn: environment variable "
                        "PGCDC_CONFIG_TEST_UNSET is not set"));
}

// --- ${...} in source.dsn ----------------------------------------------------

// What libpq reads from `dsn`: keyword → value, for the keywords it sets.
std::map<std::string, std::string> LibpqReads(const std::string& dsn) {
  std::map<std::string, std::string> read;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    ADD_FAILURE() << "libpq cannot parse " << dsn << ": "
                  << (error != nullptr ? error : "out of memory");
    if (error != nullptr) PQfreemem(error);
    return read;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) read[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return read;
}

// source.dsn's text once `dsn` (YAML, quoted as needed) was read.
std::string DsnOf(std::string_view dsn) {
  absl::StatusOr<Config> config = Parse(With("\"host=db dbname=app\"", dsn));
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? config->source.dsn : "";
}

using Keywords = std::map<std::string, std::string>;

TEST(DsnExpansionTest, AReferenceFormingAValueBecomesOneQuotedValue) {
  const std::string dsn = DsnOf("'host=db dbname=app password=${HARD}'");
  EXPECT_EQ(dsn,
            "host=db dbname=app password='Top Secret \\'q\" 100%41 a=b @/?&# "
            "\\\\x\\\\\\' end\\\\'");
  EXPECT_EQ(LibpqReads(dsn), (Keywords{{"host", "db"},
                                       {"dbname", "app"},
                                       {"password", kHardPassword}}));
  // Blanks around '=' are libpq syntax too.
  EXPECT_EQ(
      LibpqReads(DsnOf("'host=db password =  ${HARD} port=1'")),
      (Keywords{{"host", "db"}, {"password", kHardPassword}, {"port", "1"}}));
}

TEST(DsnExpansionTest, AReferenceCannotInjectKeywords) {
  EXPECT_EQ(LibpqReads(DsnOf("'host=db dbname=app password=${INJECT}'")),
            (Keywords{{"host", "db"},
                      {"dbname", "app"},
                      {"password", "x dbname=other host=evil"}}));
  // An empty value stays a value; unquoted, libpq would take the next
  // keyword=value for it.
  const std::string empty = DsnOf("'password=${EMPTY} dbname=app'");
  EXPECT_EQ(empty, "password='' dbname=app");
  EXPECT_EQ(LibpqReads(empty), (Keywords{{"password", ""}, {"dbname", "app"}}));
}

TEST(DsnExpansionTest, AReferenceInsideAnUnquotedValueQuotesTheWholeValue) {
  // The written part is read as libpq reads it (a backslash escapes the
  // next character), then quoted with the reference's text.
  const std::string dsn =
      DsnOf("'host=db-${PGHOST}.x application_name=a\\ b\\\\c-${QUOTE}-z'");
  EXPECT_EQ(dsn,
            "host='db-db.internal.x' application_name='a b\\\\c-it\\'s-z'");
  EXPECT_EQ(LibpqReads(dsn), (Keywords{{"host", "db-db.internal.x"},
                                       {"application_name", "a b\\c-it's-z"}}));
  // A backslash written just before a reference escapes nothing of the
  // file's: it stays a backslash.
  EXPECT_EQ(LibpqReads(DsnOf("'password=x\\${QUOTE} port=1'")),
            (Keywords{{"password", "x\\it's"}, {"port", "1"}}));
  // Values without references are copied as written.
  EXPECT_EQ(
      DsnOf("'host=db password=a\\ b options=''-c x=1'' port=${INTERVAL}'"),
      "host=db password=a\\ b options='-c x=1' port='2500'");
}

TEST(DsnExpansionTest, AReferenceInsideAQuotedValueIsEscaped) {
  const std::string dsn =
      DsnOf("\"host=db password='pre ${HARD} post' port=1\"");
  EXPECT_EQ(
      LibpqReads(dsn),
      (Keywords{{"host", "db"},
                {"password", absl::StrCat("pre ", kHardPassword, " post")},
                {"port", "1"}}));
  // A backslash just before the reference is doubled, so it cannot escape
  // the reference's first character.
  EXPECT_EQ(LibpqReads(DsnOf("\"password='x\\\\${QUOTE}' port=1\"")),
            (Keywords{{"password", "x\\it's"}, {"port", "1"}}));
  // An escaped quote written in the file stays as libpq reads it.
  EXPECT_EQ(LibpqReads(DsnOf("\"password='a\\\\'b ${QUOTE}' port=1\"")),
            (Keywords{{"password", "a'b it's"}, {"port", "1"}}));
}

TEST(DsnExpansionTest, AReferenceWhereAKeywordStartsIsDsnText) {
  // The whole dsn in one variable, or some of its keywords.
  EXPECT_EQ(DsnOf("\"${WHOLE_DSN}\""), "host=h port=5433 dbname=app");
  EXPECT_EQ(DsnOf("\"${WHOLE_DSN} password=${QUOTE}\""),
            "host=h port=5433 dbname=app password='it\\'s'");
  EXPECT_EQ(
      LibpqReads(DsnOf("\"host=db ${EXTRA} password=${QUOTE}\"")),
      (Keywords{{"host", "db"}, {"sslmode", "require"}, {"password", "it's"}}));
}

TEST(DsnExpansionTest, UriReferencesArePercentEncoded) {
  const std::string dsn = DsnOf(
      "\"postgresql://app:${HARD}@db:5433/app?application_name=${INJECT}\"");
  EXPECT_EQ(dsn,
            "postgresql://app:Top%20Secret%20%27q%22%20100%2541%20a%3Db%20%40%"
            "2F%3F%26%23%20%5Cx%5C%27%20end%5C@db:5433/"
            "app?application_name=x%20dbname%3Dother%20host%3Devil");
  EXPECT_EQ(LibpqReads(dsn),
            (Keywords{{"user", "app"},
                      {"password", kHardPassword},
                      {"host", "db"},
                      {"port", "5433"},
                      {"dbname", "app"},
                      {"application_name", "x dbname=other host=evil"}}));
  EXPECT_EQ(
      LibpqReads(DsnOf("\"postgres://${PGHOST}/app?password=${QUOTE}\"")),
      (Keywords{
          {"host", "db.internal"}, {"dbname", "app"}, {"password", "it's"}}));
  // A URI kept in a variable is dsn text; what follows is still a URI's.
  EXPECT_EQ(LibpqReads(DsnOf("\"${URL}?password=${HARD}\"")),
            (Keywords{{"user", "app"},
                      {"host", "db"},
                      {"port", "5433"},
                      {"dbname", "app"},
                      {"password", kHardPassword}}));
}

TEST(DsnExpansionTest, OtherValuesTakeReferencesAsTheyAre) {
  absl::StatusOr<Config> config = Parse(
      absl::StrCat(kMinimal, "  properties:\n    sasl.password: '${HARD}'\n",
                   "    client.id: 'x=${QUOTE} ${INJECT}'\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.properties.at("sasl.password"), kHardPassword);
  EXPECT_EQ(config->kafka.properties.at("client.id"),
            "x=it's x dbname=other host=evil");
}

// A value that came from a reference is quoted in errors as the file has
// it: the reference may hold a secret put under the wrong key.
TEST(ConfigTest, ErrorsDoNotShowWhatAReferenceExpandedTo) {
  const std::vector<std::string> cases = {
      absl::StrCat(kMinimal, "  shutdown_timeout_ms: ${PGPASSWORD}\n"),
      With("slot: pgcdc", "slot: \"${PGPASSWORD}!\""),
      With("topic_prefix: app", "topic_prefix: \"a ${PGPASSWORD}\""),
      With("[public.customers, orders]", "[\"a.b.${PGPASSWORD}\"]"),
      absl::StrCat(kMinimal, "metrics:\n  listen: ${PGPASSWORD}\n"),
      absl::StrCat(kMinimal, "snapshot:\n  mode: ${PGPASSWORD}\n"),
      absl::StrCat(kMinimal, "events:\n  key_change: ${PGPASSWORD}\n"),
      With("  slot: pgcdc\n", "  slot: pgcdc\n  streaming: ${PGPASSWORD}\n"),
  };
  for (const std::string& yaml : cases) {
    absl::StatusOr<Config> config = Parse(yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    const std::string message(config.status().message());
    EXPECT_THAT(message, Not(HasSubstr("s3cr3t"))) << message;
    EXPECT_THAT(message, HasSubstr("${PGPASSWORD}")) << message;
    EXPECT_THAT(message, HasSubstr("its expansion is not shown")) << message;
  }
  // Text written in the file is still quoted.
  ExpectError(absl::StrCat(kMinimal, "  shutdown_timeout_ms: soon\n"), 9,
              "kafka.shutdown_timeout_ms", "got \"soon\"");
}

// --- ${credential:NAME} ------------------------------------------------------

// $CREDENTIALS_DIRECTORY for CredentialEnv; empty: unset.
std::string& CredentialsDirectory() {
  static auto* directory = new std::string;
  return *directory;
}

bool CredentialEnv(std::string_view name, std::string* value) {
  if (name == "CREDENTIALS_DIRECTORY") {
    if (CredentialsDirectory().empty()) return false;
    *value = CredentialsDirectory();
    return true;
  }
  return FakeEnv(name, value);
}

class CredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                        "/pgcdc_credential_test_XXXXXX");
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    CredentialsDirectory() = dir_;
  }
  void TearDown() override {
    CredentialsDirectory().clear();
    for (const std::string& name : written_) {
      std::remove(absl::StrCat(dir_, "/", name).c_str());
    }
    rmdir(absl::StrCat(dir_, "/adir").c_str());
    rmdir(dir_.c_str());
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(absl::StrCat(dir_, "/", name), std::ios::binary) << content;
    written_.push_back(name);
  }
  static absl::StatusOr<Config> ParseWith(std::string_view yaml) {
    return ParseConfig(yaml, "test.yaml", CredentialEnv);
  }
  // kMinimal with `line` added under kafka.properties.
  static std::string WithProperty(const std::string& line) {
    return absl::StrCat(kMinimal, "  properties:\n    ", line, "\n");
  }

  std::string dir_;
  std::vector<std::string> written_;
};

TEST_F(CredentialTest, ReadsTheFileStrippingOneTrailingNewline) {
  Write("kafka_pw", absl::StrCat(kHardPassword, "\n"));
  Write("two-newlines.v1", "x\n\n");
  Write("empty", "");
  absl::StatusOr<Config> config = ParseWith(
      absl::StrCat(With("\"host=db dbname=app\"",
                        "\"host=db password=${credential:kafka_pw}\""),
                   "  properties:\n    sasl.password: ${credential:kafka_pw}\n",
                   "    a: ${credential:two-newlines.v1}\n",
                   "    b: \"<${credential:empty}>\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.properties.at("sasl.password"), kHardPassword);
  EXPECT_EQ(config->kafka.properties.at("a"), "x\n");
  EXPECT_EQ(config->kafka.properties.at("b"), "<>");
  // In source.dsn it is quoted as a ${VAR} is.
  EXPECT_EQ(LibpqReads(config->source.dsn),
            (Keywords{{"host", "db"}, {"password", kHardPassword}}));
}

TEST_F(CredentialTest, ErrorsNameKeyLineAndCredentialNeverTheContent) {
  Write("has_nul", std::string("Top Secret\0x", 12));
  ASSERT_EQ(mkdir(absl::StrCat(dir_, "/adir").c_str(), 0700), 0);
  struct Case {
    std::string reference;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"${credential:missing}", "credential missing: cannot read " + dir_ +
                                    "/missing: No such file or directory"},
      {"${credential:adir}",
       "credential adir: cannot read " + dir_ + "/adir: not a regular file"},
      {"${credential:has_nul}",
       "credential has_nul: " + dir_ + "/has_nul contains a NUL byte"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Config> config =
        ParseWith(WithProperty(absl::StrCat("sasl.password: ", c.reference)));
    ASSERT_FALSE(config.ok()) << c.reference;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(config.status().message());
    EXPECT_THAT(message,
                HasSubstr("test.yaml:10: kafka.properties.sasl.password: "))
        << message;
    EXPECT_THAT(message, HasSubstr(c.detail)) << message;
    EXPECT_THAT(message, Not(HasSubstr("Secret"))) << message;
  }

  CredentialsDirectory().clear();
  Write("set", "Top Secret");
  absl::StatusOr<Config> config = ParseWith(
      With("\"host=db dbname=app\"", "\"host=db password=${credential:set}\""));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("test.yaml:2: source.dsn: credential set: "
                        "CREDENTIALS_DIRECTORY is not set"));
}

TEST_F(CredentialTest, NamesCannotLeaveTheDirectory) {
  Write("ok", "x");
  for (const char* name : {"../ok", "a/b", "/etc/passwd", ".", "..", ".hidden",
                           "a..b", "", "a b", "a:b", "\xc3\xa9"}) {
    absl::StatusOr<Config> config = ParseWith(
        WithProperty(absl::StrCat("x: \"${credential:", name, "}\"")));
    ASSERT_FALSE(config.ok()) << name;
    EXPECT_THAT(std::string(config.status().message()),
                HasSubstr("is not a valid credential reference"))
        << name;
  }
  // Written without the prefix it is an environment variable reference,
  // which a ':' does not make.
  ExpectError(WithProperty("x: ${credentials:ok}"), 10, "kafka.properties.x",
              "not a valid environment variable reference");
}

// --- Files -------------------------------------------------------------------

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                        "/pgcdc_config_test_XXXXXX");
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    std::remove(path().c_str());
    rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/pgcdc.yaml"; }

  std::string dir_;
};

TEST_F(ConfigFileTest, LoadsAFile) {
  std::ofstream(path()) << kMinimal;
  absl::StatusOr<Config> config = LoadConfigFile(path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.slot, "pgcdc");
}

TEST_F(ConfigFileTest, ErrorsNameTheFile) {
  std::ofstream(path()) << With("  slot: pgcdc\n", "  slot: BAD\n");
  absl::StatusOr<Config> config = LoadConfigFile(path());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr(absl::StrCat(path(), ":3: source.slot: ")));
}

TEST_F(ConfigFileTest, MissingFileIsInvalidArgument) {
  absl::StatusOr<Config> config = LoadConfigFile(path());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(path()));
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("No such file"));
}

TEST_F(ConfigFileTest, DirectoryIsInvalidArgument) {
  absl::StatusOr<Config> config = LoadConfigFile(dir_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(dir_));
}

TEST(ConfigTest, MessagesAreOffByDefault) {
  absl::StatusOr<Config> config = Parse(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->messages.enabled());
  EXPECT_FALSE(config->messages.Publishes("outbox"));
}

TEST(ConfigTest, MessagesSection) {
  absl::StatusOr<Config> config =
      Parse(absl::StrCat(kMinimal, "messages:\n  prefixes: [outbox, audit]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->messages.enabled());
  EXPECT_EQ(config->messages.topic, "app.messages");
  EXPECT_TRUE(config->messages.Publishes("outbox"));
  EXPECT_FALSE(config->messages.Publishes("outbox2"));

  config = Parse(absl::StrCat(
      kMinimal, "messages:\n  prefixes: [\"*\"]\n  topic: app.events\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->messages.topic, "app.events");
  EXPECT_TRUE(config->messages.Publishes("anything"));
}

TEST(ConfigTest, MessagesSectionErrors) {
  ExpectError(absl::StrCat(kMinimal, "messages:\n  topic: x\n"), 9,
              "messages.prefixes", "required key is missing");
  ExpectError(absl::StrCat(kMinimal, "messages:\n  prefixes: []\n"), 10,
              "messages.prefixes", "at least one prefix");
  ExpectError(absl::StrCat(kMinimal, "messages:\n  prefixes: [\"\"]\n"), 10,
              "messages.prefixes[0]", "use \"*\" for all");
  ExpectError(
      absl::StrCat(kMinimal, "messages:\n  prefixes: [a]\n  topic: \"a b\"\n"),
      11, "messages.topic", "not a valid Kafka topic name");
  ExpectError(absl::StrCat(kMinimal, "messages:\n  prefix: [a]\n"), 10,
              "messages.prefix", "did you mean");
}

TEST(ConfigTest, EventsKeyChange) {
  absl::StatusOr<Config> config = Parse(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->events.key_change, "delete_create");
  config = Parse(absl::StrCat(kMinimal, "events:\n  key_change: update\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->events.key_change, "update");
  ExpectError(absl::StrCat(kMinimal, "events:\n  key_change: upsert\n"), 10,
              "events.key_change", "expected \"delete_create\" or \"update\"");
}

}  // namespace
}  // namespace cdc::config
