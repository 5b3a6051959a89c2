// The NATS client against a real nats-server (JetStream on, one node): it
// never calls back once destroyed. The C client calls back on a thread of
// its own after natsConnection_Close returns; a client destroyed first had
// its lost-connection callback run on freed options (annalsd crashed on
// shutdown in cluster mode, "segfault at 1c8" in JetStreamLog::Writable).
#include "storage/jetstream/nats_client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/storage/test_events.h"

extern char** environ;

namespace annals::storage::jetstream {
namespace {

// A port nothing listens on now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

class NatsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    const std::string port = absl::StrCat(port_);
    const std::string store = dir_.Sub("jetstream");
    std::vector<std::string> args = {NATS_SERVER_PATH, "-js", "-a", "127.0.0.1",
                                     "-p", port, "-sd", store};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // Its output to /dev/null: it never holds the test's own.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int spawned = posix_spawn(&pid_, NATS_SERVER_PATH, &actions, nullptr,
                                    argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(spawned, 0);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Connects, retrying while the server starts.
  std::unique_ptr<NatsClient> Connect(NatsOptions options) {
    options.servers = {absl::StrCat("nats://127.0.0.1:", port_)};
    options.replicas = 1;
    options.request_timeout = absl::Seconds(2);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (;;) {
      absl::StatusOr<std::unique_ptr<NatsClient>> client =
          NatsClient::Connect(options, nullptr, nullptr);
      if (client.ok()) return *std::move(client);
      if (absl::Now() > deadline) {
        ADD_FAILURE() << client.status();
        return nullptr;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  testing::ScratchDir dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

TEST_F(NatsClientTest, NoCallbackRunsOnceTheClientIsDestroyed) {
  for (int round = 0; round < 3; ++round) {
    auto finished = std::make_shared<std::atomic<int>>(0);
    NatsOptions options;
    options.on_connection = [finished](bool connected, const std::string&) {
      if (connected) return;
      // Slower than the destruction: a callback left running after it
      // would still be here when the client is gone.
      absl::SleepFor(absl::Milliseconds(100));
      ++*finished;
    };
    std::unique_ptr<NatsClient> client = Connect(options);
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Connected());
    client.reset();
    EXPECT_EQ(finished->load(), 1)
        << "the lost connection's callback ran after the client was destroyed";
    absl::SleepFor(absl::Milliseconds(200));
    EXPECT_EQ(finished->load(), 1);
  }
}

}  // namespace
}  // namespace annals::storage::jetstream
