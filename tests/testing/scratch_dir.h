// Directories for the files tests write, under GoogleTest's TempDir() (the
// suite's scratch directory under ctest), removed with what they hold.
#ifndef ANNALS_TESTS_TESTING_SCRATCH_DIR_H_
#define ANNALS_TESTS_TESTING_SCRATCH_DIR_H_

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace annals::testing {

// A fresh directory, removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "annals-XXXXXX";
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

// A directory of the test process's own, for files several tests hand to
// the code under test (ctest runs each test in a process of its own,
// several at once); removed when the process exits.
inline const std::string& ProcessDir() {
  static const ScratchDir dir;
  return dir.path();
}

// Writes `contents` to the file `name` in ProcessDir(); its path.
inline std::string WriteProcessFile(absl::string_view name,
                                    absl::string_view contents) {
  const std::string path = absl::StrCat(ProcessDir(), "/", name);
  std::ofstream(path) << contents;
  return path;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_TESTING_SCRATCH_DIR_H_
