// Load: a writer thread for tests that race pgcdc — statements from a
// generator, one after another on its own connection, until stopped.
//
// When the server goes away (a restart, a terminated backend) the statement
// fails, is counted as failed, and the next one runs on a new connection:
// tests that inject faults expect failures, the others expect none.
//
// Owns its thread and connection; committed() and failed() may be read from
// any thread.
#ifndef TESTS_INTEGRATION_HARNESS_LOAD_H_
#define TESTS_INTEGRATION_HARNESS_LOAD_H_

#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <thread>

namespace cdc::testing {

class Load {
 public:
  // One statement (or several, as one string); `i` makes the values differ.
  using ChangeFn = std::function<std::string(std::mt19937& rng, int i)>;

  Load(std::string dsn, ChangeFn change, int pause_ms = 3);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  void Stop();
  int committed() const { return committed_; }
  int failed() const { return failed_; }

 private:
  void Run();

  const std::string dsn_;
  const ChangeFn change_;
  const int pause_ms_;
  std::atomic<bool> done_{false};
  std::atomic<int> committed_{0};
  std::atomic<int> failed_{0};
  std::thread thread_;  // last: starts once the rest is set
};

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_LOAD_H_
