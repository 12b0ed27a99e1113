// Snapshot signals (cdc.v1.SnapshotSignal, see proto/cdc/v1/
// snapshot_signal.proto): the logical decoding messages that ask for an
// incremental snapshot and journal its progress. This is their one reader
// and writer.
//
// The wire form is protobuf's JSON mapping, so a person can write a request
// with pg_logical_emit_message from psql. Reading is strict: unknown fields,
// a missing slot, no kind, a request without id or tables, a watermark
// without nonce are kInvalidArgument naming what is wrong — a signal is
// input from whoever can write to the WAL, and a typo must not pass as a
// different request.
//
// Pure; thread-safe (no state).
#ifndef CDC_SNAPSHOT_SIGNAL_H_
#define CDC_SNAPSHOT_SIGNAL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

// The logical decoding message prefix of every snapshot signal.
inline constexpr char kSignalPrefix[] = "pgcdc.snapshot";
// Requests whose id starts with this are a new slot's own snapshot: every
// row of it must be published, so what cannot be resumed stops pgcdc.
inline constexpr char kInitialRequestPrefix[] = "initial-";

absl::StatusOr<v1::SnapshotSignal> ParseSignal(std::string_view content);
std::string FormatSignal(const v1::SnapshotSignal& signal);

// A task's after_key, from whichever of after_key and after_key_bytes holds
// it.
std::vector<std::string> AfterKey(const v1::SnapshotTask& task);
// Sets a task's after_key: in after_key when every value is UTF-8, else in
// after_key_bytes, so that the journal keeps the key's exact bytes (JSON
// would drop those that are not UTF-8, and resume from another key).
void SetAfterKey(const std::vector<std::string>& key, v1::SnapshotTask* task);

// A request for `slot`'s pgcdc to snapshot `tables` ("schema.table"), only
// the rows for which `where` holds when it is not empty.
v1::SnapshotSignal RequestSignal(const std::string& slot, const std::string& id,
                                 const std::vector<std::string>& tables,
                                 const std::string& where = "");

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_SIGNAL_H_
