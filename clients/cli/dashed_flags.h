// Lets the annals binaries take flags spelled with dashes (--data-dir) as
// well as with underscores (--data_dir): abseil flag names are C++
// identifiers, users type dashes. Header-only so that annalsd can use it
// without linking the client library.
#ifndef ANNALS_CLIENTS_CLI_DASHED_FLAGS_H_
#define ANNALS_CLIENTS_CLI_DASHED_FLAGS_H_

#include <cstring>
#include <string>
#include <vector>

namespace annals {

// Rewrites "--data-dir=x" to "--data_dir=x" in place (the name part only;
// values keep their dashes). Stops at "--", after which all arguments are
// positional. The returned strings own the rewritten arguments; `argv`
// points into them.
inline std::vector<std::string> UnderscoreFlagNames(int argc, char** argv) {
  std::vector<std::string> storage(argv, argv + argc);
  for (int i = 1; i < argc; ++i) {
    std::string& arg = storage[i];
    if (arg == "--") break;
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') {
      const size_t end = arg.find('=');
      for (size_t j = 2; j < arg.size() && j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
    }
  }
  for (int i = 0; i < argc; ++i) argv[i] = storage[i].data();
  return storage;
}

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_DASHED_FLAGS_H_
