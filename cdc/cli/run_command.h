// `pgcdc run --config FILE`: stream the configured tables until SIGTERM.
#ifndef CDC_CLI_RUN_COMMAND_H_
#define CDC_CLI_RUN_COMMAND_H_

namespace cdc::cli {

// Exit codes shared by the subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // a fault while running
inline constexpr int kExitConfig = 2;       // bad configuration or usage
inline constexpr int kExitEnvironment = 3;  // the database or broker is not
                                            // set up as pgcdc needs

// argv[0] is "run".
int RunRunCommand(int argc, char** argv);

}  // namespace cdc::cli

#endif  // CDC_CLI_RUN_COMMAND_H_
