// Test helper: `pgcdc check --offline` run in-process on a configuration
// file or text, with what it printed.
#ifndef TESTS_UNIT_CLI_CHECK_OFFLINE_H_
#define TESTS_UNIT_CLI_CHECK_OFFLINE_H_

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cdc/cli/check_command.h"
#include "gtest/gtest.h"

namespace cdc::cli {

struct CheckResult {
  int exit_code = -1;
  std::string output;  // stdout
};

// RunCheckCommand with `args` (after "check"), stdout captured.
inline CheckResult RunCheck(std::vector<std::string> args) {
  args.insert(args.begin(), "check");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  CheckResult result;
  ::testing::internal::CaptureStdout();
  result.exit_code =
      RunCheckCommand(static_cast<int>(args.size()), argv.data());
  result.output = ::testing::internal::GetCapturedStdout();
  return result;
}

// `check --offline` of the configuration file at `path`.
inline CheckResult CheckOfflineFile(const std::string& path) {
  return RunCheck({"--offline", "--config", path});
}

// `check --offline` of configuration text, through a temporary file.
inline CheckResult CheckOfflineText(const std::string& yaml) {
  const std::string path = ::testing::TempDir() + "/pgcdc-check-offline-" +
                           std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << yaml;
  CheckResult result = CheckOfflineFile(path);
  std::remove(path.c_str());
  return result;
}

}  // namespace cdc::cli

#endif  // TESTS_UNIT_CLI_CHECK_OFFLINE_H_
