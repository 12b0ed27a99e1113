// The process exit codes of pgcdc's subcommands, one set for all, so that a
// supervisor or script can tell a fault worth restarting for (kExitFailure)
// from one that needs a person (kExitConfig, kExitEnvironment).
//
// Constants only; thread-safe.
#ifndef CDC_CLI_EXIT_CODES_H_
#define CDC_CLI_EXIT_CODES_H_

namespace cdc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // a fault while running
inline constexpr int kExitConfig = 2;       // bad configuration or usage
inline constexpr int kExitEnvironment = 3;  // the database or broker is not
                                            // set up as pgcdc needs
// `pgcdc status`: the slot is at risk of invalidation (or lost).
inline constexpr int kExitSlotAtRisk = 1;

}  // namespace cdc::cli

#endif  // CDC_CLI_EXIT_CODES_H_
