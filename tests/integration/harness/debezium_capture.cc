#include "tests/integration/harness/debezium_capture.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace cdc::testing {
namespace {

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(PGCDC_SOURCE_DIR, "/", relative);
}

// A key or value in java.util.Properties' file syntax: backslashes and the
// characters that would end a key or a line escaped.
std::string PropertyText(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '=':
      case ':':
      case '#':
      case '!':
      case ' ':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The program's log, at most its last `max_lines` lines, for a failure.
std::string LogTail(const Subprocess& p, size_t max_lines = 60) {
  std::vector<std::string> lines = absl::StrSplit(p.ReadLog(), '\n');
  size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) {
    absl::StrAppend(&out, lines[i], "\n");
  }
  return out;
}

bool LogHasLine(const Subprocess& p, const std::string& line) {
  std::istringstream in(p.ReadLog());
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

std::optional<std::string> StringOrNull(const google::protobuf::Value& v) {
  if (v.kind_case() == google::protobuf::Value::kStringValue) {
    return v.string_value();
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> DebeziumJars() {
  const std::string command =
      absl::StrCat("bash '", SourcePath("scripts/debezium.sh"), "' jars 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed");
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = ::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  int status = ::pclose(pipe);
  if (status != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Debezium's jars are not available: `", command,
                     "` failed (it needs Maven and Maven Central; see "
                     "scripts/install-deps.sh):\n",
                     output));
  }
  // The directory is the script's last line (Maven is quiet on success).
  std::vector<std::string> lines =
      absl::StrSplit(absl::StripAsciiWhitespace(output), '\n');
  return std::string(absl::StripAsciiWhitespace(lines.back()));
}

absl::StatusOr<std::unique_ptr<DebeziumCapture>> DebeziumCapture::Start(
    const Options& options, const std::string& dir) {
  absl::StatusOr<std::string> jars = DebeziumJars();
  if (!jars.ok()) return jars.status();

  std::map<std::string, std::string> props = {
      {"connector.class", "io.debezium.connector.postgresql.PostgresConnector"},
      {"name", "pgcdc-reference"},
      {"topic.prefix", options.topic_prefix},
      {"database.hostname", "127.0.0.1"},
      {"database.port", absl::StrCat(options.port)},
      {"database.user", options.user},
      // Ignored under trust authentication, which the test clusters use.
      {"database.password", "unused"},
      {"database.dbname", options.database},
      {"plugin.name", "pgoutput"},
      {"slot.name", options.slot},
      {"publication.name", options.publication},
      {"publication.autocreate.mode", "disabled"},
      {"snapshot.mode", options.snapshot_mode},
      {"offset.storage",
       "org.apache.kafka.connect.storage.FileOffsetBackingStore"},
      {"offset.storage.file.filename", dir + "/debezium.offsets"},
      // Connect's default is 60 s; Debezium confirms the slot only then.
      {"offset.flush.interval.ms", "1000"},
  };
  for (const auto& [name, value] : options.properties) props[name] = value;
  const std::string props_path = dir + "/debezium.properties";
  {
    std::ofstream out(props_path);
    for (const auto& [name, value] : props) {
      out << PropertyText(name) << "=" << PropertyText(value) << "\n";
    }
    if (!out) return absl::InternalError("cannot write " + props_path);
  }

  const std::string output_path = dir + "/debezium.jsonl";
  std::vector<std::string> argv = {
      "/usr/bin/env",
      "java",
      // A short-lived program: the C1 compiler alone starts it faster on
      // two busy cores.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-cp",
      *jars + "/*",
      SourcePath("tests/debezium/DebeziumCapture.java"),
      "--props",
      props_path,
      "--out",
      output_path,
      "--stop-topic",
      options.stop_topic,
      "--idle-ms",
      absl::StrCat(options.idle_ms),
      // The program's own bound, so that it never outlives a test.
      "--timeout-ms",
      "540000",
  };
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<Subprocess> process =
      Subprocess::Start(argv, dir + "/debezium.log");
  if (!process.ok()) return process.status();
  std::unique_ptr<DebeziumCapture> capture(
      new DebeziumCapture(*std::move(process), output_path));

  const auto deadline =
      started + std::chrono::milliseconds(options.ready_timeout_ms);
  for (;;) {
    if (LogHasLine(capture->process_, "READY")) break;
    if (!capture->process_.Running()) {
      return absl::InternalError(
          absl::StrCat("DebeziumCapture exited before READY; its log:\n",
                       LogTail(capture->process_)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "DebeziumCapture not READY within ", options.ready_timeout_ms,
          " ms; its log:\n", LogTail(capture->process_)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  capture->ready_ms_ =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count());
  return capture;
}

absl::StatusOr<std::vector<DebeziumRecord>> DebeziumCapture::Finish(
    int timeout_ms) {
  std::optional<int> code = process_.Wait(timeout_ms);
  if (!code.has_value()) {
    process_.Signal(SIGKILL);
    process_.Wait(10000);
    return absl::DeadlineExceededError(absl::StrCat(
        "DebeziumCapture still running after ", timeout_ms,
        " ms (no record on the stop topic?); its log:\n", LogTail(process_)));
  }
  if (*code != 0) {
    return absl::InternalError(absl::StrCat("DebeziumCapture exited with ",
                                            *code, "; its log:\n",
                                            LogTail(process_)));
  }
  return ReadDebeziumRecords(output_path_);
}

absl::StatusOr<std::vector<DebeziumRecord>> ReadDebeziumRecords(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::vector<DebeziumRecord> records;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    absl::StatusOr<google::protobuf::Struct> object = ParseJsonObject(line);
    if (!object.ok()) {
      return absl::DataLossError(
          absl::StrCat(path, ":", number, ": ", object.status().message()));
    }
    const auto& fields = object->fields();
    DebeziumRecord record;
    if (auto it = fields.find("topic"); it != fields.end()) {
      record.topic = it->second.string_value();
    }
    if (auto it = fields.find("key"); it != fields.end()) {
      record.key = StringOrNull(it->second);
    }
    if (auto it = fields.find("value"); it != fields.end()) {
      record.value = StringOrNull(it->second);
    }
    if (auto it = fields.find("headers"); it != fields.end()) {
      for (const google::protobuf::Value& h :
           it->second.list_value().values()) {
        const auto& pair = h.list_value().values();
        if (pair.size() != 2) {
          return absl::DataLossError(
              absl::StrCat(path, ":", number, ": a header is not a pair"));
        }
        record.headers.emplace_back(pair[0].string_value(),
                                    StringOrNull(pair[1]));
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(
    const std::string& json) {
  google::protobuf::Struct object;
  auto status = google::protobuf::util::JsonStringToMessage(json, &object);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a JSON object (", status.ToString(), "): ", json.substr(0, 200)));
  }
  return object;
}

}  // namespace cdc::testing
