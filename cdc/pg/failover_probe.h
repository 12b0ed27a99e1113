// The I/O half of failover readiness (failover.h): reads every host of
// source.dsn, one session per host, for `pgcdc check` and `pgcdc status`.
//
// How standbys are found: a standby's settings cannot be read from the
// primary, so they are read from the hosts source.dsn lists (libpq
// multi-host: host=a,b port=p1,p2). That list is also how pgcdc reaches the
// promoted standby after a failover (with target_session_attrs=read-write),
// so the hosts pgcdc would fail over to are exactly the ones checked. Each
// host is connected to on its own, with target_session_attrs=any and the
// rest of source.dsn as it is; a host that cannot be reached or read is
// reported in its HostFailoverState::error, never fatal.
//
// Free functions; each opens and closes its own sessions. Thread-compatible.
#ifndef CDC_PG_FAILOVER_PROBE_H_
#define CDC_PG_FAILOVER_PROBE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/failover.h"

namespace cdc::pg {

// One host of a multi-host dsn, as a dsn of its own.
struct HostDsn {
  std::string endpoint;  // "host:port" ("host:" when the dsn has no port)
  std::string dsn;       // keyword=value, that host only, any session role
};

// The hosts of `dsn` in its order (libpq's host, hostaddr and port lists; a
// single port applies to every host); one entry, `dsn` itself with
// target_session_attrs=any, when it names one host or none. kInvalidArgument
// for a dsn libpq cannot parse (without libpq's reason, which may quote a
// password), or lists of different lengths.
absl::StatusOr<std::vector<HostDsn>> SplitHosts(const std::string& dsn);

// Whether a primary_conninfo value names a dbname (libpq's parser; the
// value is never logged: it may hold a password). nullopt when it does not
// parse.
std::optional<bool> ConninfoHasDbname(const std::string& conninfo);

// Reads `slot` and the failover settings on the session's server.
absl::StatusOr<HostFailoverState> ReadHostFailoverState(
    SqlConnection& conn, const std::string& slot);

// Connects to every host of `dsn` in turn and reads it.
absl::StatusOr<FailoverInput> ProbeFailover(const std::string& dsn,
                                            const std::string& slot,
                                            bool slot_failover);

}  // namespace cdc::pg

#endif  // CDC_PG_FAILOVER_PROBE_H_
