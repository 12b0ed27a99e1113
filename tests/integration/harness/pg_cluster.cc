#include "tests/integration/harness/pg_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cdc::testing {
namespace {

absl::Status Run(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("command failed (", rc, "): ", command));
  }
  return absl::OkStatus();
}

}  // namespace

std::string PgBinDir() {
  const char* dir = std::getenv("PGCDC_PG_BINDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/lib/postgresql/15/bin";
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

namespace {

// A fresh directory for a server, owned by postgres when running as root.
absl::StatusOr<std::string> MakeServerDir(bool as_postgres) {
  char tmpl[] = "/tmp/pgcdc-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  std::string dir = tmpl;
  if (as_postgres) {
    if (absl::Status s = Run(absl::StrCat("chown postgres ", dir)); !s.ok()) {
      return s;
    }
  }
  return dir;
}

}  // namespace

std::string PgCluster::As() const {
  return as_postgres_ ? "runuser -u postgres -- " : "";
}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::Start(
    const std::string& extra_options) {
  std::unique_ptr<PgCluster> cluster(new PgCluster());
  cluster->as_postgres_ = ::geteuid() == 0;
  absl::StatusOr<std::string> dir = MakeServerDir(cluster->as_postgres_);
  if (!dir.ok()) return dir.status();
  cluster->dir_ = *dir;
  std::string data = cluster->dir_ + "/data";
  if (absl::Status s = Run(
          absl::StrCat(cluster->As(), PgBinDir(), "/initdb -D ", data,
                       " -U postgres -A trust -E UTF8 --locale=C --no-sync > ",
                       cluster->dir_, "/initdb.log 2>&1"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = cluster->StartServer(extra_options); !s.ok()) return s;
  return cluster;
}

absl::Status PgCluster::StartServer(const std::string& extra_options) {
  port_ = FreePort();
  options_ = extra_options;
  std::string options = absl::StrCat(
      "-c port=", port_,
      " -c listen_addresses=127.0.0.1 -c unix_socket_directories=", dir_,
      " -c wal_level=logical -c max_replication_slots=32"
      " -c max_wal_senders=32 -c fsync=off"
      " -c full_page_writes=off -c max_connections=100 ",
      extra_options);
  return Run(absl::StrCat(As(), PgBinDir(), "/pg_ctl -D ", dir_,
                          "/data -w -t 60 -l ", dir_, "/server.log -o '",
                          options, "' start > /dev/null"));
}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::StartStandby(
    const PgCluster& primary, const std::string& physical_slot,
    const std::string& extra_options) {
  std::unique_ptr<PgCluster> standby(new PgCluster());
  standby->as_postgres_ = primary.as_postgres_;
  absl::StatusOr<std::string> dir = MakeServerDir(standby->as_postgres_);
  if (!dir.ok()) return dir.status();
  standby->dir_ = *dir;
  const std::string data = standby->dir_ + "/data";
  // -R writes standby.signal and a primary_conninfo; the settings slot
  // synchronisation needs follow it in postgresql.auto.conf, so they win.
  if (absl::Status s = Run(absl::StrCat(standby->As(), PgBinDir(),
                                        "/pg_basebackup -h 127.0.0.1 -p ",
                                        primary.port_, " -U postgres -D ", data,
                                        " -R -X stream -c fast --no-sync > ",
                                        standby->dir_, "/basebackup.log 2>&1"));
      !s.ok()) {
    return s;
  }
  {
    std::ofstream conf(data + "/postgresql.auto.conf", std::ios::app);
    conf << "primary_conninfo = 'host=127.0.0.1 port=" << primary.port_
         << " user=postgres dbname=postgres application_name=standby1'\n"
         << "primary_slot_name = '" << physical_slot << "'\n"
         << "sync_replication_slots = on\n"
         << "hot_standby_feedback = on\n";
    if (!conf) return absl::InternalError("cannot write postgresql.auto.conf");
  }
  if (absl::Status s = standby->StartServer(
          absl::StrCat(primary.options_, " ", extra_options));
      !s.ok()) {
    return s;
  }
  return standby;
}

absl::Status PgCluster::KillPostmaster() {
  std::ifstream pid_file(dir_ + "/data/postmaster.pid");
  int pid = 0;
  if (!(pid_file >> pid) || pid <= 0) {
    return absl::InternalError("no postmaster.pid");
  }
  if (::kill(pid, SIGKILL) != 0) {
    return absl::InternalError(absl::StrCat("kill -9 ", pid, " failed"));
  }
  return absl::OkStatus();
}

absl::Status PgCluster::Promote() {
  return Run(absl::StrCat(As(), PgBinDir(), "/pg_ctl -D ", dir_,
                          "/data -w -t 60 promote > /dev/null"));
}

PgCluster::~PgCluster() {
  if (dir_.empty()) return;
  std::string as = As();
  (void)Run(absl::StrCat(as, PgBinDir(), "/pg_ctl -D ", dir_,
                         "/data -m immediate stop > /dev/null 2>&1"));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status PgCluster::Restart() {
  std::string as = as_postgres_ ? "runuser -u postgres -- " : "";
  return Run(absl::StrCat(as, PgBinDir(), "/pg_ctl -D ", dir_,
                          "/data -w -t 60 -l ", dir_,
                          "/server.log -m immediate restart > /dev/null"));
}

std::string PgCluster::Dsn(const std::string& db) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " dbname=", db,
                      " user=postgres");
}

absl::StatusOr<std::vector<pg::SqlRow>> PgCluster::Query(
    const std::string& db, const std::string& sql) {
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(Dsn(db));
  if (!conn.ok()) return conn.status();
  return (*conn)->Query(sql);
}

absl::Status PgCluster::Exec(const std::string& db, const std::string& sql) {
  return Query(db, sql).status();
}

absl::StatusOr<std::string> PgCluster::CreateDatabase(const std::string& hint) {
  std::string name = absl::StrCat("t", ++next_db_, "_", hint);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (name.size() > 60) name.resize(60);
  if (absl::Status s = Exec("postgres", "CREATE DATABASE " + name); !s.ok()) {
    return s;
  }
  return name;
}

absl::StatusOr<Lsn> PgCluster::CurrentWalLsn(const std::string& db) {
  absl::StatusOr<std::vector<pg::SqlRow>> rows =
      Query(db, "SELECT pg_current_wal_lsn()");
  if (!rows.ok()) return rows.status();
  return ParseLsn(rows->at(0).at(0).value_or(""));
}

absl::StatusOr<Lsn> PgCluster::ConfirmedFlush(const std::string& db,
                                              const std::string& slot) {
  absl::StatusOr<std::vector<pg::SqlRow>> rows = Query(
      db, absl::StrCat("SELECT confirmed_flush_lsn FROM pg_replication_slots "
                       "WHERE slot_name = '",
                       slot, "'"));
  if (!rows.ok()) return rows.status();
  if (rows->empty() || !rows->at(0).at(0)) return kInvalidLsn;
  return ParseLsn(*rows->at(0).at(0));
}

absl::StatusOr<bool> PgCluster::SlotActive(const std::string& db,
                                           const std::string& slot) {
  absl::StatusOr<std::vector<pg::SqlRow>> rows =
      Query(db, absl::StrCat("SELECT active FROM pg_replication_slots "
                             "WHERE slot_name = '",
                             slot, "'"));
  if (!rows.ok()) return rows.status();
  return !rows->empty() && rows->at(0).at(0).value_or("f") == "t";
}

absl::StatusOr<int> PgCluster::SlotStreamingPid(const std::string& db,
                                                const std::string& slot) {
  // A walsender is in state "startup" until START_REPLICATION, then
  // "catchup" and "streaming".
  absl::StatusOr<std::vector<pg::SqlRow>> rows = Query(
      db, absl::StrCat("SELECT r.pid FROM pg_replication_slots s "
                       "JOIN pg_stat_replication r ON r.pid = s.active_pid "
                       "WHERE s.slot_name = '",
                       slot, "' AND r.state IN ('catchup', 'streaming')"));
  if (!rows.ok()) return rows.status();
  int pid = 0;
  if (!rows->empty() &&
      !absl::SimpleAtoi(rows->at(0).at(0).value_or(""), &pid)) {
    return absl::InternalError("pg_stat_replication gave no pid");
  }
  return pid;
}

absl::Status PgCluster::WaitConfirmed(const std::string& db,
                                      const std::string& slot, Lsn target,
                                      int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Lsn last = kInvalidLsn;
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<Lsn> confirmed = ConfirmedFlush(db, slot);
    if (!confirmed.ok()) return confirmed.status();
    last = *confirmed;
    if (last >= target) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("slot ", slot, " confirmed ", FormatLsn(last),
                   ", still short of ", FormatLsn(target)));
}

}  // namespace cdc::testing
