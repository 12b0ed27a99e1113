// DebeziumCapture: the real Debezium PostgreSQL connector (3.6.1.Final,
// through its embedded engine) run against a test's database by
// tests/debezium/DebeziumCapture.java, the reference that pgcdc's
// debezium-json format is compared with (issue 17).
//
// Start() resolves the jars (scripts/debezium.sh jars: Maven Central, cached
// after the first time), writes the connector's properties, starts the JVM
// as a Subprocess and returns once the connector polls: its task has
// created the slot (PostgresConnectorTask.start), and an initial snapshot
// reads the slot's exported snapshot (PostgresSnapshotChangeEventSource), so
// every later write reaches it through the stream, after the snapshot. The test
// then writes its workload, ending with a row whose topic is the stop topic,
// and Finish() waits for the program to end and returns what it captured: each
// record as a consumer of Kafka Connect's default converters would see it (key
// and value as JsonConverter's text, headers as SimpleHeaderConverter's).
//
// Owns the JVM: the destructor kills it (SIGKILL) if it still runs.
// Thread-compatible.
#ifndef TESTS_INTEGRATION_HARNESS_DEBEZIUM_CAPTURE_H_
#define TESTS_INTEGRATION_HARNESS_DEBEZIUM_CAPTURE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "tests/integration/harness/subprocess.h"

namespace cdc::testing {

// One record Debezium emitted.
struct DebeziumRecord {
  std::string topic;
  std::optional<std::string> key;    // JSON text; nullopt: a null key
  std::optional<std::string> value;  // JSON text; nullopt: a tombstone
  // In order, as Connect writes them; a value is nullopt when null.
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

class DebeziumCapture {
 public:
  struct Options {
    int port = 0;  // PostgreSQL on 127.0.0.1 (trust authentication)
    std::string user = "postgres";
    std::string database;
    std::string slot;
    std::string
        publication;  // must exist: publication.autocreate.mode=disabled
    std::string topic_prefix = "dbz";
    std::string snapshot_mode = "initial";
    // The program ends once a record of this topic was written and then
    // idle_ms passed without another.
    std::string stop_topic;
    int idle_ms = 1000;
    // More connector or engine properties (table.include.list,
    // converter.schemas.enable, decimal.handling.mode, ...); they replace
    // the ones above of the same name.
    std::map<std::string, std::string> properties;
    // The JVM compiles the program and starts the engine: 10-15 s on two
    // busy cores.
    int ready_timeout_ms = 120000;
  };

  // Starts the capture in `dir` (its properties, offsets, output and log go
  // there) and waits until the connector polls. Fails with the program's
  // log if it exits first or is not ready in time, and with
  // FailedPrecondition when the jars cannot be had.
  static absl::StatusOr<std::unique_ptr<DebeziumCapture>> Start(
      const Options& options, const std::string& dir);
  ~DebeziumCapture() = default;
  DebeziumCapture(const DebeziumCapture&) = delete;
  DebeziumCapture& operator=(const DebeziumCapture&) = delete;

  // Waits until the program ends (after the stop topic's record) and
  // returns every record in the order Debezium emitted them. Fails with the
  // program's log when it exits with an error or is still running after
  // timeout_ms (then it is killed).
  absl::StatusOr<std::vector<DebeziumRecord>> Finish(int timeout_ms = 120000);

  const std::string& log_path() const { return process_.log_path(); }
  const std::string& output_path() const { return output_path_; }
  // How long Start waited for the connector to poll.
  int ready_ms() const { return ready_ms_; }

 private:
  DebeziumCapture(Subprocess process, std::string output_path)
      : process_(std::move(process)), output_path_(std::move(output_path)) {}

  Subprocess process_;
  std::string output_path_;
  int ready_ms_ = 0;
};

// The jar directory of scripts/debezium.sh (resolving it the first time), or
// FailedPrecondition with the script's output.
absl::StatusOr<std::string> DebeziumJars();

// Reads a file of DebeziumCapture.java's JSON lines.
absl::StatusOr<std::vector<DebeziumRecord>> ReadDebeziumRecords(
    const std::string& path);

// A JSON object (a record's key or value text) as a Struct, to look into in
// assertions. Numbers become doubles: exact only up to 2^53.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(
    const std::string& json);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_DEBEZIUM_CAPTURE_H_
