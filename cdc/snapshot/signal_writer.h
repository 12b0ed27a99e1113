// Writing snapshot signals (see signal.h) into the WAL, and naming the
// requests pgcdc writes itself: the I/O beside the pure reader and writer.
//
// Thread-safe (no state); the connection is the caller's.
#ifndef CDC_SNAPSHOT_SIGNAL_WRITER_H_
#define CDC_SNAPSHOT_SIGNAL_WRITER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/connection.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

// Writes `signal` as a non-transactional logical decoding message with the
// signal prefix; returns its LSN.
absl::StatusOr<Lsn> WriteSignal(pg::SqlConnection& sql,
                                const v1::SnapshotSignal& signal);

// "<prefix>-<unix seconds>-<random hex>": unique enough that two requests
// never share an id by chance.
std::string NewRequestId(std::string_view prefix);

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_SIGNAL_WRITER_H_
