// Args: the tiny flag parser shared by pgcdc's subcommands.
//
// Accepts `--flag value`, `--flag=value` and, for boolean flags, a bare
// `--flag` (or `--flag=true|false`). Anything else is an error naming the
// offending argument: an unknown flag, a missing value, a positional
// argument. No short flags, no abbreviations; the last repetition wins for
// Get, and GetAll gives every one in order.
//
// A plain value type; thread-compatible.
#ifndef CDC_CLI_ARGS_H_
#define CDC_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cdc::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool boolean = false;
};

class Args {
 public:
  // Parses argv[1..argc): argv[0] is the subcommand's name. kInvalidArgument
  // for anything the specs do not allow.
  static absl::StatusOr<Args> Parse(int argc, char** argv,
                                    const std::vector<FlagSpec>& specs);

  bool Has(const std::string& name) const;
  // Every value the flag was given, in order (for a repeatable flag).
  std::vector<std::string> GetAll(const std::string& name) const;
  // The flag's value; nullopt when it was not given.
  std::optional<std::string> Get(const std::string& name) const;
  // A boolean flag: false when absent.
  bool GetBool(const std::string& name) const;
  // An integer flag within [min, max]; `fallback` when absent.
  // kInvalidArgument naming the flag when it is not such an integer.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback,
                                 int64_t min, int64_t max) const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_;
};

// The ENVIRONMENT section of the help of every `--config FILE` subcommand,
// a string literal to splice into theirs.
#define CDC_CLI_CONFIG_ENVIRONMENT_HELP                                       \
  "ENVIRONMENT\n"                                                             \
  "    ${VAR} in any value of FILE is replaced from the environment, and\n"   \
  "    ${credential:NAME} by the file $CREDENTIALS_DIRECTORY/NAME (systemd\n" \
  "    credentials); an unset variable is an error, $${ writes a literal\n"   \
  "    ${ (docs/configuration.md). libpq's variables (PGPASSWORD,\n"          \
  "    PGSSLMODE, PGSSLROOTCERT, ...) apply to source.dsn as usual.\n"

// A subcommand's --help text and every flag its parser accepts, so that a
// test can check that the help documents each one.
struct CommandDoc {
  const char* help;
  std::vector<FlagSpec> flags;
};

// For a usage error: the SYNOPSIS section of a man-page style `help`, as
// "usage: pgcdc ...\n" (continuation lines indented under it), and a line
// pointing at --help.
std::string ShortUsage(const char* help);

// `specs` plus the --config and --help every `--config FILE` subcommand
// takes.
std::vector<FlagSpec> ConfigCommandFlags(std::vector<FlagSpec> specs);

// The start every `--config FILE` subcommand shares: parses `specs` plus
// --config and --help. Prints the usage and returns nullopt with `*exit_code`
// set for --help (0), a usage error or a missing --config (2); on success
// `*config_path` is the file given.
std::optional<Args> ParseConfigCommand(int argc, char** argv,
                                       const char* command, const char* usage,
                                       std::vector<FlagSpec> specs,
                                       std::string* config_path,
                                       int* exit_code);

}  // namespace cdc::cli

#endif  // CDC_CLI_ARGS_H_
