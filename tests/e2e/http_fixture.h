// A real annalsd serving HTTP (--http-listen) for the HTTP end-to-end
// tests: started over a fresh directory, optionally with the seed
// timeline imported, and cpp-httplib clients for it.
#ifndef ANNALS_TESTS_E2E_HTTP_FIXTURE_H_
#define ANNALS_TESTS_E2E_HTTP_FIXTURE_H_

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/subprocess.h"

namespace annals::testing {

class HttpE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("http_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      WaitExit(server_pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts annalsd with HTTP on a free port (and `flags`).
  void StartServer(std::vector<std::string> flags = {}) {
    const std::string http_port_file = (dir_ / "http_port").string();
    std::vector<std::string> all = {"--durability", "buffered",
                                    "--http-listen", "127.0.0.1:0",
                                    "--http-port-file", http_port_file};
    all.insert(all.end(), flags.begin(), flags.end());
    const StartedServer started = StartAnnalsd(ANNALSD_PATH, dir_.string(), all);
    server_pid_ = started.pid;
    ASSERT_EQ(started.error, "");
    grpc_address_ = started.address;
    std::string port = ReadFileOrEmpty(http_port_file);
    ASSERT_FALSE(port.empty());
    http_port_ = std::stoi(port);
  }

  // `annals --server <grpc> ARGS`, run from the test directory.
  RunResult Annals(std::vector<std::string> args) {
    args.insert(args.begin(), {ANNALS_PATH, "--server", grpc_address_});
    return RunProcess(args, dir_.string());
  }

  void ImportSeed() {
    const RunResult imported = Annals({"import", SEED_FILE});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_read_timeout(20, 0);
    return client;
  }

  // A new token of `role` named `name`, its line added to dir_/tokens.
  std::string NewToken(const std::string& name, const std::string& role) {
    const RunResult made = RunProcess(
        {ANNALS_PATH, "admin", "token", "create", name, role}, dir_.string());
    EXPECT_EQ(made.exit_code, 0) << made.err;
    const std::vector<std::string> lines =
        absl::StrSplit(made.out, '\n', absl::SkipEmpty());
    if (lines.size() != 2) return "";
    std::ofstream(dir_ / "tokens", std::ios::app) << lines[1] << "\n";
    return lines[0];
  }

  std::filesystem::path dir_;
  pid_t server_pid_ = -1;
  std::string grpc_address_;
  int http_port_ = 0;
};

}  // namespace annals::testing

#endif  // ANNALS_TESTS_E2E_HTTP_FIXTURE_H_
