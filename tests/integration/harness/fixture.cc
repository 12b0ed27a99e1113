#include "tests/integration/harness/fixture.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/load.h"
#include "tests/integration/harness/three_tables.h"

namespace cdc::testing {

void PgcdcTest::SetUp() {
  absl::StatusOr<std::unique_ptr<PgCluster>> cluster = PgCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  cluster_ = *std::move(cluster);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  absl::StatusOr<std::string> db = cluster_->CreateDatabase(info->name());
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = *db;
  absl::StatusOr<std::unique_ptr<kafka::DevBroker>> broker =
      kafka::DevBroker::Start(1, 4);
  ASSERT_TRUE(broker.ok()) << broker.status();
  broker_ = *std::move(broker);
  char tmpl[] = "/tmp/pgcdc-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
}

void PgcdcTest::TearDown() {
  if (HasFailure() && !dir_.empty()) {
    for (int i = 1; i <= runs_; ++i) {
      std::ifstream in(absl::StrCat(dir_, "/pgcdc-", i, ".log"));
      std::string line, tail;
      std::vector<std::string> lines;
      while (std::getline(in, line)) lines.push_back(line);
      size_t from = lines.size() > 40 ? lines.size() - 40 : 0;
      std::cerr << "--- pgcdc run " << i << " log (last lines) ---\n";
      for (size_t j = from; j < lines.size(); ++j)
        std::cerr << lines[j] << "\n";
    }
  }
  broker_.reset();
  cluster_.reset();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

void PgcdcTest::Sql(const std::string& sql) {
  absl::Status s = cluster_->Exec(db_, sql);
  ASSERT_TRUE(s.ok()) << s << "\nSQL: " << sql.substr(0, 500);
}

std::vector<pg::SqlRow> PgcdcTest::Rows(const std::string& sql) {
  absl::StatusOr<std::vector<pg::SqlRow>> rows = cluster_->Query(db_, sql);
  EXPECT_TRUE(rows.ok()) << rows.status() << "\nSQL: " << sql;
  return rows.ok() ? *rows : std::vector<pg::SqlRow>{};
}

Lsn PgcdcTest::WalLsn() {
  absl::StatusOr<Lsn> lsn = cluster_->CurrentWalLsn(db_);
  EXPECT_TRUE(lsn.ok()) << lsn.status();
  return lsn.value_or(0);
}

int PgcdcTest::ServerVersionNum() {
  std::vector<pg::SqlRow> rows =
      Rows("SELECT current_setting('server_version_num')");
  int version = 0;
  EXPECT_TRUE(rows.size() == 1 &&
              absl::SimpleAtoi(rows[0][0].value_or(""), &version));
  return version;
}

std::string PgcdcTest::WriteConfig(const std::vector<std::string>& tables,
                                   const std::string& kafka_extra,
                                   const std::string& extra) {
  std::string path = absl::StrCat(dir_, "/pgcdc-", runs_ + 1, ".yaml");
  std::ofstream out(path);
  out << "source:\n"
      << "  dsn: \"" << cluster_->Dsn(db_) << "\"\n"
      << "  slot: " << slot_ << "\n"
      << "  publication: pgcdc_pub\n"
      << "  tables: [" << absl::StrJoin(tables, ", ") << "]\n"
      << "  status_interval_ms: 1000\n"
      << "kafka:\n"
      << "  bootstrap_servers: \"" << broker_->bootstrap_servers() << "\"\n"
      << "  topic_prefix: test\n"
      << "  shutdown_timeout_ms: 20000\n"
      << kafka_extra << extra;
  return path;
}

std::string PgcdcTest::MetricsOn(int port) {
  return absl::StrCat("metrics:\n  listen: \"127.0.0.1:", port, "\"\n");
}

void PgcdcTest::EditConfig(const std::string& path, const std::string& pattern,
                           const std::string& replacement) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(pattern)))
      << pattern << " not in " << path;
  std::ofstream(path) << m.prefix().str() << replacement << m.suffix().str();
}

void PgcdcTest::UseCluster(const std::string& server_options) {
  cluster_.reset();
  absl::StatusOr<std::unique_ptr<PgCluster>> cluster =
      PgCluster::Start(server_options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  cluster_ = *std::move(cluster);
  absl::StatusOr<std::string> db = cluster_->CreateDatabase("custom");
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = *db;
}

absl::StatusOr<Subprocess> PgcdcTest::Launch(const std::string& config_path) {
  ++runs_;
  std::string log = absl::StrCat(dir_, "/pgcdc-", runs_, ".log");
  absl::StatusOr<Subprocess> p =
      Subprocess::Start({PGCDC_BINARY, "run", "--config", config_path}, log);
  EXPECT_TRUE(p.ok()) << p.status();
  return p;
}

Subprocess PgcdcTest::LaunchPgcdc(const std::string& config_path) {
  return *Launch(config_path);  // Launch failed the test if it did not start
}

bool WaitFor(const std::function<bool()>& condition, int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

Subprocess PgcdcTest::StartPgcdc(const std::string& config_path) {
  // A previous run's walsender may not have gone yet; it is not this run's.
  const int previous = cluster_->SlotStreamingPid(db_, slot_).value_or(0);
  absl::StatusOr<Subprocess> p = Launch(config_path);
  std::string last_error;
  const bool streaming = WaitFor(
      [&] {
        if (!p->Running()) return true;  // reported below
        absl::StatusOr<int> pid = cluster_->SlotStreamingPid(db_, slot_);
        if (!pid.ok()) {
          last_error = pid.status().ToString();
          return false;
        }
        return *pid != 0 && *pid != previous;
      },
      kStartTimeoutMs);
  if (!p->Running()) {
    ADD_FAILURE() << "pgcdc exited (code " << p->Wait(0).value_or(-1)
                  << ") before it streamed:\n"
                  << p->ReadLog();
  } else if (!streaming) {
    ADD_FAILURE() << "pgcdc did not start streaming within " << kStartTimeoutMs
                  << " ms" << (last_error.empty() ? "" : " (last error: ")
                  << last_error << (last_error.empty() ? "" : ")") << ":\n"
                  << p->ReadLog();
  }
  return *std::move(p);
}

int PgcdcTest::RunPgcdc(const std::vector<std::string>& args,
                        std::string* output) {
  ++runs_;
  std::string log = absl::StrCat(dir_, "/pgcdc-", runs_, ".log");
  std::vector<std::string> argv = {PGCDC_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Subprocess> p = Subprocess::Start(argv, log);
  EXPECT_TRUE(p.ok()) << p.status();
  std::optional<int> code = p->Wait(60000);
  if (output) *output = p->ReadLog();
  EXPECT_TRUE(code.has_value()) << "pgcdc " << absl::StrJoin(args, " ")
                                << " still running after 60000 ms:\n"
                                << p->ReadLog();
  return code.value_or(-1);
}

void PgcdcTest::StopPgcdc(Subprocess& p) {
  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(30000);
  ASSERT_TRUE(code.has_value()) << "pgcdc did not stop on SIGTERM:\n"
                                << p.ReadLog();
  EXPECT_EQ(*code, 0) << p.ReadLog();
}

void PgcdcTest::KillPgcdc(Subprocess& p) {
  p.Signal(SIGKILL);
  ASSERT_TRUE(p.Wait(10000).has_value());
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<bool> active = cluster_->SlotActive(db_, slot_);
        return active.ok() && !*active;
      },
      20000));
}

void PgcdcTest::KillAndRestartPgcdc(Subprocess& p,
                                    const std::string& config_path) {
  KillPgcdc(p);
  if (::testing::Test::HasFatalFailure()) return;
  p = StartPgcdc(config_path);
  ASSERT_TRUE(p.Running());
}

int PgcdcTest::SignalTransactionsSince(Lsn from) {
  std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
      "SELECT count(DISTINCT xid::text) FROM pg_get_wal_records_info('",
      FormatLsn(from),
      "', pg_current_wal_flush_lsn()) WHERE resource_manager = "
      "'LogicalMessage' AND record_type = 'MESSAGE' AND description LIKE "
      "'transactional, prefix \"pgcdc.snapshot\";%'"));
  int n = -1;
  if (rows.size() != 1 || !absl::SimpleAtoi(rows[0][0].value_or(""), &n)) {
    ADD_FAILURE() << "cannot count the pgcdc.snapshot messages since "
                  << FormatLsn(from);
    return -1;
  }
  return n;
}

void PgcdcTest::BrokerDown() {
  absl::StatusOr<kafka::BrokerFault> down = kafka::ParseBrokerFault("down");
  ASSERT_TRUE(down.ok()) << down.status();
  absl::Status s = broker_->Apply(*down);
  ASSERT_TRUE(s.ok()) << s;
}

void PgcdcTest::BrokerUp() {
  absl::StatusOr<kafka::BrokerFault> up = kafka::ParseBrokerFault("up");
  ASSERT_TRUE(up.ok()) << up.status();
  absl::Status s = broker_->Apply(*up);
  ASSERT_TRUE(s.ok()) << s;
}

void PgcdcTest::WaitCaughtUp(int timeout_ms) {
  // A committed write flushes all WAL before it, including records that no
  // commit of their own flushes (non-transactional logical messages). It has
  // to write: a transaction that wrote nothing commits asynchronously. The
  // table is not published, so the transaction is skipped by pgoutput.
  Sql("CREATE TABLE IF NOT EXISTS pgcdc_test_flush (x int); "
      "INSERT INTO pgcdc_test_flush VALUES (1)");
  Lsn target = WalLsn();
  absl::Status s = cluster_->WaitConfirmed(db_, slot_, target, timeout_ms);
  ASSERT_TRUE(s.ok()) << s;
}

std::vector<ReadEvent> PgcdcTest::ReadTopic(const std::string& table) {
  absl::StatusOr<std::vector<ReadEvent>> events =
      ReadAll(broker_->bootstrap_servers(), Topic(table));
  EXPECT_TRUE(events.ok()) << Topic(table) << ": " << events.status();
  return events.ok() ? *events : std::vector<ReadEvent>{};
}

void PgcdcTest::ExpectTopicEqualsTable(const std::string& bootstrap,
                                       const std::string& topic,
                                       const std::string& table,
                                       TopicCounts* counts) {
  SCOPED_TRACE(table);
  absl::StatusOr<std::vector<ReadEvent>> events = ReadAll(bootstrap, topic);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(CheckOrderAndDuplicates(*events), "");
  if (counts != nullptr) {
    std::set<EventId> ids;
    for (const ReadEvent& e : *events) ids.insert(IdOf(e.event.source()));
    counts->events += static_cast<int>(events->size());
    counts->replays += static_cast<int>(events->size() - ids.size());
  }
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<TableImage> source = SelectTable(**conn, table, {"id"});
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(RebuildsTo(*events, *source));
}

PgcdcTest::KillRun PgcdcTest::KillsUnderThreeTablesLoad(
    const std::string& config, int metrics_port, int kills,
    const std::string& bootstrap, const std::string& prefix,
    int min_statements) {
  KillRun run;
  const auto started = std::chrono::steady_clock::now();
  Subprocess p = StartPgcdc(config);
  Load load(cluster_->Dsn(db_), ThreeTablesChange);
  std::mt19937 rng(20240605);
  for (int kill = 0; kill < kills; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 700));
    if (MetricValue(HttpGet(metrics_port, "/metrics"),
                    "pgcdc_inflight_events") > 0) {
      ++run.kills_with_inflight;
    }
    KillAndRestartPgcdc(p, config);
    if (HasFatalFailure()) return run;
  }
  load.Stop();
  run.statements = load.committed();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_GT(load.committed(), min_statements);
  WaitCaughtUp(60000);
  StopPgcdc(p);
  for (const std::string table : {"accounts", "orders", "items"}) {
    ExpectTopicEqualsTable(bootstrap, prefix + ".public." + table, table,
                           &run.counts);
  }
  std::cout << kills << " kills: " << run.statements << " statements, "
            << run.kills_with_inflight << " kills with events in flight, "
            << run.counts.events << " events in the topics of which "
            << run.counts.replays << " replays, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms\n";
  return run;
}

std::string LastLine(const std::string& output) {
  std::vector<std::string> lines =
      absl::StrSplit(output, '\n', absl::SkipWhitespace());
  return lines.empty() ? "" : lines.back();
}

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool WaitForLog(Subprocess& p, const std::string& text, int timeout_ms,
                size_t times) {
  auto found = [&] { return CountOccurrences(p.ReadLog(), text) >= times; };
  WaitFor([&] { return found() || !p.Running(); }, timeout_ms);
  return found();
}

std::string FormatRows(const TableImage& t, size_t limit) {
  std::string out;
  size_t n = 0;
  for (const auto& [key, row] : t) {
    if (n++ >= limit) break;
    absl::StrAppend(&out, key, " {");
    for (const auto& [col, v] : row) {
      absl::StrAppend(&out, col, ":", v.value_or("NULL"), " ");
    }
    absl::StrAppend(&out, "}\n");
  }
  return out;
}

std::string RandomAccountsChange(std::mt19937& rng, int i, int ids) {
  const int id = static_cast<int>(rng() % static_cast<unsigned>(ids));
  switch (rng() % 4) {
    case 0:
    case 1:
      return absl::StrCat("INSERT INTO accounts VALUES (", id, ", ", i, ", 'n",
                          i,
                          "') ON CONFLICT (id) DO UPDATE SET balance = "
                          "accounts.balance + 1, note = EXCLUDED.note");
    case 2:
      // Doubling without a bound overflows bigint in a long load.
      return absl::StrCat(
          "UPDATE accounts SET balance = balance % 1000000 * 2 WHERE id "
          "BETWEEN ",
          id, " AND ", id + 10);
    default:
      return absl::StrCat("DELETE FROM accounts WHERE id = ", id);
  }
}

::testing::AssertionResult RebuildsTo(const std::vector<ReadEvent>& events,
                                      const TableImage& source) {
  TableImage rebuilt = Rebuild(events);
  if (rebuilt == source) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "the topic does not rebuild the table (" << rebuilt.size()
         << " rows rebuilt, " << source.size() << " in the table)\nrebuilt:\n"
         << FormatRows(rebuilt) << "source:\n"
         << FormatRows(source) << RebuildDifferences(events, rebuilt, source);
}

}  // namespace cdc::testing
