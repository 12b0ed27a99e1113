// libFuzzer target: snapshot signals — input anyone who can write to the
// WAL controls — through ParseSignal, and sequences of them through the
// IncrementalSnapshot machine.
//
// The input is lines. A line starting with '{' is a signal's JSON: a signal
// that parses must print (FormatSignal) to JSON that parses back to the same
// message, and it is handed to the machine. Any other line drives the
// machine's other inputs by its first byte: the chunk it asked for read
// (with as many rows as the second byte says, cut short or not),
// acknowledged, dropped,
// retried, a tick, a change or truncate in the window. Checked: nothing
// crashes, every token released was held and not yet released, and a read
// is only asked for while none is pending.
//
// Seeds: fuzz/corpus/snapshot (requests and journals as pgcdc and people
// write them).

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/snapshot/incremental.h"
#include "cdc/snapshot/signal.h"

namespace {

using cdc::snapshot::ChunkRow;
using cdc::snapshot::IncrementalSnapshot;

class Driver {
 public:
  Driver() : snap_("s", "n", 4) {}

  void Signal(std::string_view line, uint64_t token) {
    absl::StatusOr<cdc::v1::SnapshotSignal> signal =
        cdc::snapshot::ParseSignal(line);
    if (!signal.ok()) return;
    absl::StatusOr<cdc::v1::SnapshotSignal> again =
        cdc::snapshot::ParseSignal(cdc::snapshot::FormatSignal(*signal));
    if (!again.ok() ||
        again->SerializeAsString() != signal->SerializeAsString()) {
      __builtin_trap();
    }
    Apply(snap_.OnSignal(*signal, token), token);
    Flush();
  }

  // The machine's own writes come back through the stream.
  void Flush() {
    while (!emitted_.empty() && own_token_ < 256) {
      cdc::v1::SnapshotSignal own = emitted_.front();
      emitted_.erase(emitted_.begin());
      const uint64_t token = 1000000 + ++own_token_;
      Apply(snap_.OnSignal(own, token), token);
    }
  }

  void Drive(std::string_view line) {
    const unsigned op = line.empty() ? 0 : static_cast<unsigned char>(line[0]);
    const unsigned n =
        line.size() < 2 ? 0 : static_cast<unsigned char>(line[1]);
    switch (op % 7) {
      case 0:
        if (reading_) {
          reading_ = false;
          std::vector<ChunkRow> rows;
          for (unsigned i = 0; i < n % 6; ++i) {
            ChunkRow row;
            const std::string key = std::to_string(next_key_++);
            row.key = cdc::snapshot::EncodeKey({key});
            row.row.values.push_back({cdc::pg::TupleValue::Kind::kText, key});
            rows.push_back(std::move(row));
          }
          Apply(
              snap_.ChunkRead(std::move(rows), {std::to_string(next_key_ - 1)},
                              /*cut_short=*/(n & 0x80) != 0),
              0);
        }
        break;
      case 1:
        if (!published_.empty()) {
          const uint64_t chunk = published_[n % published_.size()];
          Apply(snap_.ChunkAcked(chunk), 0);
        }
        break;
      case 2:
        if (reading_) {
          reading_ = false;
          Apply(snap_.DropTask(), 0);
        }
        break;
      case 3:
        reading_ = false;
        Apply(snap_.RetryLater(), 0);
        break;
      case 4:
        Apply(snap_.Tick(), 0);
        break;
      case 5:
        snap_.OnChange("public.t",
                       cdc::snapshot::EncodeKey({std::to_string(n)}));
        break;
      default:
        snap_.OnTruncate("public.t");
    }
    Flush();
  }

 private:
  void Apply(IncrementalSnapshot::Effects e, uint64_t token) {
    for (uint64_t released : e.release) {
      if (held_.erase(released) != 1) __builtin_trap();
    }
    if (e.hold) {
      if (!held_.insert(token).second) __builtin_trap();
    }
    if (e.publish) {
      (void)snap_.TakeWindow();
      published_.push_back(e.published_chunk);
    }
    if (e.read.has_value()) {
      if (reading_) __builtin_trap();
      reading_ = true;
    }
    if (e.emit.has_value()) emitted_.push_back(*e.emit);
  }

  IncrementalSnapshot snap_;
  std::set<uint64_t> held_;
  std::vector<uint64_t> published_;
  std::vector<cdc::v1::SnapshotSignal> emitted_;
  bool reading_ = false;
  uint64_t next_key_ = 1;
  uint64_t own_token_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Driver driver;
  uint64_t token = 1;
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view()
                                          : input.substr(end + 1);
    if (!line.empty() && line[0] == '{') {
      driver.Signal(line, token++);
    } else {
      driver.Drive(line);
    }
  }
  return 0;
}
