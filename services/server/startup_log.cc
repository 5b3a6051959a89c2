#include "services/server/startup_log.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "annals_commit.h"
#include "log/log.h"

namespace annals::services {

void LogStart(absl::string_view listen, absl::string_view data_dir,
              absl::FunctionRef<bool(absl::string_view file)> ours) {
  std::vector<log::Field> fields = {{"version", ANNALS_VERSION},
                                    {"commit", ANNALS_COMMIT},
                                    {"pid", static_cast<int64_t>(getpid())},
                                    {"listen", listen},
                                    {"data_dir", data_dir}};
  std::vector<const absl::CommandLineFlag*> changed;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (name == "listen" || name == "data_dir") continue;  // given above
    if (!ours(flag->Filename()) && name != "flagfile") continue;
    if (flag->CurrentValue() != flag->DefaultValue()) changed.push_back(flag);
  }
  std::sort(changed.begin(), changed.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  for (const absl::CommandLineFlag* flag : changed) {
    fields.emplace_back(flag->Name(), flag->CurrentValue());
  }
  log::Info("start", fields);
}

}  // namespace annals::services
