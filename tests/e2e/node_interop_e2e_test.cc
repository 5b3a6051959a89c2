// A Node client against the real annalsd: tests/interop/node/interop.js
// calls every RPC through @grpc/grpc-js and @grpc/proto-loader (protobufjs
// 7), loading proto/ as it is. The packages, pinned by the committed
// package-lock.json, are installed from the npm registry into the build
// tree with `npm ci` the first time (and again when the lock changes);
// without node, npm or the registry the test fails, saying so.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

namespace fs = std::filesystem;

const std::string kAnnalsd = ANNALSD_PATH;
const std::string kNode = NODE_PROGRAM;
const std::string kNpm = NPM_PROGRAM;
const fs::path kScriptDir = NODE_INTEROP_DIR;  // interop.js, package files
const fs::path kInstallDir = NODE_INSTALL_DIR;  // in the build tree

// Copies the script and package files into the install directory and runs
// `npm ci` there unless node_modules was installed from the same lock.
// "" on success, else what went wrong.
std::string InstallPackages(const std::string& scratch) {
  fs::create_directories(kInstallDir);
  for (const char* file : {"interop.js", "package.json", "package-lock.json"}) {
    fs::copy_file(kScriptDir / file, kInstallDir / file,
                  fs::copy_options::overwrite_existing);
  }
  const fs::path stamp = kInstallDir / "node_modules" / ".annals-installed-lock";
  const std::string lock =
      testing::ReadFileOrEmpty((kInstallDir / "package-lock.json").string());
  if (testing::ReadFileOrEmpty(stamp.string()) == lock) return "";
  const testing::RunResult npm = testing::RunProcess(
      {kNpm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix",
       kInstallDir.string()},
      scratch);
  if (npm.exit_code != 0) {
    return absl::StrCat(
        "`npm ci` failed (exit ", npm.exit_code,
        "): the test installs its pinned packages from the npm registry, "
        "which must be reachable.\n",
        npm.out, npm.err);
  }
  fs::copy_file(kInstallDir / "package-lock.json", stamp,
                fs::copy_options::overwrite_existing);
  return "";
}

TEST(NodeInteropE2eTest, EveryRpcFromNode) {
  ASSERT_TRUE(fs::exists(kNode) && fs::exists(kNpm))
      << "node or npm not found (" << kNode << ", " << kNpm
      << "): deploy/dev.sh installs the Debian packages nodejs and npm";
  const fs::path dir = fs::path(::testing::TempDir()) /
                       absl::StrCat("node_interop_e2e_", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string installed = InstallPackages(dir.string());
  ASSERT_TRUE(installed.empty()) << installed;

  const testing::StartedServer server =
      testing::StartAnnalsd(kAnnalsd, dir.string());
  ASSERT_EQ(server.error, "");
  const testing::RunResult node = testing::RunProcess(
      {kNode, (kInstallDir / "interop.js").string(), server.address,
       PROTO_DIR, EXAMPLES_DIR "/events.jsonl", SEED_FILE},
      dir.string());
  kill(server.pid, SIGTERM);
  EXPECT_EQ(testing::WaitExit(server.pid), 0);
  EXPECT_EQ(node.exit_code, 0) << node.out << node.err;
  EXPECT_NE(node.out.find(" passed, 0 failed"), std::string::npos) << node.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace annals
