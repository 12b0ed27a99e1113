// PgcdcTest: the integration-test fixture. Each test gets its own PostgreSQL
// 15 cluster, database, in-process dev broker (the real Kafka protocol on
// loopback, with fault injection through mock()), a scratch directory, and
// helpers to write a config and run the real pgcdc binary against them.
#ifndef TESTS_INTEGRATION_HARNESS_FIXTURE_H_
#define TESTS_INTEGRATION_HARNESS_FIXTURE_H_

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cdc/kafka/dev_broker.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/change_log.h"
#include "tests/integration/harness/pg_cluster.h"
#include "tests/integration/harness/subprocess.h"

namespace cdc::testing {

class PgcdcTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // SQL on the test database; fails the test on error.
  void Sql(const std::string& sql);
  std::vector<pg::SqlRow> Rows(const std::string& sql);
  Lsn WalLsn();
  // The test server's server_version_num (e.g. 150018, 180006): for what
  // differs between the PostgreSQL versions the suite runs on.
  int ServerVersionNum();

  // Writes a config for `tables` and returns its path. `kafka_extra` and
  // `extra` are appended (YAML lines) under kafka: and at top level.
  std::string WriteConfig(const std::vector<std::string>& tables,
                          const std::string& kafka_extra = "",
                          const std::string& extra = "");
  // The config's top-level `metrics:` section serving on `port`, for
  // WriteConfig's `extra`.
  static std::string MetricsOn(int port);
  // Replaces the first match of `pattern` (a regex) in the config file.
  void EditConfig(const std::string& path, const std::string& pattern,
                  const std::string& replacement);
  // Swaps this test's cluster for one started with extra server options.
  void UseCluster(const std::string& server_options);
  // How long StartPgcdc waits for pgcdc to stream.
  static constexpr int kStartTimeoutMs = 30000;

  // Starts `pgcdc run --config path` and waits until it streams: the slot's
  // walsender has started replication, so an initial snapshot is done.
  // Fails the test, with pgcdc's log, if pgcdc exits first or does not
  // stream within kStartTimeoutMs (the process is returned either way).
  Subprocess StartPgcdc(const std::string& config_path);
  // Starts `pgcdc run --config path` without waiting for anything (for an
  // instance that is expected not to stream yet).
  Subprocess LaunchPgcdc(const std::string& config_path);
  // Runs pgcdc with `args` to completion; returns its exit code (-1, and the
  // test fails, when it is still running after 60 s).
  int RunPgcdc(const std::vector<std::string>& args, std::string* output);
  // SIGTERM, then expects exit code 0.
  void StopPgcdc(Subprocess& p);
  // SIGKILL, then waits until the server has let go of the slot (so that a
  // later StartPgcdc waits for the new run's walsender, not the dead one's).
  void KillPgcdc(Subprocess& p);
  // KillPgcdc, then StartPgcdc(config_path).
  void KillAndRestartPgcdc(Subprocess& p, const std::string& config_path);
  // Flushes the WAL written so far (with a committed write) and waits until
  // the slot confirmed it all.
  void WaitCaughtUp(int timeout_ms = 30000);

  absl::StatusOr<Subprocess> Launch(const std::string& config_path);

  // Transactions committed since `from` that carry a pgcdc.snapshot message
  // (pg_walinspect; the test must CREATE EXTENSION pg_walinspect): pgcdc's
  // own snapshot requests and journal entries, one message each. The server
  // sends them like any other transaction, so pgcdc_transactions_total
  // counts them. -1 (and the test fails) when the WAL cannot be read.
  int SignalTransactionsSince(Lsn from);

  // Takes every broker of the dev broker down (nothing is acknowledged,
  // nothing is fetched) or brings them up again; fails the test if the
  // broker refuses.
  void BrokerDown();
  void BrokerUp();

  struct TopicCounts {
    int events = 0;
    int replays = 0;  // events whose (commit_lsn, seq) came before
  };
  // Reads `topic` to its end from `bootstrap`, rebuilds public.`table` (key
  // id) from it and compares it with the table; checks per-key order and
  // that duplicates are only replays, and adds what the topic holds to
  // *counts when given.
  void ExpectTopicEqualsTable(const std::string& bootstrap,
                              const std::string& topic,
                              const std::string& table,
                              TopicCounts* counts = nullptr);

  // What KillsUnderThreeTablesLoad saw.
  struct KillRun {
    int statements = 0;           // the load's committed statements
    int kills_with_inflight = 0;  // kills that met events in flight
    TopicCounts counts;           // what the three topics hold
  };
  // Runs pgcdc with `config` (metrics on `metrics_port`) under the
  // three-table load (three_tables.h; the tables must exist) and kills it
  // with SIGKILL `kills` times, 200 to 900 ms apart, starting it again each
  // time; then waits until it confirmed everything, stops it, and checks
  // that each table rebuilds from its topic `prefix`.public.TABLE on
  // `bootstrap`, that no statement failed and that at least
  // `min_statements` ran. Prints the figures.
  KillRun KillsUnderThreeTablesLoad(const std::string& config, int metrics_port,
                                    int kills, const std::string& bootstrap,
                                    const std::string& prefix,
                                    int min_statements);

  std::string Topic(const std::string& table) const { return "test." + table; }
  std::vector<ReadEvent> ReadTopic(const std::string& table);

  std::unique_ptr<PgCluster> cluster_;
  std::unique_ptr<kafka::DevBroker> broker_;
  std::string db_;
  std::string dir_;
  std::string slot_ = "pgcdc_test";
  int runs_ = 0;
};

std::string FormatRows(const TableImage& t, size_t limit = 5);
// Success when Rebuild(events) == source; otherwise a failure that shows both
// and RebuildDifferences.
::testing::AssertionResult RebuildsTo(const std::vector<ReadEvent>& events,
                                      const TableImage& source);

// A SQL expression for a text value PostgreSQL keeps (TOAST, compressed) but
// that is 1.5 MB once printed (random hex does not compress): past the
// producer's default message.max.bytes.
inline constexpr char kHugeValue[] =
    "(SELECT string_agg(md5(g::text || random()::text), '') FROM "
    "generate_series(1, 48000) g)";

// Polls `condition` every 50 ms; false if it still fails after timeout_ms.
bool WaitFor(const std::function<bool()>& condition, int timeout_ms);
// The last non-empty line of `output` (a command's last word), "" if none.
std::string LastLine(const std::string& output);
// How many times `needle` occurs in `text` (overlaps counted).
size_t CountOccurrences(const std::string& text, const std::string& needle);
// Waits until `p`'s log has `text` in it `times` times; false once `p` has
// exited without it, or after timeout_ms.
bool WaitForLog(Subprocess& p, const std::string& text, int timeout_ms,
                size_t times = 1);

// One random change to a table accounts (id int PRIMARY KEY, balance bigint,
// note text) with ids below `ids`: an upsert (half the time), an update of a
// range of rows, or a delete. `i` makes the values differ. Balances stay
// bounded, so a load may run as long as it needs to.
std::string RandomAccountsChange(std::mt19937& rng, int i, int ids);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_FIXTURE_H_
