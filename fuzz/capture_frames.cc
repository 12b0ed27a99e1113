// capture_frames: records the raw CopyData frames of one logical replication
// session, as seed corpora for the fuzz targets. Used by capture_corpus.sh.
//
//   capture_frames DSN SLOT OPTIONS OUT_DIR [IDLE_MS] [MAX_FRAMES]
//
// Streams SLOT (START_REPLICATION ... LOGICAL 0/0 (OPTIONS)) until no XLogData
// came for IDLE_MS (default 3000) or MAX_FRAMES (default 100000) frames were
// read, and writes under OUT_DIR:
//   copy_frame/  each distinct frame, and each standby status update sent;
//   pgoutput/    each distinct XLogData payload;
//   stream/      the session in stream_input.h's format, cut into windows of
//                about 16 frames at transaction boundaries, each
//                window preceded by the Relation and Type frames sent before
//                it, so that its changes can be built.
// Files are named by a hash of their content, so captures merge without
// duplicates. Exit status: 0 done, 1 an error (printed).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/replication_protocol.h"
#include "fuzz/stream_input.h"

namespace {

constexpr size_t kWindowFrames = 16;
// A window that has not reached a transaction boundary by then is cut anyway.
constexpr size_t kMaxWindowFrames = 2 * kWindowFrames;

// FNV-1a, 64 bits: stable across runs and machines, unlike std::hash.
std::string ContentName(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

bool WriteFile(const std::filesystem::path& dir, std::string_view bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / ContentName(bytes), std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

class Recorder {
 public:
  explicit Recorder(std::filesystem::path out) : out_(std::move(out)) {}

  bool Frame(std::string_view frame) {
    if (!WriteFile(out_ / "copy_frame", frame)) return false;
    absl::StatusOr<cdc::pg::ServerFrame> parsed =
        cdc::pg::ParseServerFrame(frame);
    if (!parsed.ok()) return true;
    const auto* data = std::get_if<cdc::pg::XLogData>(&*parsed);
    if (data == nullptr) return true;  // keepalives stay out of windows
    if (!WriteFile(out_ / "pgoutput", data->payload)) return false;

    absl::StatusOr<cdc::pg::PgOutputMessage> message =
        cdc::pg::DecodePgOutput(data->payload, context_);
    bool boundary = false;
    if (message.ok()) {
      using namespace cdc::pg;  // NOLINT: the message types
      if (const auto* r = std::get_if<RelationMessage>(&*message)) {
        if (!context_.in_stream) schema_[r->relation_oid] = std::string(frame);
      } else if (const auto* t = std::get_if<TypeMessage>(&*message)) {
        if (!context_.in_stream) types_[t->type_oid] = std::string(frame);
      } else if (std::holds_alternative<StreamStartMessage>(*message)) {
        context_.in_stream = true;
      } else if (std::holds_alternative<StreamStopMessage>(*message)) {
        context_.in_stream = false;
        boundary = true;
      } else if (std::holds_alternative<CommitMessage>(*message) ||
                 std::holds_alternative<StreamCommitMessage>(*message) ||
                 std::holds_alternative<StreamAbortMessage>(*message) ||
                 std::holds_alternative<PrepareMessage>(*message) ||
                 std::holds_alternative<CommitPreparedMessage>(*message) ||
                 std::holds_alternative<RollbackPreparedMessage>(*message) ||
                 std::holds_alternative<StreamPrepareMessage>(*message)) {
        boundary = !context_.in_stream;
      }
    }
    if (window_.empty()) window_prefix_ = SchemaFrames();
    window_.push_back(std::string(frame));
    if ((boundary && window_.size() >= kWindowFrames) ||
        window_.size() >= kMaxWindowFrames) {
      return FlushWindow();
    }
    return true;
  }

  bool StatusUpdate(std::string_view frame) {
    return WriteFile(out_ / "copy_frame", frame);
  }

  bool FlushWindow() {
    if (window_.empty()) return true;
    std::string input(1, static_cast<char>(cdc::fuzz::kBuiltinTypes |
                                           cdc::fuzz::kPrimaryKeyFromFlags));
    for (const std::string& frame : window_prefix_) {
      cdc::fuzz::AppendStreamFrame(frame, &input);
    }
    for (const std::string& frame : window_) {
      cdc::fuzz::AppendStreamFrame(frame, &input);
    }
    window_.clear();
    return WriteFile(out_ / "stream", input);
  }

 private:
  std::vector<std::string> SchemaFrames() const {
    std::vector<std::string> frames;
    for (const auto& [oid, frame] : types_) frames.push_back(frame);
    for (const auto& [oid, frame] : schema_) frames.push_back(frame);
    return frames;
  }

  const std::filesystem::path out_;
  cdc::pg::DecodeContext context_;
  std::map<cdc::pg::Oid, std::string> schema_;  // latest Relation per OID
  std::map<cdc::pg::Oid, std::string> types_;   // latest Type per OID
  std::vector<std::string> window_prefix_;
  std::vector<std::string> window_;
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "capture_frames: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 7) {
    std::fprintf(stderr,
                 "usage: capture_frames DSN SLOT OPTIONS OUT_DIR [IDLE_MS] "
                 "[MAX_FRAMES]\n");
    return 2;
  }
  const std::string dsn = argv[1], slot = argv[2], options = argv[3];
  const int idle_ms = argc > 5 ? std::atoi(argv[5]) : 3000;
  const long max_frames = argc > 6 ? std::atol(argv[6]) : 100000;

  absl::StatusOr<std::unique_ptr<cdc::pg::ReplicationStream>> stream =
      cdc::pg::ReplicationStream::Connect(dsn);
  if (!stream.ok()) return Fail(stream.status());
  if (absl::Status s = (*stream)->Start(slot, cdc::kInvalidLsn, options);
      !s.ok()) {
    return Fail(s);
  }
  Recorder recorder(argv[4]);
  long frames = 0, xlog_frames = 0;
  cdc::Lsn received = 0;
  constexpr int kPollMs = 100;
  int idle = 0;
  while (frames < max_frames && idle < idle_ms) {
    absl::StatusOr<std::optional<std::string_view>> frame =
        (*stream)->Read(kPollMs);
    if (!frame.ok()) return Fail(frame.status());
    if (!frame->has_value()) {
      idle += kPollMs;
      continue;
    }
    ++frames;
    if (!recorder.Frame(**frame)) {
      return Fail(absl::InternalError("cannot write to the output directory"));
    }
    absl::StatusOr<cdc::pg::ServerFrame> parsed =
        cdc::pg::ParseServerFrame(**frame);
    if (!parsed.ok()) return Fail(parsed.status());
    if (const auto* data = std::get_if<cdc::pg::XLogData>(&*parsed)) {
      idle = 0;
      ++xlog_frames;
      if (data->wal_start > received) received = data->wal_start;
      continue;
    }
    const auto& keepalive = std::get<cdc::pg::PrimaryKeepalive>(*parsed);
    if (keepalive.reply_requested) {
      // The slot is thrown away afterwards: confirming is only politeness.
      cdc::pg::StandbyStatusUpdate update;
      update.written = update.flushed = update.applied = received;
      const std::string bytes = cdc::pg::EncodeStandbyStatusUpdate(update);
      if (!recorder.StatusUpdate(bytes)) {
        return Fail(absl::InternalError("cannot write a status update"));
      }
      if (absl::Status s = (*stream)->Send(bytes); !s.ok()) return Fail(s);
    }
  }
  if (!recorder.FlushWindow()) {
    return Fail(absl::InternalError("cannot write to the output directory"));
  }
  // A last status update, so that the corpus holds one even when the server
  // asked for none.
  cdc::pg::StandbyStatusUpdate update;
  update.written = update.flushed = update.applied = received;
  update.reply_requested = true;
  const std::string bytes = cdc::pg::EncodeStandbyStatusUpdate(update);
  if (!recorder.StatusUpdate(bytes)) {
    return Fail(absl::InternalError("cannot write a status update"));
  }
  if (absl::Status s = (*stream)->Send(bytes); !s.ok()) return Fail(s);
  (void)(*stream)->Finish(1000);
  std::printf("capture_frames: slot %s: %ld frames, %ld XLogData\n",
              slot.c_str(), frames, xlog_frames);
  return 0;
}
