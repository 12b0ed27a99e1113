// The fuzzers' seed corpus (fuzz/corpus), recorded from a real PostgreSQL 15
// by fuzz/capture_corpus.sh, replayed as regression input on every build:
// every payload the server sent must decode and re-encode to the same bytes,
// every frame must parse and re-encode, and the recorded sessions must build
// envelopes of every kind.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pg/replication_protocol.h"
#include "fuzz/stream_input.h"

namespace cdc::pg {
namespace {

// The corpus directory's files, each read whole.
std::vector<std::string> ReadCorpus(std::string_view name) {
  const std::filesystem::path dir =
      std::filesystem::path(PGCDC_SOURCE_DIR) / "fuzz" / "corpus" / name;
  std::vector<std::string> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(in),
                        std::istreambuf_iterator<char>());
  }
  return inputs;
}

TEST(SeedCorpusTest, EveryPayloadDecodesAndReEncodes) {
  const std::vector<std::string> inputs = ReadCorpus("pgoutput");
  ASSERT_FALSE(inputs.empty());
  std::set<char> types;
  for (const std::string& bytes : inputs) {
    bool decoded = false;
    for (const bool in_stream : {false, true}) {
      DecodeContext context;
      context.in_stream = in_stream;
      absl::StatusOr<PgOutputMessage> message = DecodePgOutput(bytes, context);
      if (!message.ok()) continue;
      decoded = true;
      EXPECT_EQ(EncodePgOutput(*message), bytes);
    }
    EXPECT_TRUE(decoded) << "seed starting with '" << bytes.substr(0, 1)
                         << "' (" << bytes.size() << " bytes) does not decode";
    if (decoded) types.insert(bytes[0]);
  }
  // The capture exercised every message type pgoutput has.
  EXPECT_EQ(std::string(types.begin(), types.end()), "ABCDEIKMOPRSTUYbcpr");
}

TEST(SeedCorpusTest, EveryFrameParsesAndReEncodes) {
  const std::vector<std::string> inputs = ReadCorpus("copy_frame");
  ASSERT_FALSE(inputs.empty());
  std::set<char> types;
  for (const std::string& bytes : inputs) {
    ASSERT_FALSE(bytes.empty());
    types.insert(bytes[0]);
    if (bytes[0] == 'r') {
      absl::StatusOr<StandbyStatusUpdate> update =
          ParseStandbyStatusUpdate(bytes);
      ASSERT_TRUE(update.ok()) << update.status();
      EXPECT_EQ(EncodeStandbyStatusUpdate(*update), bytes);
      continue;
    }
    absl::StatusOr<ServerFrame> frame = ParseServerFrame(bytes);
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (const auto* data = std::get_if<XLogData>(&*frame)) {
      EXPECT_EQ(EncodeXLogData(data->wal_start, data->wal_end, data->send_time,
                               data->payload),
                bytes);
    } else {
      EXPECT_EQ(EncodePrimaryKeepalive(std::get<PrimaryKeepalive>(*frame)),
                bytes);
    }
  }
  EXPECT_EQ(std::string(types.begin(), types.end()), "krw");
}

TEST(SeedCorpusTest, SessionsBuildEveryKindOfEnvelope) {
  const std::vector<std::string> inputs = ReadCorpus("stream");
  ASSERT_FALSE(inputs.empty());
  std::set<v1::Op> ops;
  for (const std::string& input : inputs) {
    RelationCache relations;
    envelope::EnvelopeBuilder builder({}, "seed", &relations);
    DecodeContext context;
    uint32_t seq = 0;
    for (std::string_view bytes : fuzz::SplitStreamInput(input)) {
      absl::StatusOr<ServerFrame> frame = ParseServerFrame(bytes);
      ASSERT_TRUE(frame.ok()) << frame.status();
      const auto* data = std::get_if<XLogData>(&*frame);
      if (data == nullptr) continue;
      // A window cut inside a stream starts without its Stream Start, so
      // not every payload decodes in the context tracked here.
      absl::StatusOr<PgOutputMessage> message =
          DecodePgOutput(data->payload, context);
      if (!message.ok()) continue;
      if (std::holds_alternative<StreamStartMessage>(*message)) {
        context.in_stream = true;
      } else if (std::holds_alternative<StreamStopMessage>(*message)) {
        context.in_stream = false;
      } else if (const auto* r = std::get_if<RelationMessage>(&*message)) {
        relations.Apply(*r);
      } else if (const auto* t = std::get_if<TypeMessage>(&*message)) {
        relations.Apply(*t);
      } else if (std::holds_alternative<InsertMessage>(*message) ||
                 std::holds_alternative<UpdateMessage>(*message) ||
                 std::holds_alternative<DeleteMessage>(*message) ||
                 std::holds_alternative<TruncateMessage>(*message)) {
        absl::StatusOr<std::vector<envelope::Record>> records =
            builder.Build(*message, {}, data->wal_start, &seq, 0);
        if (!records.ok()) continue;
        for (const envelope::Record& record : *records) {
          ops.insert(record.op);
          // Row changes are encoded by hand: byte for byte protobuf's
          // encoding of the same event and key.
          v1::ChangeEvent event;
          ASSERT_TRUE(event.ParseFromString(record.value));
          EXPECT_EQ(event.SerializeAsString(), record.value);
          if (record.key.has_value()) {
            v1::Row key;
            ASSERT_TRUE(key.ParseFromString(*record.key));
            EXPECT_EQ(key.SerializeAsString(), *record.key);
          }
        }
      }
    }
  }
  EXPECT_EQ(ops, (std::set<v1::Op>{v1::CREATE, v1::UPDATE, v1::DELETE,
                                   v1::TRUNCATE}));
}

}  // namespace
}  // namespace cdc::pg
