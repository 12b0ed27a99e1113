// Subprocess: a child process (pgcdc under test) with its output in a file.
//
// Owns the child: the destructor kills it (SIGKILL) if still running and
// reaps it. Thread-compatible.
#ifndef TESTS_INTEGRATION_HARNESS_SUBPROCESS_H_
#define TESTS_INTEGRATION_HARNESS_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cdc::testing {

class Subprocess {
 public:
  // Starts argv[0] (a path) with stdout and stderr appended to log_path.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  void Signal(int signo);
  // The exit code (128+N for death by signal N), or nullopt if still running
  // after timeout_ms.
  std::optional<int> Wait(int timeout_ms);
  bool Running();
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_SUBPROCESS_H_
