// A directory of the test process's own for the files a test hands to the
// code under test (ctest runs each test in a process of its own, several at
// once), removed with what it holds when the process exits.
#ifndef ANNALS_TESTS_TESTING_PROCESS_DIR_H_
#define ANNALS_TESTS_TESTING_PROCESS_DIR_H_

#include <stdlib.h>  // mkdtemp

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace annals::testing {

// The directory, made under GoogleTest's TempDir() on first use.
inline const std::string& ProcessDir() {
  static const std::string* const dir = [] {
    std::string pattern = ::testing::TempDir() + "/annals-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror(("mkdtemp " + pattern).c_str());
      std::abort();
    }
    std::atexit([] { std::filesystem::remove_all(ProcessDir()); });
    return new std::string(pattern);
  }();
  return *dir;
}

// Writes `contents` to the file `name` in ProcessDir(); its path.
inline std::string WriteProcessFile(const std::string& name,
                                    const std::string& contents) {
  const std::string path = ProcessDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_TESTING_PROCESS_DIR_H_
