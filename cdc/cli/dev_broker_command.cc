#include "cdc/cli/dev_broker_command.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cdc/cli/args.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/log.h"
#include "cdc/kafka/broker_faults.h"
#include "cdc/kafka/dev_broker.h"

namespace cdc::cli {
namespace {

constexpr char kUsage[] =
    "NAME\n"
    "    pgcdc dev-broker - an in-memory Kafka-protocol broker for demos\n"
    "    and tests\n"
    "\n"
    "SYNOPSIS\n"
    "    pgcdc dev-broker [--brokers N] [--topics T1,T2,...] [--partitions N]\n"
    "                     [--bootstrap-file FILE] [--control FIFO]\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs a throwaway Kafka for demos and tests:\n"
    "    librdkafka's mock cluster, speaking the real Kafka protocol on\n"
    "    loopback ports, inside this process. It is NOT a Kafka broker to\n"
    "    keep data in: it keeps only about 5 MB (and at most 100000 record\n"
    "    batches) per partition, silently dropping older records, and\n"
    "    nothing on disk; everything is gone when it stops.\n"
    "\n"
    "    Prints the bootstrap servers (host:port,...) as one line on stdout\n"
    "    and runs until SIGTERM or SIGINT.\n"
    "\n"
    "OPTIONS\n"
    "    --brokers N\n"
    "        Mock brokers to start, 1 to 64 (default 1).\n"
    "    --topics T1,T2,...\n"
    "        Topics to create up front with --partitions partitions; any\n"
    "        other topic is created on first use with 4 partitions (fixed\n"
    "        by the mock).\n"
    "    --partitions N\n"
    "        Partitions of the --topics, 1 to 10000 (default 4); needs\n"
    "        --topics.\n"
    "    --bootstrap-file FILE\n"
    "        Also write the bootstrap line to FILE (atomically: written\n"
    "        aside, then renamed; removed again on exit).\n"
    "    --control FIFO\n"
    "        Create a named pipe at FIFO and carry out the fault-injection\n"
    "        commands written to it, one per line (removed again on exit):\n"
    "          down [BROKER]       stop answering\n"
    "          up [BROKER]         answer again\n"
    "          rtt MS [BROKER]     delay every response\n"
    "          errors N API ERROR  fail the next N requests of API (produce,\n"
    "                              fetch, metadata) with a Kafka error, e.g.\n"
    "                              NOT_LEADER_FOR_PARTITION\n"
    "    --help\n"
    "        Print this help and exit 0.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   stopped by SIGTERM or SIGINT\n"
    "    1   the cluster could not start, or a file could not be written\n"
    "    2   bad usage\n"
    "\n"
    "ENVIRONMENT\n"
    "    None read.\n"
    "\n"
    "EXAMPLES\n"
    "    pgcdc dev-broker --bootstrap-file /tmp/bootstrap\n"
    "    pgcdc dev-broker --control /tmp/broker.ctl &\n"
    "        echo down > /tmp/broker.ctl; sleep 10; echo up > /tmp/broker.ctl\n"
    "\n"
    "SEE ALSO\n"
    "    pgcdc tail --help, README.md (quick start), docs/testing.md\n";

std::vector<FlagSpec> Flags() {
  return {{"brokers"},        {"partitions"}, {"topics"},
          {"bootstrap-file"}, {"control"},    {"help", /*boolean=*/true}};
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "pgcdc dev-broker: %s\n\n%s",
               EscapeForLog(message).c_str(), ShortUsage(kUsage).c_str());
  return kExitConfig;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << contents;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

// Reads fault commands, one per line, from the named pipe at `path` until
// `stop` is set, and applies them to `broker`. Opened read-write so that a
// writer closing its end is not an end of file.
void ServeControlFifo(const std::string& path, kafka::DevBroker* broker,
                      const std::atomic<bool>* stop) {
  const int fd = open(path.c_str(), O_RDWR | O_NONBLOCK);
  if (fd < 0) {
    LogError("dev-broker: cannot open ", path, ": ", std::strerror(errno));
    return;
  }
  std::string pending;
  char buf[4096];
  while (!stop->load()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) continue;
    pending.append(buf, static_cast<size_t>(n));
    size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      absl::StatusOr<kafka::BrokerFault> fault = kafka::ParseBrokerFault(line);
      absl::Status s = fault.ok() ? broker->Apply(*fault) : fault.status();
      if (s.ok()) {
        LogInfo("dev-broker: fault injection: ", fault->Describe());
      } else {
        LogWarning("dev-broker: ", s.message());
      }
    }
  }
  close(fd);
}

}  // namespace

CommandDoc DevBrokerCommandDoc() { return {kUsage, Flags()}; }

int RunDevBrokerCommand(int argc, char** argv) {
  absl::StatusOr<Args> args = Args::Parse(argc, argv, Flags());
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (args->GetBool("help")) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  absl::StatusOr<int64_t> brokers = args->GetInt("brokers", 1, 1, 64);
  if (!brokers.ok()) return UsageError(std::string(brokers.status().message()));
  absl::StatusOr<int64_t> partitions = args->GetInt(
      "partitions", kafka::DevBroker::kAutoCreatePartitions, 1, 10000);
  if (!partitions.ok()) {
    return UsageError(std::string(partitions.status().message()));
  }
  std::vector<std::string> topics;
  if (std::optional<std::string> list = args->Get("topics")) {
    topics = absl::StrSplit(*list, ',', absl::SkipEmpty());
  }
  if (topics.empty() &&
      *partitions != kafka::DevBroker::kAutoCreatePartitions) {
    return UsageError(absl::StrCat(
        "--partitions ", *partitions,
        " needs --topics: the mock cluster creates topics on first use with ",
        kafka::DevBroker::kAutoCreatePartitions,
        " partitions and cannot be told otherwise"));
  }

  // Blocked before librdkafka starts its threads, so that they inherit the
  // mask and the signals wait for sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);

  int exit_code = kExitOk;
  bool wrote_file = false;
  {
    absl::StatusOr<std::unique_ptr<kafka::DevBroker>> broker =
        kafka::DevBroker::Start(static_cast<int>(*brokers));
    if (!broker.ok()) {
      std::fprintf(stderr, "pgcdc dev-broker: %s\n",
                   EscapeForLog(broker.status().message()).c_str());
      exit_code = kExitFailure;
    }
    for (size_t i = 0; exit_code == kExitOk && i < topics.size(); ++i) {
      absl::Status s =
          (*broker)->CreateTopic(topics[i], static_cast<int>(*partitions));
      if (!s.ok()) {
        std::fprintf(stderr, "pgcdc dev-broker: %s\n",
                     EscapeForLog(s.message()).c_str());
        exit_code = kExitFailure;
      }
    }
    if (exit_code == kExitOk) {
      const std::string line = (*broker)->bootstrap_servers() + "\n";
      std::fputs(line.c_str(), stdout);
      std::fflush(stdout);
      if (std::optional<std::string> file = args->Get("bootstrap-file")) {
        if (absl::Status s = WriteFileAtomically(*file, line); !s.ok()) {
          std::fprintf(stderr, "pgcdc dev-broker: %s\n",
                       EscapeForLog(s.message()).c_str());
          exit_code = kExitFailure;
        } else {
          wrote_file = true;
        }
      }
    }
    std::optional<std::string> control = args->Get("control");
    std::atomic<bool> stop_control{false};
    std::thread control_thread;
    if (exit_code == kExitOk && control.has_value()) {
      if (mkfifo(control->c_str(), 0600) != 0) {
        std::fprintf(stderr,
                     "pgcdc dev-broker: cannot create the FIFO %s: %s\n",
                     EscapeForLog(*control).c_str(), std::strerror(errno));
        exit_code = kExitFailure;
        control.reset();
      } else {
        control_thread = std::thread(ServeControlFifo, *control, broker->get(),
                                     &stop_control);
      }
    }
    if (exit_code == kExitOk) {
      LogInfo("dev-broker: librdkafka mock cluster with ", *brokers,
              " broker(s) at ", (*broker)->bootstrap_servers(),
              " (in memory, about 5 MB per partition); SIGTERM or Ctrl-C "
              "stops it");
      int sig = 0;
      sigwait(&stop_signals, &sig);
    }
    if (control_thread.joinable()) {
      stop_control = true;
      control_thread.join();
    }
    if (control.has_value()) std::remove(control->c_str());
    // A file left behind would point the next reader at a dead port.
    if (wrote_file) std::remove(args->Get("bootstrap-file")->c_str());
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return exit_code;
}

}  // namespace cdc::cli
