// The libpq edge: the only place pgcdc talks to PostgreSQL.
//
// SqlConnection runs setup and catalog queries on an ordinary session.
// ReplicationStream is a replication=database session that runs
// START_REPLICATION and hands out the raw CopyData frames, which the pure
// parsers in replication_protocol.h and pgoutput.h read.
//
// Encoding: every session, SQL and replication, runs with client_encoding
// UTF8 (kClientEncoding), whatever the dsn, PGCLIENTENCODING, or the
// database's and role's defaults say. The server converts text to the
// client encoding — the walsender too, for pgoutput's values and names — so
// a default such as ALTER DATABASE ... SET client_encoding = 'LATIN1' would
// otherwise change the bytes pgcdc receives. The exception is a SQL_ASCII
// database: the server converts nothing there, stores any bytes, and
// refuses to send a value that is not valid in a client encoding like UTF8,
// so in one pgcdc's sessions switch to SQL_ASCII right after connecting and
// receive values and names exactly as stored (value_codec.h says what
// becomes of bytes that are not UTF-8).
//
// Errors: a connection that cannot be made or is lost is kUnavailable (worth
// retrying); an SQL error maps its SQLSTATE to the nearest code
// (insufficient_privilege → kPermissionDenied, undefined_object/table →
// kNotFound, ...: sqlstate.h) and carries the SQLSTATE as a payload, so
// that callers test a condition by pg::SqlStateOf(status). Messages never
// include the DSN, so never a password: a DSN libpq cannot parse is
// kInvalidArgument without libpq's reason, which would quote part of it.
//
// Each object owns its PGconn. Thread-compatible: one owner each.
#ifndef CDC_PG_CONNECTION_H_
#define CDC_PG_CONNECTION_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"

struct pg_conn;
struct pg_cancel;

namespace cdc::pg {

using SqlRow = std::vector<std::optional<std::string>>;  // nullopt: NULL

// `dsn` for a log: host, hostaddr, port, dbname, user and sslmode as libpq
// reads them, never a password or any other keyword.
std::string DescribeDsn(const std::string& dsn);

class SqlConnection {
 public:
  // With `stream_settings` the session runs under kReplicationSessionOptions
  // (appended to the dsn's own `options`, as for ReplicationStream), so that
  // values it reads print exactly as the replication stream prints them.
  static absl::StatusOr<std::unique_ptr<SqlConnection>> Connect(
      const std::string& dsn, bool stream_settings = false);
  ~SqlConnection();
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  // Runs one statement with $1.. text parameters, or without parameters any
  // number of statements; returns the (last) statement's rows. With
  // `single_statement` the extended query protocol runs it even without
  // parameters, so that text spliced into it cannot add another statement.
  absl::StatusOr<std::vector<SqlRow>> Query(
      const std::string& sql, const std::vector<std::string>& params = {},
      bool single_statement = false);
  // Quotes an identifier for SQL text (PQescapeIdentifier).
  std::string QuoteIdentifier(std::string_view name) const;
  // Quotes a string literal for SQL text (PQescapeLiteral).
  std::string QuoteLiteral(std::string_view text) const;
  std::string DatabaseName() const;

  // COPY ... TO STDOUT: StartCopyOut runs the statement, then each
  // ReadCopyRow returns one row's CopyData (valid until the next call), or
  // nullopt once the COPY finished successfully. Blocks until a row arrives.
  // No other statement may run until ReadCopyRow returned nullopt or failed.
  // The statement goes through the extended query protocol, which takes
  // exactly one statement: text spliced into it cannot add another.
  absl::Status StartCopyOut(const std::string& sql);
  absl::StatusOr<std::optional<std::string_view>> ReadCopyRow();
  // "host:port" for logs, without credentials.
  std::string Endpoint() const;

  // Asks the server to cancel the statement this session is running (the
  // statement then fails with kDeadlineExceeded). Thread-safe: meant to be
  // called from another thread than the one the statement blocks.
  void Cancel();

  // Shuts the session's socket down, so that a statement blocked on it
  // fails at once (kUnavailable) even when the network is silent and a
  // cancel request cannot reach the server either; the session is unusable
  // afterwards. Thread-safe, like Cancel.
  void Abort();

 private:
  SqlConnection(pg_conn* conn, pg_cancel* cancel, int socket)
      : conn_(conn), cancel_(cancel), socket_(socket) {}
  pg_conn* conn_;
  pg_cancel* cancel_;  // may be null: Cancel() does nothing then
  const int socket_;   // PQsocket at connect time (-1: none)
  char* copy_buffer_ = nullptr;
};

// The client_encoding of every session (see the top), and of every session
// with a SQL_ASCII database.
inline constexpr char kClientEncoding[] = "UTF8";
inline constexpr char kSqlAsciiEncoding[] = "SQL_ASCII";

// Server settings of the replication session, passed as libpq `options`.
// The walsender runs the columns' output functions, so these fix the one
// text form each value arrives in, whatever the server, database or role
// defaults say: ISO dates, ISO 8601 intervals, timestamptz in UTC, floats
// printed shortest-exact, bytea in hex, money in the C locale's form.
inline constexpr char kReplicationSessionOptions[] =
    "-c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c TimeZone=UTC "
    "-c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C";

class ReplicationStream {
 public:
  // Connects with replication=database. `options` from the dsn are kept and
  // kReplicationSessionOptions appended after them, so that for the
  // settings it names pgcdc's values win (the server applies -c switches in
  // order) and any other setting the user passed still applies.
  static absl::StatusOr<std::unique_ptr<ReplicationStream>> Connect(
      const std::string& dsn);
  ~ReplicationStream();
  ReplicationStream(const ReplicationStream&) = delete;
  ReplicationStream& operator=(const ReplicationStream&) = delete;

  // What CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export') returns.
  struct CreatedSlot {
    Lsn consistent_point = kInvalidLsn;  // where decoding of the slot starts
    // The exported snapshot: the database exactly as of consistent_point.
    // Importable (SET TRANSACTION SNAPSHOT) only while this connection stays
    // open and runs no other command.
    std::string snapshot_name;
  };
  // Creates a logical slot (plugin pgoutput) that exports its snapshot. A
  // `temporary` slot is dropped when this connection closes. Waits, as the
  // server does, for transactions running at the time to finish. With
  // `failover` (PostgreSQL 17+; not with `temporary`, which the server
  // refuses: a temporary slot is never synchronised) the slot is made with
  // FAILOVER true.
  absl::StatusOr<CreatedSlot> CreateSlotWithSnapshot(const std::string& slot,
                                                     bool temporary,
                                                     bool failover = false);

  // ALTER_REPLICATION_SLOT slot ( FAILOVER true ) (PostgreSQL 17+): makes an
  // existing slot a failover slot. The server waits for the slot to be
  // released if another session streams from it.
  absl::Status EnableSlotFailover(const std::string& slot);

  // START_REPLICATION SLOT slot LOGICAL start (options). `options` is the
  // already-quoted option list, e.g. "proto_version '1', ...".
  absl::Status Start(const std::string& slot, Lsn start,
                     const std::string& options);

  // The next CopyData frame, or nullopt when none arrived within
  // timeout_ms or a wake fd (those >= 0) became readable first; the caller
  // drains it. The view stays valid until the next call. The end of the
  // stream or a lost connection is kUnavailable.
  //
  // While frames keep coming, a wait for more is coalesced: the socket only
  // counts as readable once kCoalesceBytes arrived or kCoalesceMicros
  // passed. The walsender writes each message to the socket on its own, so
  // a client that keeps up would otherwise wake (poll, recv, two context
  // switches) once per message — CPU taken from the walsender on a small
  // machine. An idle stream is waited for normally.
  absl::StatusOr<std::optional<std::string_view>> Read(int timeout_ms,
                                                       int wake_fd = -1,
                                                       int other_wake_fd = -1);
  static constexpr int kCoalesceBytes = 32 * 1024;
  static constexpr int kCoalesceMicros = 1000;

  // Sends one CopyData frame to the server (a standby status update).
  absl::Status Send(std::string_view frame);

  // Ends the stream cleanly: CopyDone, then discards what the server still
  // sends until it finishes, for at most timeout_ms. Status updates sent
  // before this are processed by the server before it finishes.
  absl::Status Finish(int timeout_ms);

 private:
  explicit ReplicationStream(pg_conn* conn) : conn_(conn) {}
  void FreeBuffer();
  // Sets the socket's SO_RCVLOWAT for coalesced (or normal) waits.
  void SetLowWater(bool coalesce);
  pg_conn* conn_;
  char* buffer_ = nullptr;
  bool busy_ = false;       // the last wait found frames: coalesce the next
  bool low_water_ = false;  // SO_RCVLOWAT is kCoalesceBytes
};

}  // namespace cdc::pg

#endif  // CDC_PG_CONNECTION_H_
