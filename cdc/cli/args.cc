#include "cdc/cli/args.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cdc/cli/exit_codes.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/log.h"  // EscapeForLog

namespace cdc::cli {

absl::StatusOr<Args> Args::Parse(int argc, char** argv,
                                 const std::vector<FlagSpec>& specs) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", AsAbsl(arg), "\""));
    }
    const std::string_view body = arg.substr(2);
    const size_t eq = body.find('=');
    const std::string name(body.substr(0, eq));
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(body.substr(eq + 1));
      if (spec->boolean && value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " is boolean: true or false, not \"",
                         value, "\""));
      }
    } else if (spec->boolean) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
    args.all_[name].push_back(value);
    args.values_[name] = std::move(value);
  }
  return args;
}

bool Args::Has(const std::string& name) const {
  return values_.count(name) > 0;
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = all_.find(name);
  if (it == all_.end()) return {};
  return it->second;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

bool Args::GetBool(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->second == "true";
}

absl::StatusOr<int64_t> Args::GetInt(const std::string& name, int64_t fallback,
                                     int64_t min, int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t v = 0;
  if (!absl::SimpleAtoi(it->second, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", name, ": expected an integer from ", min,
                     " to ", max, ", not \"", it->second, "\""));
  }
  return v;
}

std::string ShortUsage(const char* help) {
  const std::string_view text = help;
  std::string out;
  std::string command;
  size_t at = text.find("SYNOPSIS\n");
  if (at == std::string_view::npos) return "";
  at += 9;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty()) break;
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (out.empty()) {
      // "pgcdc run --config FILE": the command is the first two words.
      const size_t space = line.find(' ', line.find(' ') + 1);
      command = std::string(line.substr(0, space));
    }
    absl::StrAppend(&out, out.empty() ? "usage: " : "       ", AsAbsl(line),
                    "\n");
  }
  absl::StrAppend(&out, "(", command, " --help says more)\n");
  return out;
}

std::vector<FlagSpec> ConfigCommandFlags(std::vector<FlagSpec> specs) {
  specs.push_back({"config"});
  specs.push_back({"help", /*boolean=*/true});
  return specs;
}

std::optional<Args> ParseConfigCommand(int argc, char** argv,
                                       const char* command, const char* usage,
                                       std::vector<FlagSpec> specs,
                                       std::string* config_path,
                                       int* exit_code) {
  absl::StatusOr<Args> args =
      Args::Parse(argc, argv, ConfigCommandFlags(std::move(specs)));
  if (!args.ok()) {
    std::fprintf(stderr, "pgcdc %s: %s\n%s", command,
                 EscapeForLog(args.status().message()).c_str(),
                 ShortUsage(usage).c_str());
    *exit_code = kExitConfig;
    return std::nullopt;
  }
  if (args->GetBool("help")) {
    std::fputs(usage, stdout);
    *exit_code = kExitOk;
    return std::nullopt;
  }
  std::optional<std::string> path = args->Get("config");
  if (!path || path->empty()) {
    std::fprintf(stderr, "pgcdc %s: --config FILE is required\n%s", command,
                 ShortUsage(usage).c_str());
    *exit_code = kExitConfig;
    return std::nullopt;
  }
  *config_path = *path;
  return *std::move(args);
}

}  // namespace cdc::cli
