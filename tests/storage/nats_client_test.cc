// The NATS client against real nats-servers. On one JetStream node: it
// never calls back once destroyed. The C client calls back on a thread of
// its own after natsConnection_Close returns; a client destroyed first had
// its lost-connection callback run on freed options (annalsd crashed on
// shutdown in cluster mode, "segfault at 1c8" in JetStreamLog::Writable).
// On a three-node cluster: opening the stream waits for a cluster still
// forming and survives replicas creating it at once (JetStream leaves
// such requests unanswered; a replica started with a fresh cluster exited
// with "cannot read stream ANNALS: Timeout").
#include "storage/jetstream/nats_client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
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

// Waits until something listens on the port, at most 20 seconds.
bool Listening(int port) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool up =
        connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ==
        0;
    close(fd);
    if (up) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class NatsClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const pid_t pid : pids_) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }

  // Starts a single JetStream node on port_.
  void StartSingleNode() {
    port_ = FreePort();
    Spawn({"-js", "-a", "127.0.0.1", "-p", absl::StrCat(port_), "-sd",
           dir_.Sub("jetstream")});
  }

  // Writes the configuration of the three nodes of a JetStream cluster;
  // StartNode starts one. The client's port is ports_[node].
  void ConfigureCluster() {
    std::vector<int> routes;
    for (int node = 0; node < 3; ++node) {
      ports_.push_back(FreePort());
      routes.push_back(FreePort());
    }
    for (int node = 0; node < 3; ++node) {
      std::ofstream conf(dir_.Sub(absl::StrCat("nats-", node, ".conf")));
      conf << "server_name: nats-" << node << "\n"
           << "listen: 127.0.0.1:" << ports_[node] << "\n"
           << "jetstream { store_dir: \"" << dir_.Sub(absl::StrCat("js-", node))
           << "\" }\n"
           << "cluster {\n  name: annals\n  listen: 127.0.0.1:"
           << routes[node] << "\n  routes: [\n";
      for (const int route : routes) {
        conf << "    nats-route://127.0.0.1:" << route << "\n";
      }
      conf << "  ]\n}\n";
    }
  }

  void StartNode(int node) {
    Spawn({"-c", dir_.Sub(absl::StrCat("nats-", node, ".conf"))});
  }

  std::vector<std::string> ClusterServers() const {
    std::vector<std::string> servers;
    for (const int port : ports_) {
      servers.push_back(absl::StrCat("nats://127.0.0.1:", port));
    }
    return servers;
  }

  // Connects to the single node, retrying while the server starts.
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
  std::vector<int> ports_;

 private:
  // Starts nats-server with `args`, its output to /dev/null: it never
  // holds the test's own.
  void Spawn(std::vector<std::string> args) {
    args.insert(args.begin(), NATS_SERVER_PATH);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, NATS_SERVER_PATH, &actions, nullptr,
                                    argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(spawned, 0);
    pids_.push_back(pid);
  }

  std::vector<pid_t> pids_;
};

TEST_F(NatsClientTest, NoCallbackRunsOnceTheClientIsDestroyed) {
  StartSingleNode();
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

// A replica started beside a cluster still forming (one node of three up,
// so no JetStream leader yet) waits for it, within start_timeout, instead
// of failing at its first unanswered request.
TEST_F(NatsClientTest, ConnectWaitsForAClusterStillForming) {
  ConfigureCluster();
  StartNode(0);
  ASSERT_TRUE(Listening(ports_[0]));
  std::thread rest([this] {
    absl::SleepFor(absl::Seconds(3));
    StartNode(1);
    StartNode(2);
  });
  NatsOptions options;
  options.servers = ClusterServers();
  options.request_timeout = absl::Seconds(1);
  options.start_timeout = absl::Seconds(30);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<NatsClient>> client =
      NatsClient::Connect(options, nullptr, nullptr);
  rest.join();
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_GT(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE((*client)->LastSequence().ok());
}

// Several replicas opening a new stream of a fresh cluster at once all
// open it: JetStream leaves some of such requests unanswered.
TEST_F(NatsClientTest, ReplicasOpeningANewStreamAtOnceAllOpenIt) {
  ConfigureCluster();
  for (int node = 0; node < 3; ++node) StartNode(node);
  for (int node = 0; node < 3; ++node) ASSERT_TRUE(Listening(ports_[node]));
  for (int round = 0; round < 3; ++round) {
    std::vector<absl::Status> opened(3);
    std::vector<std::thread> replicas;
    for (int replica = 0; replica < 3; ++replica) {
      replicas.emplace_back([&, replica] {
        NatsOptions options;
        options.servers = {absl::StrCat("nats://127.0.0.1:", ports_[replica])};
        options.stream = absl::StrCat("ROUND", round);
        options.request_timeout = absl::Seconds(2);
        options.start_timeout = absl::Seconds(30);
        opened[replica] = NatsClient::Connect(options, nullptr, nullptr).status();
      });
    }
    for (std::thread& replica : replicas) replica.join();
    for (int replica = 0; replica < 3; ++replica) {
      EXPECT_TRUE(opened[replica].ok())
          << "round " << round << ", replica " << replica << ": "
          << opened[replica];
    }
  }
}

}  // namespace
}  // namespace annals::storage::jetstream
