// A local annals cluster for the cluster end-to-end tests: three
// nats-server nodes and three annalsd replicas started by the real
// deploy/cluster.sh over a fresh directory, stopped and started node by
// node through the same script, and taken down after the test. Each test
// gives its own base port (ports N ... N+44, see deploy/cluster.sh), so
// that tests running at once (ctest -j) do not meet.
#ifndef ANNALS_TESTS_E2E_CLUSTER_FIXTURE_H_
#define ANNALS_TESTS_E2E_CLUSTER_FIXTURE_H_

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals::testing {

class ClusterTest : public ::testing::Test {
 protected:
  // Replicas and NATS nodes are numbered 1 to 3, as the script names them.
  static constexpr int kReplicas = 3;

  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("cluster_e2e_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  // Takes the cluster down (SIGTERM to all six); on a failure first prints
  // the end of every node's log. The directory goes only when the test
  // passed.
  void TearDown() override {
    if (base_port_ > 0) {
      if (HasFailure()) PrintLogTails();
      const RunResult down = Script({"down"});
      EXPECT_EQ(down.exit_code, 0) << down.err;
    }
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // `deploy/cluster.sh up` on ports from `base_port` over dir_/cluster,
  // with `annalsd_flags` given to every replica; the replicas' addresses
  // in addresses_. Fails the test when the script fails or prints anything
  // but three addresses.
  void Up(int base_port, std::vector<std::string> annalsd_flags = {}) {
    base_port_ = base_port;
    std::vector<std::string> args = {"up", "--base-port",
                                     std::to_string(base_port), "--annalsd",
                                     ANNALSD_PATH};
    if (!annalsd_flags.empty()) {
      args.push_back("--");
      args.insert(args.end(), annalsd_flags.begin(), annalsd_flags.end());
    }
    const RunResult up = Script(args);
    ASSERT_EQ(up.exit_code, 0) << up.err;
    addresses_ = absl::StrSplit(up.out, '\n', absl::SkipEmpty());
    ASSERT_EQ(addresses_.size(), static_cast<size_t>(kReplicas)) << up.out;
    for (int k = 1; k <= kReplicas; ++k) {
      ASSERT_EQ(addresses_[k - 1],
                absl::StrCat("127.0.0.1:", base_port + 30 + k - 1));
    }
  }

  // `deploy/cluster.sh stop NODE` ("nats-2", "annalsd-1"), with SIGKILL
  // when `kill`; waits until it has exited.
  void Stop(const std::string& node, bool kill = false) {
    std::vector<std::string> args = {"stop", node};
    if (kill) args.push_back("--kill");
    const RunResult stopped = Script(args);
    ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  }

  // `deploy/cluster.sh start NODE`: on its ports and data again; waits
  // until it is ready (NATS: /healthz ok; a replica: health SERVING).
  void Start(const std::string& node) {
    const RunResult started = Script({"start", node});
    ASSERT_EQ(started.exit_code, 0) << started.err;
  }

  // The NATS node ("nats-2") that `deploy/cluster.sh status` names the
  // leader of JetStream stream `stream`; "" when none is.
  std::string StreamLeader(const std::string& stream = "ANNALS") {
    const RunResult status = Script({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    for (absl::string_view line : absl::StrSplit(status.out, '\n')) {
      const size_t leads = line.find("leader of ");
      if (leads == line.npos || !absl::StartsWith(line, "nats-")) continue;
      for (absl::string_view led : absl::StrSplit(line.substr(leads + 10), ", ")) {
        if (led == stream) return std::string(line.substr(0, line.find(' ')));
      }
    }
    return "";
  }

  // `deploy/cluster.sh ARGS --dir dir_/cluster`.
  RunResult Script(std::vector<std::string> args) {
    args.insert(args.begin(), CLUSTER_SH_PATH);
    args.push_back("--dir");
    args.push_back(ClusterDir());
    return RunProcess(args, dir_.string());
  }

  // The address of replica `k` (1 to 3).
  const std::string& Address(int k) const { return addresses_[k - 1]; }

  // The three NATS client URLs, as annalsd --nats takes them.
  std::string NatsUrls() const {
    std::vector<std::string> urls;
    for (int k = 0; k < kReplicas; ++k) {
      urls.push_back(absl::StrCat("nats://127.0.0.1:", base_port_ + k));
    }
    return absl::StrJoin(urls, ",");
  }

  // `annals --server <replica k> ARGS`, run from dir_.
  RunResult Annals(int k, std::vector<std::string> args) {
    args.insert(args.begin(), {ANNALS_PATH, "--server", Address(k)});
    return RunProcess(args, dir_.string());
  }

  // A client of replica `k` (1 to 3) or of `address`.
  std::unique_ptr<Client> Connect(int k) { return ConnectTo(Address(k)); }
  static std::unique_ptr<Client> ConnectTo(const std::string& address) {
    ClientOptions options;
    options.server = address;
    options.deadline = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::string ClusterDir() const { return (dir_ / "cluster").string(); }
  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }

  // The last lines of every node's log in the cluster directory.
  void PrintLogTails() const {
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(ClusterDir(), error)) {
      if (entry.path().extension() != ".log") continue;
      std::vector<std::string> lines =
          absl::StrSplit(ReadFileOrEmpty(entry.path().string()), '\n');
      const size_t from = lines.size() > 25 ? lines.size() - 25 : 0;
      std::vector<std::string> tail(lines.begin() + from, lines.end());
      std::cerr << "--- the end of " << entry.path().string() << "\n"
                << absl::StrJoin(tail, "\n") << "\n";
    }
  }

  std::filesystem::path dir_;
  int base_port_ = 0;
  std::vector<std::string> addresses_;
};

}  // namespace annals::testing

#endif  // ANNALS_TESTS_E2E_CLUSTER_FIXTURE_H_
