// Every subcommand's --help is a man page: the sections are there, every
// flag its parser accepts is documented under OPTIONS, the files it points
// at exist; and --version names the protocol and the libraries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
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
  // Up to the next heading: a line of capitals and spaces, starting with a
  // capital. (Scanned by hand: GCC 12 warns inside <regex> in the
  // sanitizer build, which -Werror fails.)
  for (size_t line = from; line < help.size();) {
    const size_t end = help.find('\n', line);
    if (end == std::string::npos) break;
    const std::string text = help.substr(line, end - line);
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z' &&
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ ") ==
            std::string::npos) {
      return line == from ? "" : help.substr(from, line - 1 - from);
    }
    line = end + 1;
  }
  return help.substr(from);
}

// The docs files `help` names: docs/<lowercase and _>.md and README.md.
std::vector<std::string> DocRefs(const std::string& help) {
  std::vector<std::string> refs;
  for (size_t at = help.find("docs/"); at != std::string::npos;
       at = help.find("docs/", at + 1)) {
    size_t end = at + 5;
    while (end < help.size() &&
           ((help[end] >= 'a' && help[end] <= 'z') || help[end] == '_')) {
      ++end;
    }
    if (end > at + 5 && help.compare(end, 3, ".md") == 0) {
      refs.push_back(help.substr(at, end + 3 - at));
    }
  }
  for (size_t at = help.find("README.md"); at != std::string::npos;
       at = help.find("README.md", at + 1)) {
    refs.push_back("README.md");
  }
  return refs;
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
  for (const std::string& ref : DocRefs(help)) {
    EXPECT_TRUE(
        std::filesystem::exists(std::string(PGCDC_SOURCE_DIR) + "/" + ref))
        << name << " points at " << ref;
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
    const std::string line = std::string("\n") + library + " ";
    const size_t at = v.find(line);
    EXPECT_TRUE(at != std::string::npos && at + line.size() < v.size() &&
                v[at + line.size()] >= '0' && v[at + line.size()] <= '9')
        << library << " missing from\n"
        << v;
  }
}

}  // namespace
}  // namespace cdc::cli
