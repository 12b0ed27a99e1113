// PgCluster: a throwaway PostgreSQL server for integration tests: 15 from
// Debian's package, or the one whose programs PGCDC_PG_BINDIR names (CI
// runs the integration tests on 18 that way too).
//
// initdb into a fresh temporary directory, started with pg_ctl on a free
// loopback port with wal_level=logical; stopped (immediate) and deleted by
// the destructor. PostgreSQL refuses to run as root, so as root the server
// runs as the `postgres` user (runuser). Owns the server process and its
// directory. Thread-compatible.
#ifndef TESTS_INTEGRATION_HARNESS_PG_CLUSTER_H_
#define TESTS_INTEGRATION_HARNESS_PG_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/pg/connection.h"

namespace cdc::testing {

class PgCluster {
 public:
  // `extra_options` are appended to the server's command line ("-c k=v ...").
  static absl::StatusOr<std::unique_ptr<PgCluster>> Start(
      const std::string& extra_options = "");
  ~PgCluster();

  int port() const { return port_; }
  std::string Dsn(const std::string& db = "postgres") const;

  // Runs SQL on `db` as the superuser; aborts the calling test on error is
  // the caller's business: these return the status.
  absl::StatusOr<std::vector<pg::SqlRow>> Query(const std::string& db,
                                                const std::string& sql);
  absl::Status Exec(const std::string& db, const std::string& sql);
  // A fresh database with a unique name derived from `hint`.
  absl::StatusOr<std::string> CreateDatabase(const std::string& hint);

  absl::StatusOr<Lsn> CurrentWalLsn(const std::string& db);
  // confirmed_flush_lsn of `slot` (kInvalidLsn when the slot is missing).
  absl::StatusOr<Lsn> ConfirmedFlush(const std::string& db,
                                     const std::string& slot);
  // Waits until the slot's confirmed position reaches `target`.
  absl::Status WaitConfirmed(const std::string& db, const std::string& slot,
                             Lsn target, int timeout_ms);
  absl::StatusOr<bool> SlotActive(const std::string& db,
                                  const std::string& slot);
  // The pid of the walsender streaming the slot (after START_REPLICATION),
  // or 0. Unlike `active`, which is also true while a backend creates or
  // copies the slot, before any snapshot was read.
  absl::StatusOr<int> SlotStreamingPid(const std::string& db,
                                       const std::string& slot);
  // Stops the server abruptly (immediate mode: no checkpoint, crash
  // recovery on start) and starts it again with the same options; every
  // connection to it is lost.
  absl::Status Restart();

  // A physical standby of `primary` (PostgreSQL 17+ for slot
  // synchronisation): pg_basebackup -R of it into a fresh directory, then
  // primary_conninfo with a dbname, primary_slot_name `physical_slot`
  // (which must exist on the primary), sync_replication_slots = on and
  // hot_standby_feedback = on, started with the primary's options plus
  // `extra_options` on a port of its own.
  static absl::StatusOr<std::unique_ptr<PgCluster>> StartStandby(
      const PgCluster& primary, const std::string& physical_slot,
      const std::string& extra_options = "");
  // kill -9 of the postmaster alone, as a crashed machine would leave it:
  // its children exit once they notice it gone, without a shutdown
  // checkpoint and without acknowledging anything more.
  absl::Status KillPostmaster();
  // pg_ctl promote, waiting until the standby accepts writes.
  absl::Status Promote();

 private:
  PgCluster() = default;
  // initdb (or, for a standby, nothing: the caller filled data/) and the
  // directory; then StartServer.
  absl::Status StartServer(const std::string& extra_options);
  std::string As() const;
  std::string dir_;
  int port_ = 0;
  bool as_postgres_ = false;
  int next_db_ = 0;
  std::string options_;  // the server's extra options, for a standby
};

// The directory of initdb, pg_ctl and postgres: $PGCDC_PG_BINDIR when set,
// else /usr/lib/postgresql/15/bin.
std::string PgBinDir();

// A port nobody listens on right now.
int FreePort();

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_PG_CLUSTER_H_
