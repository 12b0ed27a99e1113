// Writing snapshot signals (see signal.h) into the WAL, the key they are
// sealed with (signal_auth.h), and naming the requests pgcdc writes itself:
// the I/O beside the pure reader and writer.
//
// The key pgcdc keeps when signals.secret is not set: 32 random bytes in a
// large object owned by pgcdc's role, found by its comment
// (kSignalKeyComment). Large objects are private to their owner (and
// superusers) unless lo_compat_privileges is on, need no CREATE right on
// any schema, and are never published by logical replication; every pgcdc
// process of the role — `run`, a standby, `pgcdc snapshot` — reads the same
// one, and a key another role made is never taken for it.
//
// Thread-safe (no state); the connection is the caller's.
#ifndef CDC_SNAPSHOT_SIGNAL_WRITER_H_
#define CDC_SNAPSHOT_SIGNAL_WRITER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/config/config.h"
#include "cdc/pg/connection.h"
#include "cdc/snapshot/signal_auth.h"
#include "cdc/v1/snapshot_signal.pb.h"

namespace cdc::snapshot {

inline constexpr char kSignalKeyComment[] =
    "pgcdc signal key: seals pgcdc's snapshot signals; do not drop it while "
    "a snapshot runs";

// The keys signals are sealed and opened with: signals.secret when set
// (opening also with the database's key, if there is one, so that signals
// written before the secret was set still count), else the database's key,
// made now when `create` and there is none yet. kNotFound when there is no
// key and `create` is false.
absl::StatusOr<SignalKeys> LoadSignalKeys(pg::SqlConnection& sql,
                                          const config::SignalsConfig& signals,
                                          bool create);

// Writes `signal`, sealed with `keys`, as a transactional logical decoding
// message with the signal prefix, in a transaction of its own whose id it
// names; returns the message's LSN.
absl::StatusOr<Lsn> WriteSignal(pg::SqlConnection& sql, const SignalKeys& keys,
                                v1::SnapshotSignal signal);

// "<prefix>-<unix seconds>-<random hex>": unique enough that two requests
// never share an id by chance.
std::string NewRequestId(std::string_view prefix);

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_SIGNAL_WRITER_H_
