// `pgcdc check --offline`: the configuration file alone, connecting to
// nothing.
#include "tests/unit/cli/check_offline.h"

#include <stdlib.h>

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Nothing listens on a .invalid host (RFC 6761): an online check would fail
// on it, so a pass proves nothing was connected to.
constexpr char kConfig[] = R"(source:
  dsn: "host=db.invalid port=5432 dbname=app user=pgcdc password=${PGCDC_TEST_OFFLINE_PW}"
  slot: pgcdc
  publication: pgcdc
  tables: [public.customers]
kafka:
  bootstrap_servers: "broker.invalid:9092"
  topic_prefix: app
)";

// Sets or unsets a variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(CheckOfflineTest, AValidFilePassesWithoutConnecting) {
  ScopedEnv pw("PGCDC_TEST_OFFLINE_PW", "secret");
  const CheckResult r = CheckOfflineText(kConfig);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ok    configuration "));
  EXPECT_THAT(r.output, HasSubstr("offline"));
  EXPECT_THAT(r.output, HasSubstr("all checks passed"));
  EXPECT_THAT(r.output, Not(HasSubstr("warn")));
  EXPECT_THAT(r.output, Not(HasSubstr("FAIL")));
  // The secret is not printed.
  EXPECT_THAT(r.output, Not(HasSubstr("secret")));
}

TEST(CheckOfflineTest, AnUnsetVariableIsAcceptedAndNamed) {
  ScopedEnv pw("PGCDC_TEST_OFFLINE_PW", nullptr);
  const CheckResult r = CheckOfflineText(kConfig);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("warn  environment variable "
                                  "PGCDC_TEST_OFFLINE_PW is not set"));
  EXPECT_THAT(r.output, HasSubstr("all checks passed"));
}

TEST(CheckOfflineTest, WithoutOfflineAnUnsetVariableIsAnError) {
  ScopedEnv pw("PGCDC_TEST_OFFLINE_PW", nullptr);
  const std::string path = ::testing::TempDir() + "/pgcdc-check-online.yaml";
  std::ofstream(path) << kConfig;
  const CheckResult r = RunCheck({"--config", path});
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("FAIL  configuration: "));
  EXPECT_THAT(
      r.output,
      HasSubstr("environment variable PGCDC_TEST_OFFLINE_PW is not set"));
}

TEST(CheckOfflineTest, EveryValidationOfTheLoaderApplies) {
  ScopedEnv pw("PGCDC_TEST_OFFLINE_PW", "secret");
  // An unknown key, a value out of range, a missing required key.
  const CheckResult unknown =
      CheckOfflineText(std::string(kConfig) + "metrics:\n  listne: x\n");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("FAIL  configuration: "));
  EXPECT_THAT(unknown.output, HasSubstr("listne"));
  EXPECT_THAT(unknown.output, Not(HasSubstr("all checks passed")));

  const CheckResult range =
      CheckOfflineText(std::string(kConfig) + "  max_inflight_bytes: 12\n");
  EXPECT_EQ(range.exit_code, 2) << range.output;
  EXPECT_THAT(range.output, HasSubstr("max_inflight_bytes"));

  std::string no_slot = kConfig;
  no_slot.erase(no_slot.find("  slot: pgcdc\n"), 14);
  const CheckResult missing = CheckOfflineText(no_slot);
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("slot"));
}

TEST(CheckOfflineTest, AFailureSaysWhichValuesWerePlaceholders) {
  ScopedEnv pw("PGCDC_TEST_OFFLINE_PW", "secret");
  ScopedEnv port("PGCDC_TEST_OFFLINE_PORT", nullptr);
  const CheckResult r = CheckOfflineText(
      std::string(kConfig) +
      "metrics:\n  listen: \"127.0.0.1:${PGCDC_TEST_OFFLINE_PORT}\"\n");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("metrics.listen"));
  EXPECT_THAT(r.output, HasSubstr("placeholder"));
  EXPECT_THAT(r.output, HasSubstr("PGCDC_TEST_OFFLINE_PORT"));
}

TEST(CheckOfflineTest, CredentialsWithoutCredentialsDirectoryAreAccepted) {
  ScopedEnv credentials("CREDENTIALS_DIRECTORY", nullptr);
  const CheckResult r = CheckOfflineFile(std::string(PGCDC_SOURCE_DIR) +
                                         "/deploy/pgcdc.example.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("warn  CREDENTIALS_DIRECTORY is not set"));
  // Once, and not the commented-out kafka-password.
  EXPECT_THAT(r.output, HasSubstr("${credential:NAME} (pg-password)\n"));
  EXPECT_THAT(r.output, HasSubstr("all checks passed"));
}

TEST(CheckOfflineTest, AnInvalidCredentialNameIsStillRefused) {
  ScopedEnv credentials("CREDENTIALS_DIRECTORY", nullptr);
  std::string yaml = kConfig;
  yaml.replace(yaml.find("${PGCDC_TEST_OFFLINE_PW}"), 24,
               "${credential:../etc/passwd}");
  const CheckResult r = CheckOfflineText(yaml);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not a valid credential reference"));
}

TEST(CheckOfflineTest, AMissingFileAndBadUsageExitTwo) {
  const CheckResult missing =
      CheckOfflineFile(::testing::TempDir() + "/no-such-pgcdc.yaml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("cannot read config file"));

  ::testing::internal::CaptureStderr();
  const CheckResult no_config = RunCheck({"--offline"});
  const CheckResult bad_value = RunCheck({"--offline=maybe", "--config", "x"});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_THAT(err, HasSubstr("--config FILE is required"));
  EXPECT_THAT(err, HasSubstr("flag --offline is boolean"));
}

TEST(CheckOfflineTest, HelpDescribesOffline) {
  const CheckResult r = RunCheck({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output,
              HasSubstr("SYNOPSIS\n    pgcdc check [--offline] --config FILE"));
  EXPECT_THAT(r.output, HasSubstr("connects to nothing"));
  EXPECT_THAT(r.output, HasSubstr("placeholder"));
}

}  // namespace
}  // namespace cdc::cli
