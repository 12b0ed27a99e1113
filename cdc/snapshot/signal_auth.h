// Sealing snapshot signals: who may steer pgcdc through the WAL.
//
// Any role that can log in may write a logical decoding message
// (pg_logical_emit_message is executable by PUBLIC), so a signal's prefix
// says nothing of who wrote it. A signal is honoured only when it is sealed
// with pgcdc's signal key and bound to the transaction that carries it:
//
//   content = <64 lowercase hex: HMAC-SHA256(key, json)> " " <json>
//
// where json is the cdc.v1.SnapshotSignal (signal.h) and its `xid` is the
// 32-bit id of the transaction the message is written in (the message is
// transactional). Without the key nobody can write a signal pgcdc accepts;
// a genuine signal copied into another transaction names the wrong xid, so
// pgcdc's own journal and watermarks cannot be replayed either. By hand,
// with pgcrypto:
//
//   SELECT pg_logical_emit_message(true, 'pgcdc.snapshot',
//            encode(hmac(j, '<secret>', 'sha256'), 'hex') || ' ' || j)
//   FROM (SELECT format('{"slot": "s", "xid": %s, "request": {"id": "r1",
//           "tables": ["public.t"]}}', txid_current() % 4294967296) AS j) q;
//
// The key is `signals.secret` from the configuration when one is set, else
// a random key pgcdc keeps in the source database itself, readable only by
// its role (signal_writer.h).
//
// Pure; thread-safe (no state).
#ifndef CDC_SNAPSHOT_SIGNAL_AUTH_H_
#define CDC_SNAPSHOT_SIGNAL_AUTH_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdc::snapshot {

// HMAC keys a signal may be sealed with: the first seals, any opens (a
// configured secret and the key kept in the database, while signals sealed
// with the latter may still be replayed).
class SignalKeys {
 public:
  SignalKeys() = default;
  explicit SignalKeys(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  bool empty() const { return keys_.empty(); }

  // `json` sealed with the first key. Requires !empty().
  std::string Seal(std::string_view json) const;
  // The json of a sealed signal. kUnauthenticated when the content is not
  // "<mac> <json>" or no key gives the MAC; the message says which, and
  // never repeats the content.
  absl::StatusOr<std::string_view> Open(std::string_view content) const;

 private:
  std::vector<std::string> keys_;
};

// The hex of HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace cdc::snapshot

#endif  // CDC_SNAPSHOT_SIGNAL_AUTH_H_
