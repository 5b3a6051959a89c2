// --help, -h, help and --version, answered the same way by every annals
// program: on stdout, exit status 0, flags spelled as users type them
// (dashes), no build paths. abseil's own --help writes "Flags from
// <source path>" sections and exits 1, and its --version names the build
// type. Header-only, as dashed_flags.h, so that annalsd can use it without
// linking the client library; the program links annals_version (the
// version and the commit).
#ifndef ANNALS_CLIENTS_CLI_PROGRAM_HELP_H_
#define ANNALS_CLIENTS_CLI_PROGRAM_HELP_H_

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "annals_commit.h"

namespace annals {

// "annals 0.1.0 (commit 1a2b3c4d5e6f)".
inline std::string VersionLine(absl::string_view program) {
  return std::string(program) + " " + ANNALS_VERSION + " (commit " +
         ANNALS_COMMIT + ")";
}

// When the first argument asks for help ("--help", "-h", "help") or the
// version ("--version"): writes it on `out` and returns the exit status,
// 0; otherwise nullopt. Help is `usage`, then every flag defined in a
// source file for which `ours(file)` holds, by name, with its default and
// its help text.
inline std::optional<int> AnswerHelpOrVersion(
    int argc, char** argv, absl::string_view program, absl::string_view usage,
    absl::FunctionRef<bool(absl::string_view)> ours,
    std::ostream& out = std::cout) {
  if (argc < 2) return std::nullopt;
  const absl::string_view asked = argv[1];
  if (asked == "--version") {
    out << VersionLine(program) << "\n";
    return 0;
  }
  if (asked != "--help" && asked != "-h" && asked != "help") {
    return std::nullopt;
  }
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (ours(flag->Filename())) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(), [](const auto* a, const auto* b) {
    return a->Name() < b->Name();
  });
  out << usage << "\n\nFlags (dashes or underscores; --flag=value or "
                  "--flag value):\n";
  for (const absl::CommandLineFlag* flag : flags) {
    out << "  --" << absl::StrReplaceAll(flag->Name(), {{"_", "-"}});
    const std::string value = flag->DefaultValue();
    if (!value.empty()) out << " (default " << value << ")";
    out << "\n      " << flag->Help() << "\n";
  }
  out << "  --version\n      Print the version and the commit built from.\n";
  return 0;
}

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_PROGRAM_HELP_H_
