// Every subcommand's --help is a man page: the sections are there, every
// flag its parser accepts is documented under OPTIONS, the files it points
// at exist; and --version names the protocol and the libraries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "cdc/cli/args.h"
#include "cdc/cli/commands.h"
#include "cdc/kafka/producer.h"
#include "cdc/pg/pgoutput_options.h"

namespace cdc::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kSections[] = {"NAME",     "SYNOPSIS",    "DESCRIPTION",
                                     "OPTIONS",  "EXIT STATUS", "ENVIRONMENT",
                                     "EXAMPLES", "SEE ALSO"};

// The text of `section` (up to the next section heading).
std::string Section(const std::string& help, const std::string& section) {
  const size_t at = help.find("\n" + section + "\n");
  if (at == std::string::npos) return "";
  const size_t from = at + section.size() + 2;
  const std::regex heading("\n[A-Z][A-Z ]+\n");
  std::smatch m;
  const std::string rest = help.substr(from);
  if (std::regex_search(rest, m, heading)) return rest.substr(0, m.position());
  return rest;
}

void ExpectManPage(const std::string& name, const std::string& help) {
  EXPECT_THAT(help, StartsWith("NAME\n")) << name;
  size_t last = 0;
  for (const char* section : kSections) {
    const size_t at = help.find(std::string(section) + "\n");
    ASSERT_NE(at, std::string::npos) << name << " lacks " << section;
    EXPECT_GE(at, last) << name << ": " << section << " out of order";
    last = at;
    EXPECT_FALSE(Section("\n" + help, section).empty())
        << name << ": empty " << section;
  }
  // Every docs file it names exists.
  const std::regex doc_ref("(docs/[a-z_]+\\.md|README\\.md)");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), doc_ref);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(std::filesystem::exists(std::string(PGCDC_SOURCE_DIR) + "/" +
                                        it->str()))
        << name << " points at " << it->str();
  }
}

TEST(HelpTest, EverySubcommandHasAManPage) {
  ASSERT_GE(Commands().size(), 6u);
  for (const Command& c : Commands()) {
    const CommandDoc doc = c.doc();
    SCOPED_TRACE(c.name);
    ExpectManPage(c.name, doc.help);
    EXPECT_THAT(Section(std::string("\n") + doc.help, "NAME"),
                HasSubstr(std::string("pgcdc ") + c.name + " - "));
    EXPECT_THAT(Section(std::string("\n") + doc.help, "SYNOPSIS"),
                HasSubstr(std::string("pgcdc ") + c.name));
  }
}

TEST(HelpTest, EveryFlagTheParserAcceptsIsDocumented) {
  for (const Command& c : Commands()) {
    const CommandDoc doc = c.doc();
    ASSERT_FALSE(doc.flags.empty()) << c.name;
    const std::string options =
        "\n" + Section(std::string("\n") + doc.help, "OPTIONS");
    for (const FlagSpec& flag : doc.flags) {
      // Documented as an entry of its own: "    --name" at a line's start.
      EXPECT_THAT(options, HasSubstr("\n    --" + flag.name))
          << c.name << " --" << flag.name << " is not under OPTIONS";
    }
    // And the parser takes exactly these: --help answers, an unknown flag
    // is a usage error.
    std::vector<std::string> help_args = {c.name, "--help"};
    std::vector<char*> argv;
    for (std::string& s : help_args) argv.push_back(s.data());
    argv.push_back(nullptr);
    testing::internal::CaptureStdout();
    EXPECT_EQ(c.run(2, argv.data()), 0) << c.name;
    EXPECT_EQ(testing::internal::GetCapturedStdout(), doc.help) << c.name;
    std::vector<std::string> bad_args = {c.name, "--no-such-flag"};
    argv.clear();
    for (std::string& s : bad_args) argv.push_back(s.data());
    argv.push_back(nullptr);
    testing::internal::CaptureStderr();
    EXPECT_EQ(c.run(2, argv.data()), 2) << c.name;
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_THAT(err, HasSubstr(std::string("usage: pgcdc ") + c.name));
    EXPECT_THAT(err, HasSubstr("--help says more"));
  }
}

TEST(HelpTest, ShortUsageIsTheSynopsis) {
  EXPECT_EQ(ShortUsage(FindCommand("status")->doc().help),
            "usage: pgcdc status --config FILE [--json]\n"
            "(pgcdc status --help says more)\n");
  const std::string tail = ShortUsage(FindCommand("tail")->doc().help);
  EXPECT_THAT(tail, StartsWith("usage: pgcdc tail --bootstrap-servers"));
  EXPECT_THAT(tail, HasSubstr("\n       pgcdc tail --config FILE"));
  EXPECT_EQ(ShortUsage("no sections"), "");
}

TEST(HelpTest, TopLevelHelpListsEveryCommand) {
  const std::string help = TopLevelHelp();
  ExpectManPage("pgcdc", help);
  for (const Command& c : Commands()) {
    EXPECT_THAT(help, HasSubstr(std::string("\n    ") + c.name + "\n"));
  }
  EXPECT_EQ(FindCommand("nonsense"), nullptr);
}

TEST(VersionTest, NamesProtocolsAndLibraries) {
  const std::string v = VersionText();
  EXPECT_THAT(v, StartsWith(std::string("pgcdc ") + PGCDC_VERSION + "\n"));
  std::string protocols;
  for (int p = pg::kMinProtocolVersion; p <= pg::kMaxProtocolVersion; ++p) {
    protocols += (protocols.empty() ? "" : ", ") + std::to_string(p);
  }
  EXPECT_THAT(v, HasSubstr("pgoutput protocol versions " + protocols + "\n"));
  // The line Build.PgcdcLoadsItsLibrdkafka matches.
  EXPECT_THAT(v, HasSubstr("\nlibrdkafka " + kafka::ClientVersion() + "\n"));
  for (const char* library : {"libpq", "protobuf", "OpenSSL", "abseil",
                              "yaml-cpp", "prometheus-cpp", "civetweb"}) {
    EXPECT_TRUE(std::regex_search(
        v, std::regex(std::string("\n") + library + " [0-9][0-9.]*")))
        << library << " missing from\n"
        << v;
  }
}

}  // namespace
}  // namespace cdc::cli
