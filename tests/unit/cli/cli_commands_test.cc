// The Kafka-facing subcommands (`pgcdc dev-broker`, `pgcdc tail`) and the
// flag parser they share.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cdc/cli/args.h"
#include "cdc/cli/dev_broker_command.h"
#include "cdc/cli/tail_command.h"
#include "cdc/kafka/dev_broker.h"
#include "cdc/kafka/producer.h"
#include "cdc/v1/change_event.pb.h"

namespace cdc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// argv for a subcommand, owning its strings.
class Argv {
 public:
  Argv(std::initializer_list<std::string> args)
      : Argv(std::vector<std::string>(args)) {}
  explicit Argv(std::vector<std::string> args) : strings_(std::move(args)) {
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(strings_.size()); }
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

const std::vector<FlagSpec> kSpecs = {
    {"name"}, {"count"}, {"verbose", /*boolean=*/true}};

TEST(KafkaCliArgsTest, ParsesBothValueFormsAndBooleans) {
  Argv a({"cmd", "--name", "x", "--count=12", "--verbose"});
  absl::StatusOr<Args> args = Args::Parse(a.argc(), a.argv(), kSpecs);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("name"), "x");
  EXPECT_EQ(*args->GetInt("count", 0, 0, 100), 12);
  EXPECT_TRUE(args->GetBool("verbose"));
  EXPECT_FALSE(args->Has("other"));

  Argv b({"cmd", "--verbose=false", "--name="});
  args = Args::Parse(b.argc(), b.argv(), kSpecs);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_FALSE(args->GetBool("verbose"));
  EXPECT_EQ(args->Get("name"), "");
  EXPECT_EQ(*args->GetInt("count", 7, 0, 100), 7);
}

TEST(KafkaCliArgsTest, RepeatedFlagsKeepEveryValueInOrder) {
  Argv a({"cmd", "--name", "x", "--name=y", "--name", "z"});
  absl::StatusOr<Args> args = Args::Parse(a.argc(), a.argv(), kSpecs);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("name"), "z");
  EXPECT_EQ(args->GetAll("name"), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_TRUE(args->GetAll("count").empty());
}

TEST(KafkaCliArgsTest, ErrorsNameTheArgument) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"cmd", "--colour", "red"}, "--colour"},
      {{"cmd", "--name"}, "--name"},
      {{"cmd", "stray"}, "stray"},
      {{"cmd", "-n", "x"}, "-n"},
      {{"cmd", "--verbose=maybe"}, "--verbose"},
  };
  for (const auto& [words, needle] : cases) {
    Argv argv(words);
    absl::StatusOr<Args> args = Args::Parse(argv.argc(), argv.argv(), kSpecs);
    EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(args.status().message(), HasSubstr(needle));
  }
  Argv c({"cmd", "--count", "lots"});
  absl::StatusOr<Args> args = Args::Parse(c.argc(), c.argv(), kSpecs);
  ASSERT_TRUE(args.ok());
  EXPECT_THAT(args->GetInt("count", 0, 0, 100).status().message(),
              HasSubstr("--count"));
  Argv d({"cmd", "--count", "101"});
  args = Args::Parse(d.argc(), d.argv(), kSpecs);
  ASSERT_TRUE(args.ok());
  EXPECT_FALSE(args->GetInt("count", 0, 0, 100).ok());
}

TEST(DevBrokerCommandTest, BadUsageExitsTwo) {
  testing::internal::CaptureStderr();
  Argv unknown({"dev-broker", "--replicas", "3"});
  EXPECT_EQ(RunDevBrokerCommand(unknown.argc(), unknown.argv()), 2);
  Argv partitions({"dev-broker", "--partitions", "8"});
  EXPECT_EQ(RunDevBrokerCommand(partitions.argc(), partitions.argv()), 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("--replicas"));
  EXPECT_THAT(err, HasSubstr("needs --topics"));
  EXPECT_THAT(err, HasSubstr("usage: pgcdc dev-broker"));
}

TEST(DevBrokerCommandTest, HelpSaysWhatItIs) {
  testing::internal::CaptureStdout();
  Argv help({"dev-broker", "--help"});
  EXPECT_EQ(RunDevBrokerCommand(help.argc(), help.argv()), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("librdkafka's mock cluster"));
  EXPECT_THAT(out, HasSubstr("5 MB"));
  EXPECT_THAT(out, HasSubstr("nothing on disk"));
}

TEST(DevBrokerCommandTest, ServesUntilSignalledAndPublishesBootstrap) {
  const std::string file =
      testing::TempDir() + "/pgcdc-bootstrap-" + std::to_string(getpid());
  std::remove(file.c_str());
  Argv argv({"dev-broker", "--brokers", "2", "--topics", "a,b", "--partitions",
             "3", "--bootstrap-file", file});
  testing::internal::CaptureStdout();
  int exit_code = -1;
  std::thread command(
      [&] { exit_code = RunDevBrokerCommand(argv.argc(), argv.argv()); });

  std::string line;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (line.empty() && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(file);
    std::getline(in, line);
    if (line.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_FALSE(line.empty());
  EXPECT_THAT(line, HasSubstr(","));  // two brokers

  // It serves: the pre-created topic takes records.
  int delivered = 0;
  auto producer = kafka::Producer::Create(
      line, {},
      [&](const kafka::DeliveryReport& r) { delivered += r.status.ok(); });
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE((*producer)->Produce("a", "k", "v", 1).ok());
  ASSERT_TRUE((*producer)->Flush(10000).ok());
  EXPECT_EQ(delivered, 1);
  producer->reset();

  // The signal goes to the command's thread, which has it blocked and waits
  // for it; process-wide it would take the test binary down.
  pthread_kill(command.native_handle(), SIGTERM);
  command.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), line + "\n");
  EXPECT_FALSE(std::ifstream(file).good()) << "bootstrap file left behind";
}

TEST(KafkaTailCommandTest, BadUsageExitsTwo) {
  testing::internal::CaptureStderr();
  Argv missing({"tail", "--topic", "t"});
  EXPECT_EQ(RunTailCommand(missing.argc(), missing.argv()), 2);
  Argv bad({"tail", "--bootstrap-servers", "x", "--topic", "t",
            "--max-messages", "0"});
  EXPECT_EQ(RunTailCommand(bad.argc(), bad.argv()), 2);
  Argv property({"tail", "--bootstrap-servers", "x", "--topic", "t",
                 "--property", "TopSecretWithoutAName"});
  EXPECT_EQ(RunTailCommand(property.argc(), property.argv()), 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("--property takes NAME=VALUE"));
  EXPECT_THAT(err, Not(HasSubstr("TopSecret")));
  EXPECT_THAT(err, HasSubstr("--bootstrap-servers is required"));
  EXPECT_THAT(err, HasSubstr("--max-messages"));
  EXPECT_THAT(err, HasSubstr("usage: pgcdc tail"));
}

TEST(KafkaTailCommandTest, PrintsEnvelopesAsJsonLines) {
  auto broker = kafka::DevBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  ASSERT_TRUE((*broker)->CreateTopic("events", 1).ok());
  auto producer = kafka::Producer::Create((*broker)->bootstrap_servers(), {},
                                          [](const kafka::DeliveryReport&) {});
  ASSERT_TRUE(producer.ok()) << producer.status();

  v1::ChangeEvent event;
  event.set_op(v1::CREATE);
  event.mutable_source()->set_table("orders");
  v1::Row key;
  key.add_columns()->set_name("id");
  ASSERT_TRUE((*producer)
                  ->Produce("events", key.SerializeAsString(),
                            event.SerializeAsString(), 1)
                  .ok());
  // Not an envelope: reported on stderr, skipped.
  ASSERT_TRUE((*producer)->Produce("events", std::nullopt, "\xff\xff", 2).ok());
  event.set_op(v1::DELETE);
  ASSERT_TRUE(
      (*producer)
          ->Produce("events", std::nullopt, event.SerializeAsString(), 3)
          .ok());
  ASSERT_TRUE((*producer)->Flush(10000).ok());

  Argv argv({"tail", "--bootstrap-servers", (*broker)->bootstrap_servers(),
             "--topic", "events", "--from-beginning", "--idle-exit-ms",
             "1000"});
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunTailCommand(argv.argc(), argv.argv()), 0);
  const std::string err = testing::internal::GetCapturedStderr();
  const std::string out = testing::internal::GetCapturedStdout();
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_THAT(lines[0], HasSubstr("\"CREATE\""));
  EXPECT_THAT(lines[0], HasSubstr("\"orders\""));
  EXPECT_THAT(lines[0], HasSubstr("\"id\""));
  EXPECT_THAT(lines[1], HasSubstr("\"key\":null"));
  EXPECT_THAT(lines[1], HasSubstr("\"DELETE\""));
  EXPECT_THAT(err, HasSubstr("events [0] offset 1"));

  // --max-messages stops early.
  Argv one({"tail", "--bootstrap-servers", (*broker)->bootstrap_servers(),
            "--topic", "events", "--from-beginning", "--max-messages", "1"});
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunTailCommand(one.argc(), one.argv()), 0);
  const std::string first = testing::internal::GetCapturedStdout();
  EXPECT_EQ(first, lines[0] + "\n");
}

}  // namespace
}  // namespace cdc::cli
