#include "cdc/pg/connection.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "cdc/pg/sqlstate.h"

namespace cdc::pg {
namespace {

std::string ConnError(PGconn* conn) {
  std::string message = conn ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() &&
         (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

absl::Status ResultError(PGconn* conn, PGresult* result,
                         std::string_view what) {
  const char* sqlstate =
      result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? PQresultErrorMessage(result) : ConnError(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (message.empty()) message = ConnError(conn);
  if (PQstatus(conn) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat(AsAbsl(what), ": connection lost: ", message));
  }
  return SqlError(sqlstate != nullptr ? sqlstate : "",
                  absl::StrCat(AsAbsl(what), ": ", message));
}

// Takes libpq's quoted text (PQescapeIdentifier/PQescapeLiteral). That is
// null only on out-of-memory or invalid encoding; then `raw` enclosed in
// `quote`, each `quote` inside doubled, is still one safe token.
std::string Quote(char* quoted, std::string_view raw, char quote) {
  if (quoted != nullptr) {
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
  }
  std::string out(1, quote);
  for (char c : raw) {
    if (c == quote) out += quote;
    out += c;
  }
  return out + quote;
}

// Frees a row PQgetCopyData returned, once.
void FreeCopyData(char** buffer) {
  if (*buffer != nullptr) {
    PQfreemem(*buffer);
    *buffer = nullptr;
  }
}

// Runs `sql`; its result when it has status `expected` (the caller clears
// it), otherwise the error, prefixed by `what`.
absl::StatusOr<PGresult*> Exec(PGconn* conn, const std::string& sql,
                               ExecStatusType expected, std::string_view what) {
  PGresult* result = PQexec(conn, sql.c_str());
  if (result == nullptr || PQresultStatus(result) != expected) {
    absl::Status error = ResultError(conn, result, what);
    PQclear(result);
    return error;
  }
  return result;
}

// Whether libpq reads `dsn`, given as dbname with expand_dbname, as a
// connection string or URI (its recognized_connection_string()): otherwise
// it is a database name.
bool IsConnectionString(const std::string& dsn) {
  return dsn.rfind("postgresql://", 0) == 0 ||
         dsn.rfind("postgres://", 0) == 0 || dsn.find('=') != std::string::npos;
}

// Parses `dsn` as PQconnectdbParams will, so that one libpq cannot read is
// refused here: libpq's reason quotes the text around the fault (`missing "="
// after "..."`, `invalid percent-encoded token: "..."`), a password as
// readily as anything else, so it is never passed on. `*options` is the
// dsn's own `options` (empty when it has none).
absl::Status ParseDsn(const std::string& dsn, std::string* options) {
  options->clear();
  if (!IsConnectionString(dsn)) return absl::OkStatus();
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (parsed == nullptr) {
    // No message at all means libpq ran out of memory.
    if (error == nullptr) {
      return absl::ResourceExhaustedError("out of memory parsing source.dsn");
    }
    PQfreemem(error);
    return absl::InvalidArgumentError(
        "source.dsn is not a valid libpq connection string or URI (libpq's "
        "reason is withheld: it may quote a password). In keyword=value "
        "form, a value with spaces, quotes or backslashes must be in single "
        "quotes, each quote and backslash in it preceded by a backslash; in "
        "a URI, such characters must be percent-encoded. ${VAR} and "
        "${credential:NAME} in source.dsn are quoted for you");
  }
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "options") == 0 && o->val != nullptr) {
      *options = o->val;
    }
  }
  PQconninfoFree(parsed);
  return absl::OkStatus();
}

}  // namespace

std::string DescribeDsn(const std::string& dsn) {
  if (!IsConnectionString(dsn)) return absl::StrCat("dbname=", dsn);
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (parsed == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return "(unreadable dsn)";
  }
  // What locates the server and the role, nothing that authenticates.
  constexpr const char* kShown[] = {"host",   "hostaddr", "port",
                                    "dbname", "user",     "sslmode"};
  std::string out;
  for (const char* keyword : kShown) {
    for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, keyword) == 0 && o->val != nullptr &&
          o->val[0] != '\0') {
        absl::StrAppend(&out, out.empty() ? "" : " ", keyword, "=", o->val);
      }
    }
  }
  PQconninfoFree(parsed);
  return out.empty() ? "(libpq defaults)" : out;
}

namespace {

absl::StatusOr<PGconn*> ConnectWith(const std::string& dsn, bool replication,
                                    bool stream_settings) {
  std::string dsn_options;
  CDC_RETURN_IF_ERROR(ParseDsn(dsn, &dsn_options));
  // expand_dbname lets `dsn` be a keyword string or a URI; the keywords
  // after it override what it says.
  // For replication, `options` follows dbname so that it replaces the dsn's
  // own, which it includes (see ReplicationStream::Connect).
  std::string options = kReplicationSessionOptions;
  const bool with_options = replication || stream_settings;
  if (with_options && !dsn_options.empty()) {
    options = absl::StrCat(dsn_options, " ", kReplicationSessionOptions);
  }
  // TCP keepalives and a connect timeout come first, so that the dsn's own
  // values win: a peer that vanished without closing the connection (a
  // network partition, a powered-off host) is noticed in about 25 s instead
  // of the kernel's two hours. client_encoding follows dbname instead, so
  // that pgcdc's wins over the dsn's (and PGCLIENTENCODING); sent in the
  // startup packet, it also wins over database and role defaults.
  const char* keys[] = {"keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "connect_timeout",
                        "dbname",
                        "fallback_application_name",
                        "client_encoding",
                        nullptr,
                        nullptr,
                        nullptr};
  const char* values[] = {"1",     "10",        "5",     "3",
                          "10",    dsn.c_str(), "pgcdc", kClientEncoding,
                          nullptr, nullptr,     nullptr};
  int n = 8;
  if (with_options) {
    keys[n] = "options";
    values[n++] = options.c_str();
  }
  if (replication) {
    keys[n] = "replication";
    values[n++] = "database";
  }
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    // The dsn parsed above, so libpq's message is about connecting: it names
    // hosts, ports, the user and the database, and the server's answer, but
    // never quotes the password.
    std::string message = ConnError(conn);
    bool auth = conn != nullptr && PQconnectionNeedsPassword(conn);
    if (conn) PQfinish(conn);
    std::string text =
        absl::StrCat("cannot connect to PostgreSQL",
                     replication ? " (replication)" : "", ": ", message);
    if (auth) return absl::UnauthenticatedError(text);
    return absl::UnavailableError(text);
  }
  // In a SQL_ASCII database the server converts nothing, and it checks
  // what it sends against a client encoding such as UTF8, refusing any
  // text that is not valid in it ("invalid byte sequence"): the stream
  // would stop at such a value. SQL_ASCII is the one client encoding it
  // sends the bytes as stored in, which is all a SQL_ASCII database has.
  const char* server = PQparameterStatus(conn, "server_encoding");
  const bool sql_ascii =
      server != nullptr && std::strcmp(server, kSqlAsciiEncoding) == 0;
  if (sql_ascii && PQsetClientEncoding(conn, kSqlAsciiEncoding) != 0) {
    std::string text = absl::StrCat("cannot set client_encoding ",
                                    kSqlAsciiEncoding, ": ", ConnError(conn));
    PQfinish(conn);
    return absl::UnavailableError(text);
  }
  // The server reports the encoding it converts to; any other would change
  // the bytes of every text value.
  const char* expected = sql_ascii ? kSqlAsciiEncoding : kClientEncoding;
  const char* encoding = PQparameterStatus(conn, "client_encoding");
  if (encoding == nullptr || std::strcmp(encoding, expected) != 0) {
    std::string text = absl::StrCat(
        "PostgreSQL did not accept client_encoding ", expected, " (it reports ",
        encoding != nullptr ? encoding : "none", ")");
    PQfinish(conn);
    return absl::FailedPreconditionError(text);
  }
  return conn;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqlConnection>> SqlConnection::Connect(
    const std::string& dsn, bool stream_settings) {
  absl::StatusOr<PGconn*> conn =
      ConnectWith(dsn, /*replication=*/false, stream_settings);
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<SqlConnection>(
      new SqlConnection(*conn, PQgetCancel(*conn), PQsocket(*conn)));
}

SqlConnection::~SqlConnection() {
  FreeCopyData(&copy_buffer_);
  if (cancel_ != nullptr) PQfreeCancel(cancel_);
  PQfinish(conn_);
}

void SqlConnection::Cancel() {
  if (cancel_ == nullptr) return;
  char error[256];
  // Best effort: a statement that already ended has nothing to cancel.
  (void)PQcancel(cancel_, error, sizeof(error));
}

void SqlConnection::Abort() {
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
}

absl::Status SqlConnection::StartCopyOut(const std::string& sql) {
  PGresult* result = PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr,
                                  nullptr, nullptr, 0);
  if (result == nullptr || PQresultStatus(result) != PGRES_COPY_OUT) {
    absl::Status error = ResultError(conn_, result, "COPY failed");
    PQclear(result);
    return error;
  }
  PQclear(result);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string_view>> SqlConnection::ReadCopyRow() {
  FreeCopyData(&copy_buffer_);
  int n = PQgetCopyData(conn_, &copy_buffer_, /*async=*/0);
  if (n >= 0) return std::string_view(copy_buffer_, static_cast<size_t>(n));
  if (n == -2) {
    return absl::UnavailableError(
        absl::StrCat("COPY: connection lost: ", ConnError(conn_)));
  }
  // -1: the COPY ended; its result says whether it succeeded.
  absl::Status status = absl::OkStatus();
  while (PGresult* result = PQgetResult(conn_)) {
    if (status.ok() && PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = ResultError(conn_, result, "COPY failed");
    }
    PQclear(result);
  }
  if (!status.ok()) return status;
  return std::nullopt;
}

absl::StatusOr<std::vector<SqlRow>> SqlConnection::Query(
    const std::string& sql, const std::vector<std::string>& params,
    bool single_statement) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  // Without parameters the simple protocol runs, which also accepts several
  // statements (the last one's rows are returned).
  PGresult* result =
      values.empty() && !single_statement
          ? PQexec(conn_, sql.c_str())
          : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                         nullptr, values.data(), nullptr, nullptr, 0);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    absl::Status error = ResultError(conn_, result, "query failed");
    PQclear(result);
    return error;
  }
  std::vector<SqlRow> rows;
  int n = PQntuples(result), fields = PQnfields(result);
  rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    SqlRow row;
    row.reserve(fields);
    for (int j = 0; j < fields; ++j) {
      if (PQgetisnull(result, i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(result, i, j), PQgetlength(result, i, j)));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(result);
  return rows;
}

std::string SqlConnection::QuoteIdentifier(std::string_view name) const {
  return Quote(PQescapeIdentifier(conn_, name.data(), name.size()), name, '"');
}

std::string SqlConnection::QuoteLiteral(std::string_view text) const {
  return Quote(PQescapeLiteral(conn_, text.data(), text.size()), text, '\'');
}

std::string SqlConnection::DatabaseName() const { return PQdb(conn_); }

std::string SqlConnection::Endpoint() const {
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  return absl::StrCat(host ? host : "?", ":", port ? port : "?");
}

absl::StatusOr<std::unique_ptr<ReplicationStream>> ReplicationStream::Connect(
    const std::string& dsn) {
  absl::StatusOr<PGconn*> conn =
      ConnectWith(dsn, /*replication=*/true, /*stream_settings=*/true);
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<ReplicationStream>(new ReplicationStream(*conn));
}

ReplicationStream::~ReplicationStream() {
  FreeBuffer();
  PQfinish(conn_);
}

void ReplicationStream::FreeBuffer() { FreeCopyData(&buffer_); }

absl::StatusOr<ReplicationStream::CreatedSlot>
ReplicationStream::CreateSlotWithSnapshot(const std::string& slot,
                                          bool temporary, bool failover) {
  // PostgreSQL 15's option syntax (FAILOVER is 17's); the walsender answers
  // with one row: slot_name, consistent_point, snapshot_name, output_plugin.
  std::string sql = absl::StrCat(
      "CREATE_REPLICATION_SLOT ",
      Quote(PQescapeIdentifier(conn_, slot.data(), slot.size()), slot, '"'),
      temporary ? " TEMPORARY" : "", " LOGICAL pgoutput (SNAPSHOT 'export'",
      failover ? ", FAILOVER true" : "", ")");
  absl::StatusOr<PGresult*> executed =
      Exec(conn_, sql, PGRES_TUPLES_OK, "CREATE_REPLICATION_SLOT failed");
  if (!executed.ok()) return executed.status();
  PGresult* result = *executed;
  CreatedSlot created;
  absl::Status status = absl::OkStatus();
  if (PQntuples(result) != 1 || PQnfields(result) < 3 ||
      PQgetisnull(result, 0, 2)) {
    status = absl::DataLossError(
        "CREATE_REPLICATION_SLOT returned no consistent point and snapshot");
  } else {
    absl::StatusOr<Lsn> lsn = ParseLsn(PQgetvalue(result, 0, 1));
    if (!lsn.ok()) {
      status = absl::DataLossError(absl::StrCat(
          "CREATE_REPLICATION_SLOT returned a bad consistent point: ",
          lsn.status().message()));
    } else {
      created.consistent_point = *lsn;
      created.snapshot_name = PQgetvalue(result, 0, 2);
    }
  }
  PQclear(result);
  if (!status.ok()) return status;
  return created;
}

absl::Status ReplicationStream::EnableSlotFailover(const std::string& slot) {
  const std::string sql = absl::StrCat(
      "ALTER_REPLICATION_SLOT ",
      Quote(PQescapeIdentifier(conn_, slot.data(), slot.size()), slot, '"'),
      " ( FAILOVER true )");
  absl::StatusOr<PGresult*> result =
      Exec(conn_, sql, PGRES_COMMAND_OK, "ALTER_REPLICATION_SLOT failed");
  if (!result.ok()) return result.status();
  PQclear(*result);
  return absl::OkStatus();
}

absl::Status ReplicationStream::Start(const std::string& slot, Lsn start,
                                      const std::string& options) {
  std::string sql = absl::StrCat(
      "START_REPLICATION SLOT ",
      Quote(PQescapeIdentifier(conn_, slot.data(), slot.size()), slot, '"'),
      " LOGICAL ", FormatLsn(start), " (", options, ")");
  absl::StatusOr<PGresult*> result =
      Exec(conn_, sql, PGRES_COPY_BOTH, "START_REPLICATION failed");
  if (!result.ok()) return result.status();
  PQclear(*result);
  return absl::OkStatus();
}

void ReplicationStream::SetLowWater(bool coalesce) {
  if (coalesce == low_water_) return;
  const int bytes = coalesce ? kCoalesceBytes : 1;
  // Best effort: without it waits are merely not coalesced.
  if (::setsockopt(PQsocket(conn_), SOL_SOCKET, SO_RCVLOWAT, &bytes,
                   sizeof(bytes)) == 0) {
    low_water_ = coalesce;
  }
}

absl::StatusOr<std::optional<std::string_view>> ReplicationStream::Read(
    int timeout_ms, int wake_fd, int other_wake_fd) {
  FreeBuffer();
  bool waited = false;
  for (;;) {
    int n = PQgetCopyData(conn_, &buffer_, /*async=*/1);
    if (n > 0) return std::string_view(buffer_, static_cast<size_t>(n));
    if (n == -1) {
      // The server ended the COPY: collect why.
      PGresult* result = PQgetResult(conn_);
      absl::Status error =
          result && PQresultStatus(result) == PGRES_COMMAND_OK
              ? absl::UnavailableError("server ended the replication stream")
              : ResultError(conn_, result, "replication stream ended");
      PQclear(result);
      return error;
    }
    if (n == -2) {
      return absl::UnavailableError(
          absl::StrCat("replication connection lost: ", ConnError(conn_)));
    }
    if (waited) {
      // A coalesced wait that brought no whole frame: the stream went
      // quiet, so the next wait is a normal one.
      busy_ = false;
      return std::nullopt;
    }
    const bool coalesce = busy_ && timeout_ms > 0;
    SetLowWater(coalesce);
    // poll ignores entries with a negative fd.
    struct pollfd pfds[3] = {{PQsocket(conn_), POLLIN, 0},
                             {wake_fd, POLLIN, 0},
                             {other_wake_fd, POLLIN, 0}};
    struct timespec wait = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    if (coalesce && timeout_ms * 1000L > kCoalesceMicros) {
      wait = {0, kCoalesceMicros * 1000L};
    }
    int ready = ::ppoll(pfds, 3, timeout_ms < 0 ? nullptr : &wait, nullptr);
    if (ready < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat("poll on replication socket: ", std::strerror(errno)));
    }
    if (ready < 0) return std::nullopt;
    if (ready > 0 && (pfds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) {
      return std::nullopt;  // only a wake fd: the caller has work
    }
    if (ready == 0 && !coalesce) return std::nullopt;
    // Readable, or a coalescing wait ran out with less than its bytes:
    // take what there is.
    if (!PQconsumeInput(conn_)) {
      return absl::UnavailableError(
          absl::StrCat("replication connection lost: ", ConnError(conn_)));
    }
    busy_ = true;
    waited = true;
  }
}

absl::Status ReplicationStream::Send(std::string_view frame) {
  if (PQputCopyData(conn_, frame.data(), static_cast<int>(frame.size())) != 1 ||
      PQflush(conn_) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot send to the replication connection: ", ConnError(conn_)));
  }
  return absl::OkStatus();
}

absl::Status ReplicationStream::Finish(int timeout_ms) {
  FreeBuffer();
  SetLowWater(false);  // the server's last small messages must wake the poll
  if (PQputCopyEnd(conn_, nullptr) != 1 || PQflush(conn_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot end replication: ", ConnError(conn_)));
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int n = PQgetCopyData(conn_, &buffer_, /*async=*/1);
    if (n > 0) {     // data sent before the server saw CopyDone: dropped, and
      FreeBuffer();  // replayed from the slot next time
      continue;
    }
    if (n == -1 || n == -2) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      return absl::DeadlineExceededError(
          "server did not end the replication stream in time");
    }
    struct pollfd pfd = {PQsocket(conn_), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) > 0 && !PQconsumeInput(conn_)) {
      break;
    }
  }
  while (PGresult* result = PQgetResult(conn_)) PQclear(result);
  return absl::OkStatus();
}

}  // namespace cdc::pg
