// pgcdc's debezium-json format judged by Debezium itself (issue 17): the
// real Debezium 3.6.1.Final PostgreSQL connector (harness/debezium_capture.h)
// and pgcdc run on the same database, each with its own slot and
// publication, through one workload: an initial snapshot, then every type
// of the fidelity test, inserts, updates under REPLICA IDENTITY DEFAULT and
// FULL, key changes, deletes, unchanged TOASTed values, a truncate,
// logical messages, and NOT NULL columns with defaults of every kind
// (tests/debezium/sql/). Every record of every topic must
// be equal as JSON (key, value, headers), record for record in each key's
// order, once the fields below that differ by nature are set aside:
//   - the envelope's ts_ms, ts_us, ts_ns: when each connector processed the
//     event;
//   - source.version: the connector's version;
//   - header __debezium.context.runId's value: an id of each run;
//   - Debezium's records of pgcdc's own logical messages (prefix pgcdc.*:
//     its snapshot's signals), which pgcdc never publishes, and both
//     connectors' transaction records (BEGIN, END) of the transactions
//     that wrote them, whose counts differ by those messages;
//   - in an END record's data_collections, the name of each logical
//     message's entry and its place in the list: Debezium names it by a
//     Java object's identity hash (LogicalDecodingMessageId has no
//     toString()), so both are read as LOGICAL_DECODING_MESSAGE, listed
//     after the tables;
//   - of a snapshot row (op r), source.ts_ms/ts_us/ts_ns, lsn, txId and
//     sequence: each connector reads its own snapshot, at its own slot's
//     consistent point, in its own transaction, at its own time;
//   - the values in Unmatched(), where Debezium's own output is not a value
//     a consumer could rely on (docs/debezium.md says why for each).
// Schemas on and off, Debezium's defaults and a non-default setting of each
// mode are run.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cdc/kafka/topic_reader.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/debezium_capture.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

constexpr char kPrefix[] = "dbz";
constexpr char kStopTopic[] = "dbz.public.zz_stop";
constexpr char kTransactionTopic[] = "dbz.transaction";
// How Debezium names a logical message's data collection in an END record:
// this, then an identity hash.
constexpr char kMessageIdClass[] =
    "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$"
    "LogicalDecodingMessageId@";

// Values compared by neither side, by column and by the row's id (no ids:
// every row), each for a reason of Debezium's making, seen from the
// running connector (docs/debezium.md lists them):
const std::map<std::string, std::set<int>>& Unmatched() {
  static const auto* const kValues = new std::map<std::string, std::set<int>>{
      // enum[]: Java's "[Ljava.lang.String;@…" for two dimensions, an
      // object address that changes at every run.
      {"c_mood_arr", {}},
      // name: null in every streamed event, the value only in a snapshot.
      {"c_name", {}},
      // A stored generated column: in Debezium's snapshot rows, never in
      // its streamed ones (pgoutput does not send it); pgcdc gives a topic
      // one shape and leaves it out of both.
      {"c_gen", {}},
      // A date before the common era read by Debezium's snapshot (JDBC)
      // comes out as a date of the common era; its stream is right, and so
      // is pgcdc.
      {"c_date", {1}},
      // int4[] of two dimensions: Debezium [null,null]; pgcdc the values.
      {"c_int4_arr", {1, 11}},
      // numeric[] holding NaN or Infinity: Debezium null; pgcdc the values.
      {"c_numeric_arr", {1, 11}},
      // date[] holding infinity or a date BC: Debezium's numbers wrap.
      {"c_date_arr", {1, 11}},
      // timestamp 294276-12-31 23:59:59.999999 overflows Debezium's
      // microseconds to a negative number.
      {"c_ts", {3, 13}},
      // Defaults Debezium misreads (defaults_setup.sql), for which pgcdc
      // writes the value or none: 'it''s' is "it" (its pattern stops at
      // the doubled quote, fixed after 3.6.1); 'a' || 'b' is "a" (the
      // first literal of an expression); CURRENT_USER is the text
      // "CURRENT_USER"; (1 = 1) is false (Boolean.parseBoolean).
      {"t_quote", {}},
      {"t_concat", {}},
      {"t_user", {}},
      {"b_expr", {}},
  };
  return *kValues;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SqlFile(const std::string& name) {
  return ReadFile(absl::StrCat(PGCDC_SOURCE_DIR, "/tests/debezium/sql/", name));
}

// The statements of a workload file, one per line ending in ';', with a
// BEGIN … COMMIT block kept together (one Exec is one transaction).
std::vector<std::string> Statements(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  bool in_block = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "--") || line.empty()) continue;
    absl::StrAppend(&current, line, "\n");
    if (!absl::EndsWith(line, ";")) continue;
    if (line == "BEGIN;") in_block = true;
    if (line == "COMMIT;") in_block = false;
    if (in_block) continue;
    out.push_back(std::move(current));
    current.clear();
  }
  return out;
}

void Quote(const std::string& s, std::string* out) {
  *out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      *out += buf;
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

// JSON text with object keys sorted: what two records are compared as.
void Canon(const Value& v, std::string* out) {
  switch (v.kind_case()) {
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      *out += "null";
      return;
    case Value::kNumberValue: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v.number_value());
      *out += buf;
      return;
    }
    case Value::kStringValue:
      Quote(v.string_value(), out);
      return;
    case Value::kBoolValue:
      *out += v.bool_value() ? "true" : "false";
      return;
    case Value::kStructValue: {
      std::map<std::string, const Value*> sorted;
      for (const auto& [k, f] : v.struct_value().fields()) sorted[k] = &f;
      *out += "{";
      bool first = true;
      for (const auto& [k, f] : sorted) {
        if (!first) *out += ",";
        first = false;
        Quote(k, out);
        *out += ':';
        Canon(*f, out);
      }
      *out += "}";
      return;
    }
    case Value::kListValue: {
      *out += "[";
      bool first = true;
      for (const Value& e : v.list_value().values()) {
        if (!first) *out += ",";
        first = false;
        Canon(e, out);
      }
      *out += "]";
      return;
    }
  }
}

std::string Canon(const Struct& s) {
  Value v;
  *v.mutable_struct_value() = s;
  std::string out;
  Canon(v, &out);
  return out;
}

Struct* Child(Struct* s, const std::string& name) {
  auto it = s->mutable_fields()->find(name);
  if (it == s->mutable_fields()->end() || !it->second.has_struct_value()) {
    return nullptr;
  }
  return it->second.mutable_struct_value();
}

// Drops the unmatched values from a row struct (payload), and the columns
// unmatched in every row from a struct schema's field list.
void DropColumns(Struct* row) {
  if (row == nullptr) return;
  int id = -1;
  if (auto it = row->fields().find("id");
      it != row->fields().end() && it->second.has_number_value()) {
    id = static_cast<int>(it->second.number_value());
  }
  for (const auto& [column, ids] : Unmatched()) {
    if (ids.empty() || ids.count(id) > 0) row->mutable_fields()->erase(column);
  }
  auto fields = row->mutable_fields()->find("fields");
  if (fields == row->mutable_fields()->end()) return;
  auto* list = fields->second.mutable_list_value()->mutable_values();
  for (int i = list->size(); i-- > 0;) {
    Struct* f = (*list)[i].mutable_struct_value();
    auto name = f->fields().find("field");
    const auto unmatched = name == f->fields().end()
                               ? Unmatched().end()
                               : Unmatched().find(name->second.string_value());
    if (unmatched != Unmatched().end() && unmatched->second.empty()) {
      list->DeleteSubrange(i, 1);
    } else {
      DropColumns(f);  // the before/after schemas inside the envelope's
    }
  }
}

// An END record's data_collections with each logical message's entry
// named alike and moved after the tables' (see the header).
void NormalizeDataCollections(Struct* payload) {
  auto it = payload->mutable_fields()->find("data_collections");
  if (it == payload->mutable_fields()->end() || !it->second.has_list_value()) {
    return;
  }
  google::protobuf::ListValue tables, messages;
  for (const Value& entry : it->second.list_value().values()) {
    const auto& fields = entry.struct_value().fields();
    const auto name = fields.find("data_collection");
    const bool message =
        name != fields.end() &&
        (absl::StartsWith(name->second.string_value(), kMessageIdClass) ||
         name->second.string_value() == "LOGICAL_DECODING_MESSAGE");
    Value copy = entry;
    if (message) {
      (*copy.mutable_struct_value()->mutable_fields())["data_collection"]
          .set_string_value("LOGICAL_DECODING_MESSAGE");
    }
    *(message ? messages : tables).add_values() = std::move(copy);
  }
  for (const Value& m : messages.values()) *tables.add_values() = m;
  *it->second.mutable_list_value() = std::move(tables);
}

// A record's value as compared: the fields that differ by nature removed.
// A transaction record's ts_ms is its commit time, and is compared.
std::string ComparableValue(const std::string& json, bool transaction_record) {
  absl::StatusOr<Struct> parsed = ParseJsonObject(json);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << json;
  if (!parsed.ok()) return "unparsable: " + json;
  Struct root = *parsed;
  Struct* payload = Child(&root, "payload");
  if (payload == nullptr) payload = &root;
  if (transaction_record) {
    NormalizeDataCollections(payload);
    return Canon(root);
  }
  for (const char* f : {"ts_ms", "ts_us", "ts_ns"}) {
    payload->mutable_fields()->erase(f);
  }
  const auto op = payload->fields().find("op");
  const bool read =
      op != payload->fields().end() && op->second.string_value() == "r";
  if (Struct* source = Child(payload, "source")) {
    source->mutable_fields()->erase("version");
    if (read) {
      for (const char* f :
           {"ts_ms", "ts_us", "ts_ns", "lsn", "txId", "sequence"}) {
        source->mutable_fields()->erase(f);
      }
    }
  }
  DropColumns(Child(payload, "before"));
  DropColumns(Child(payload, "after"));
  DropColumns(Child(&root, "schema"));
  return Canon(root);
}

std::string ComparableKey(const std::optional<std::string>& key) {
  if (!key.has_value()) return "null";
  absl::StatusOr<Struct> parsed = ParseJsonObject(*key);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << *key;
  return parsed.ok() ? Canon(*parsed) : "unparsable: " + *key;
}

// One record as compared.
struct Comparable {
  std::string key;
  std::string value;  // "tombstone" for a null value
  std::string headers;
  std::string Text() const {
    return absl::StrCat("key ", key, "\n  value ", value, "\n  headers ",
                        headers);
  }
  bool operator==(const Comparable& o) const {
    return key == o.key && value == o.value && headers == o.headers;
  }
};

std::string ComparableHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::string> out;
  for (const auto& [name, value] : headers) {
    out.push_back(name == "__debezium.context.runId"
                      ? name
                      : absl::StrCat(name, "=", value));
  }
  return absl::StrJoin(out, " ");
}

// Records by topic, then by key, in order.
using ByKey = std::map<std::string, std::vector<Comparable>>;
using ByTopic = std::map<std::string, ByKey>;

void Add(const std::string& topic, const std::optional<std::string>& key,
         const std::optional<std::string>& value,
         const std::vector<std::pair<std::string, std::string>>& headers,
         ByTopic* out) {
  Comparable c;
  c.key = ComparableKey(key);
  c.value = value.has_value()
                ? ComparableValue(*value, topic == kTransactionTopic)
                : "tombstone";
  c.headers = ComparableHeaders(headers);
  (*out)[topic][c.key].push_back(std::move(c));
}

class DebeziumCompatTest : public PgcdcTest {
 protected:
  struct Run {
    std::string setup;     // tests/debezium/sql/ file
    std::string workload;  // the same
    // Debezium's properties beyond the harness's, and the same settings
    // as pgcdc's `debezium` section.
    std::map<std::string, std::string> properties;
  };

  // Runs `run` through both connectors and compares what each published.
  void Compare(const Run& run) {
    Sql(SqlFile(run.setup));
    std::vector<std::string> tables;
    for (const pg::SqlRow& row :
         Rows("SELECT schemaname || '.' || tablename FROM pg_publication_tables"
              " WHERE pubname = 'pub' ORDER BY tablename")) {
      tables.push_back(*row[0]);
    }
    ASSERT_FALSE(tables.empty());

    DebeziumCapture::Options options;
    options.port = cluster_->port();
    options.database = db_;
    options.slot = "dbz_slot";
    options.publication = "pub";
    options.topic_prefix = kPrefix;
    options.stop_topic = kStopTopic;
    options.properties = run.properties;
    absl::StatusOr<std::unique_ptr<DebeziumCapture>> capture =
        DebeziumCapture::Start(options, dir_);
    ASSERT_TRUE(capture.ok()) << capture.status();

    std::string section = "debezium:\n";
    for (const auto& [k, v] : run.properties) {
      if (k == "converter.schemas.enable") {
        absl::StrAppend(&section, "  schemas.enable: ", v, "\n");
      } else {
        absl::StrAppend(&section, "  ", k, ": \"", v, "\"\n");
      }
    }
    const std::string config =
        WriteConfig(tables, "  format: debezium-json\n",
                    absl::StrCat(section, "messages:\n  prefixes: [\"*\"]\n"));
    EditConfig(config, "topic_prefix: test", "topic_prefix: dbz");
    Subprocess p = StartPgcdc(config);

    for (const std::string& statement : Statements(SqlFile(run.workload))) {
      Sql(statement);
    }
    Sql("INSERT INTO zz_stop VALUES (1)");
    absl::StatusOr<std::vector<DebeziumRecord>> theirs = (*capture)->Finish();
    ASSERT_TRUE(theirs.ok()) << theirs.status();
    WaitCaughtUp();
    StopPgcdc(p);

    ByTopic expected;
    std::set<std::string> topics = {absl::StrCat(kPrefix, ".message")};
    const auto metadata = run.properties.find("provide.transaction.metadata");
    if (metadata != run.properties.end() && metadata->second == "true") {
      topics.insert(kTransactionTopic);
    }
    for (const std::string& t : tables) {
      topics.insert(absl::StrCat(kPrefix, ".", t));
    }
    // pgcdc's own control messages (its snapshot's signals), which
    // Debezium publishes like any message and pgcdc never does, and the
    // ids of the transactions that wrote them.
    auto own = [](const DebeziumRecord& r) {
      return r.topic == absl::StrCat(kPrefix, ".message") &&
             r.key.has_value() &&
             absl::StrContains(*r.key, "\"prefix\":\"pgcdc.");
    };
    std::set<std::string> own_transactions;
    for (const DebeziumRecord& r : *theirs) {
      if (!own(r) || !r.value.has_value()) continue;
      absl::StatusOr<Struct> v = ParseJsonObject(*r.value);
      ASSERT_TRUE(v.ok()) << *r.value;
      const Struct* payload = &*v;
      if (auto p = v->fields().find("payload"); p != v->fields().end()) {
        payload = &p->second.struct_value();
      }
      const auto& source = payload->fields().at("source").struct_value();
      const Value& tx = source.fields().at("txId");
      if (tx.has_number_value()) {
        // Debezium's transaction ids are "<xid>:<lsn>".
        own_transactions.insert(absl::StrCat(
            "\"id\":\"", static_cast<int64_t>(tx.number_value()), ":"));
      }
    }
    auto of_own_transaction = [&](const std::string& topic,
                                  const std::optional<std::string>& key) {
      if (topic != kTransactionTopic || !key.has_value()) return false;
      for (const std::string& id : own_transactions) {
        if (absl::StrContains(*key, id)) return true;
      }
      return false;
    };
    for (const DebeziumRecord& r : *theirs) {
      EXPECT_EQ(topics.count(r.topic), 1u) << r.topic;
      if (own(r) || of_own_transaction(r.topic, r.key)) continue;
      std::vector<std::pair<std::string, std::string>> headers;
      for (const auto& [name, value] : r.headers) {
        headers.emplace_back(name, value.value_or(""));
      }
      Add(r.topic, r.key, r.value, headers, &expected);
    }
    ByTopic actual;
    for (const std::string& topic : topics) {
      absl::StatusOr<std::unique_ptr<kafka::TopicReader>> reader =
          kafka::TopicReader::Open(broker_->bootstrap_servers(), topic,
                                   /*from_beginning=*/true, 5000);
      if (!reader.ok() &&
          reader.status().code() == absl::StatusCode::kNotFound) {
        continue;  // pgcdc published nothing there
      }
      ASSERT_TRUE(reader.ok()) << reader.status();
      absl::StatusOr<std::vector<kafka::ConsumedMessage>> read =
          (*reader)->ReadToEnd();
      ASSERT_TRUE(read.ok()) << read.status();
      for (const kafka::ConsumedMessage& m : *read) {
        if (of_own_transaction(topic, m.key)) continue;
        Add(topic, m.key,
            m.null_value ? std::nullopt : std::optional<std::string>(m.value),
            m.headers, &actual);
      }
    }

    int differences = 0;
    size_t compared = 0;
    for (const std::string& topic : topics) {
      // Transaction metadata asked for is there to compare.
      if (topic == kTransactionTopic) {
        EXPECT_FALSE(expected[topic].empty());
      }
      const ByKey& want = expected[topic];
      const ByKey& got = actual[topic];
      std::set<std::string> keys;
      for (const auto& [k, v] : want) keys.insert(k);
      for (const auto& [k, v] : got) keys.insert(k);
      for (const std::string& key : keys) {
        const auto w = want.find(key);
        const auto g = got.find(key);
        std::vector<Comparable> a;
        std::vector<Comparable> b;
        if (w != want.end()) a = w->second;
        if (g != got.end()) b = g->second;
        if (key == "null") {
          // Records without a key go to any partition: Kafka orders them
          // in none, so they are compared as a set.
          auto by_text = [](const Comparable& x, const Comparable& y) {
            return x.Text() < y.Text();
          };
          std::sort(a.begin(), a.end(), by_text);
          std::sort(b.begin(), b.end(), by_text);
        }
        for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
          ++compared;
          if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
          if (++differences > 12) continue;  // the first ones say enough
          ADD_FAILURE() << topic << ", key " << key << ", record " << i
                        << ":\nDebezium: "
                        << (i < a.size() ? a[i].Text() : "(none)")
                        << "\npgcdc:    "
                        << (i < b.size() ? b[i].Text() : "(none)");
        }
      }
    }
    std::cout << "compared " << compared << " records on " << topics.size()
              << " topics: " << differences << " differ\n";
    EXPECT_GT(compared, 10u);
    EXPECT_EQ(differences, 0);
  }
};

TEST_F(DebeziumCompatTest, EveryTypeSchemasOn) {
  Compare({"types_setup.sql", "types_workload.sql", {}});
}

TEST_F(DebeziumCompatTest, EveryTypeSchemasOffOtherModes) {
  Compare({"types_setup.sql",
           "types_workload.sql",
           {{"converter.schemas.enable", "false"},
            {"provide.transaction.metadata", "true"},
            {"decimal.handling.mode", "string"},
            {"time.precision.mode", "connect"},
            {"binary.handling.mode", "hex"}}});
}

TEST_F(DebeziumCompatTest, NotNullAndDefaults) {
  Compare({"defaults_setup.sql", "defaults_workload.sql", {}});
}

TEST_F(DebeziumCompatTest, NotNullAndDefaultsOtherModes) {
  Compare({"defaults_setup.sql",
           "defaults_workload.sql",
           {{"decimal.handling.mode", "string"},
            {"time.precision.mode", "connect"},
            {"binary.handling.mode", "hex"}}});
}

TEST_F(DebeziumCompatTest, NotNullAndDefaultsDoubleAndBase64) {
  Compare({"defaults_setup.sql",
           "defaults_workload.sql",
           {{"decimal.handling.mode", "double"},
            {"time.precision.mode", "adaptive_time_microseconds"},
            {"binary.handling.mode", "base64"}}});
}

TEST_F(DebeziumCompatTest, ChangesTruncateToastAndMessages) {
  Compare({"ops_setup.sql",
           "ops_workload.sql",
           {{"skipped.operations", "none"},
            {"provide.transaction.metadata", "true"}}});
}

TEST_F(DebeziumCompatTest, ChangesWithOtherModesAndNoTombstones) {
  Compare({"ops_setup.sql",
           "ops_workload.sql",
           {{"skipped.operations", "none"},
            {"decimal.handling.mode", "double"},
            {"time.precision.mode", "adaptive_time_microseconds"},
            {"binary.handling.mode", "base64"},
            {"tombstones.on.delete", "false"}}});
}

}  // namespace
}  // namespace cdc::testing
