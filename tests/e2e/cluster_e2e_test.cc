// End-to-end: annals in cluster mode with the real binaries — three
// nats-server nodes (JetStream, the log of record) and three annalsd
// replicas started by deploy/cluster.sh. Appends through every replica
// racing on one stream with exact expected versions; a batch retried
// through another replica; kill -9 of a NATS node and of a replica under
// steady appends; a subscription on one replica following appends on
// another across restarts; a fourth replica started from nothing catching
// up. Afterwards every replica holds the same log: the same events at the
// same positions, the same chain and Merkle root, byte-identical exports
// that verify.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/audit.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster_fixture.h"
#include "tests/testing/events.h"
#include "tests/testing/subprocess.h"

namespace annals {
namespace {

using ::annals::testing::Eventually;
using ::annals::testing::MakeMeeting;
using ::annals::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Base ports, one per test, 100 apart (a cluster takes N ... N+44).
constexpr int kRacePorts = 25000;
constexpr int kRetryPorts = 25100;
constexpr int kNatsKillPorts = 25200;
constexpr int kReplicaKillPorts = 25300;
constexpr int kFollowPorts = 25400;
constexpr int kFreshReplicaPorts = 25500;

// How long replicas may take to agree once appends stopped.
constexpr std::chrono::seconds kConvergence(30);

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// The whole log as the replica behind `client` holds it, read forward.
absl::StatusOr<std::vector<v1::RecordedEvent>> ReadLog(Client& client) {
  std::vector<v1::RecordedEvent> log;
  for (uint64_t from = 1;;) {
    v1::ReadAllRequest request;
    request.set_from_position(from);
    request.set_limit(1000);
    absl::StatusOr<v1::ReadAllResponse> page = client.ReadAll(request);
    if (!page.ok()) return page.status();
    if (page->events().empty()) return log;
    log.insert(log.end(), page->events().begin(), page->events().end());
    from = log.back().position() + 1;
  }
}

// The replica's head position, 0 when it does not answer.
uint64_t Head(Client& client) {
  absl::StatusOr<v1::GetServerInfoResponse> info = client.GetServerInfo();
  return info.ok() ? info->head_position() : 0;
}

// The stream's current version as the replica sees it.
absl::StatusOr<uint64_t> StreamVersion(Client& client,
                                       const std::string& stream) {
  v1::ReadStreamRequest request;
  request.set_stream(stream);
  request.set_direction(v1::DIRECTION_BACKWARD);
  request.set_limit(1);
  absl::StatusOr<v1::ReadStreamResponse> read = client.ReadStream(request);
  if (!read.ok()) return read.status();
  return read->stream_version();
}

// Appends single events one after another, each through the next replica
// in turn, until stopped. An event that fails is sent again with the same
// id (through the next replica) until it is acknowledged: appends are
// idempotent by id. Records every acknowledgement and counts the errors.
class SteadyWriter {
 public:
  SteadyWriter(std::vector<Client*> replicas, std::string prefix)
      : replicas_(std::move(replicas)), prefix_(std::move(prefix)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SteadyWriter() { Stop(); }

  // Stops after the append in flight; the event it carried is left
  // unacknowledged when it failed.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  size_t acknowledged() const {
    absl::MutexLock lock(&mu_);
    return acknowledged_.size();
  }
  // Event id -> the position it was acknowledged at.
  std::map<std::string, uint64_t> Acknowledged() const {
    absl::MutexLock lock(&mu_);
    return acknowledged_;
  }
  // "UNAVAILABLE: 12, DEADLINE_EXCEEDED: 1", or "none".
  std::string Errors() const {
    absl::MutexLock lock(&mu_);
    std::string errors;
    for (const auto& [code, count] : errors_) {
      absl::StrAppend(&errors, errors.empty() ? "" : ", ", code, ": ", count);
    }
    return errors.empty() ? "none" : errors;
  }
  // The longest wait between two acknowledgements (or from the start to
  // the first): how long appends stalled during a fault.
  absl::Duration longest_stall() const {
    absl::MutexLock lock(&mu_);
    return longest_stall_;
  }
  // What the test prints about the load.
  std::string Summary() const {
    return absl::StrCat(acknowledged(), " acknowledged, the longest wait ",
                        absl::FormatDuration(absl::Trunc(
                            longest_stall(), absl::Milliseconds(1))),
                        "; errors: ", Errors());
  }
  // Whether any acknowledgement disagreed with an earlier one for its id.
  bool moved() const {
    absl::MutexLock lock(&mu_);
    return moved_;
  }

  // Waits until `count` more events than now are acknowledged.
  bool WaitForMore(size_t count,
                   std::chrono::seconds limit = std::chrono::seconds(30)) {
    const size_t target = acknowledged() + count;
    return Eventually([&] { return acknowledged() >= target; }, limit);
  }

 private:
  void Run() {
    size_t turn = 0;
    for (int i = 0; !stop_; ++i) {
      const std::string id = absl::StrCat(prefix_, "-", i);
      v1::AppendRequest request;
      request.set_stream(prefix_);
      *request.add_events() = MakeMeeting(id, i % 2 ? "USA" : "JPN", "PRK");
      while (!Send(id, request, *replicas_[turn++ % replicas_.size()])) {
        if (stop_) return;
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
  }

  // Appends `request` (the event `id`) through `replica`: true when it was
  // acknowledged.
  bool Send(const std::string& id, const v1::AppendRequest& request,
            Client& replica) {
    absl::StatusOr<v1::AppendResponse> appended = replica.Append(request);
    absl::MutexLock lock(&mu_);
    if (!appended.ok()) {
      ++errors_[absl::StatusCodeToString(appended.status().code())];
      return false;
    }
    if (appended->positions_size() != 1) {
      ++errors_["MALFORMED"];
      return false;
    }
    auto [at, inserted] = acknowledged_.emplace(id, appended->positions(0));
    if (!inserted && at->second != appended->positions(0)) moved_ = true;
    const absl::Time now = absl::Now();
    longest_stall_ = std::max(longest_stall_, now - last_acknowledged_);
    last_acknowledged_ = now;
    return true;
  }

  const std::vector<Client*> replicas_;
  const std::string prefix_;
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  std::map<std::string, uint64_t> acknowledged_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> errors_ ABSL_GUARDED_BY(mu_);
  bool moved_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_acknowledged_ ABSL_GUARDED_BY(mu_) = absl::Now();
  absl::Duration longest_stall_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// A subscription from position 1 on one replica, resumed from the last
// position received plus one whenever it ends, collecting every event.
class Follower {
 public:
  explicit Follower(Client& replica)
      : stub_(v1::Subscriptions::NewStub(replica.channel())) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Follower() { Stop(); }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

  std::vector<v1::RecordedEvent> Events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  uint64_t last_position() const {
    absl::MutexLock lock(&mu_);
    return events_.empty() ? 0 : events_.back().position();
  }
  // How many times the subscription ended and was resumed.
  int resumed() const {
    absl::MutexLock lock(&mu_);
    return resumed_;
  }

 private:
  void Run() {
    for (;;) {
      v1::SubscribeRequest request;
      grpc::ClientContext context;
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        request.set_from_position(
            events_.empty() ? 1 : events_.back().position() + 1);
        context_ = &context;
      }
      std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
          stub_->Subscribe(&context, request);
      v1::SubscribeResponse message;
      while (reader->Read(&message)) {
        if (!message.has_event()) continue;
        absl::MutexLock lock(&mu_);
        events_.push_back(message.event());
      }
      reader->Finish().IgnoreError();
      {
        absl::MutexLock lock(&mu_);
        context_ = nullptr;
        if (stop_) return;
        ++resumed_;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  std::unique_ptr<v1::Subscriptions::Stub> stub_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<v1::RecordedEvent> events_ ABSL_GUARDED_BY(mu_);
  int resumed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

class ClusterE2eTest : public testing::ClusterTest {
 protected:
  // The clients go first: the cluster goes down without their connections.
  void TearDown() override {
    replicas_.clear();
    ClusterTest::TearDown();
  }

  // Starts the cluster and connects a client to each replica.
  void UpAndConnect(int base_port) {
    ASSERT_NO_FATAL_FAILURE(Up(base_port));
    for (int k = 1; k <= kReplicas; ++k) {
      replicas_.push_back(Connect(k));
      ASSERT_NE(replicas_.back(), nullptr);
    }
  }

  Client& Replica(int k) { return *replicas_[k - 1]; }
  std::vector<Client*> AllReplicas() {
    std::vector<Client*> all;
    for (const auto& replica : replicas_) all.push_back(replica.get());
    return all;
  }

  // Waits until every replica's head is the same and at least `at_least`;
  // returns it (0 when they did not agree in time).
  uint64_t WaitForEqualHeads(uint64_t at_least) {
    uint64_t head = 0;
    const bool agreed = Eventually(
        [&] {
          head = Head(Replica(1));
          if (head < at_least) return false;
          for (int k = 2; k <= kReplicas; ++k) {
            if (Head(Replica(k)) != head) return false;
          }
          return true;
        },
        kConvergence);
    std::vector<std::string> heads;
    for (int k = 1; k <= kReplicas; ++k) {
      heads.push_back(absl::StrCat(Head(Replica(k))));
    }
    EXPECT_TRUE(agreed) << "heads " << absl::StrJoin(heads, ", ")
                        << ", wanted at least " << at_least;
    return agreed ? head : 0;
  }

  // What every replica must agree on once appends stopped: waits for equal
  // heads of at least the highest acknowledged position; then the same
  // events (every field, chain hash included) at the same positions on
  // every replica, no event id twice, every acknowledged event at its
  // acknowledged position, the same signed tree size and Merkle root, and
  // exports with the same records that each verify against its replica's
  // key. Returns replica 1's log.
  std::vector<v1::RecordedEvent> ExpectReplicasAgree(
      const std::map<std::string, uint64_t>& acknowledged) {
    uint64_t highest = 0;
    for (const auto& [id, position] : acknowledged) {
      highest = std::max(highest, position);
    }
    const uint64_t head = WaitForEqualHeads(highest);
    if (head == 0) return {};

    std::vector<std::vector<v1::RecordedEvent>> logs;
    for (int k = 1; k <= kReplicas; ++k) {
      absl::StatusOr<std::vector<v1::RecordedEvent>> log = ReadLog(Replica(k));
      EXPECT_TRUE(log.ok()) << "replica " << k << ": " << log.status();
      if (!log.ok()) return {};
      EXPECT_EQ(log->size(), head) << "replica " << k;
      logs.push_back(*std::move(log));
    }
    for (int k = 2; k <= kReplicas; ++k) {
      const auto& one = logs[0];
      const auto& other = logs[k - 1];
      for (size_t i = 0; i < std::min(one.size(), other.size()); ++i) {
        if (one[i].SerializeAsString() != other[i].SerializeAsString()) {
          ADD_FAILURE() << "replicas 1 and " << k << " differ at position "
                        << i + 1 << ":\n"
                        << one[i].DebugString() << "---\n"
                        << other[i].DebugString();
          break;
        }
      }
    }
    const std::vector<v1::RecordedEvent>& log = logs[0];
    std::map<std::string, uint64_t> positions;
    for (size_t i = 0; i < log.size(); ++i) {
      EXPECT_EQ(log[i].position(), i + 1);
      const auto [at, inserted] =
          positions.emplace(log[i].event().id(), log[i].position());
      EXPECT_TRUE(inserted) << log[i].event().id() << " recorded twice, at "
                            << at->second << " and " << log[i].position();
    }
    int missing = 0;
    for (const auto& [id, position] : acknowledged) {
      const auto found = positions.find(id);
      if (found == positions.end()) {
        if (++missing <= 5) ADD_FAILURE() << "acknowledged " << id << " at "
                                          << position << " is missing";
      } else {
        EXPECT_EQ(found->second, position) << id << " moved";
      }
    }
    EXPECT_EQ(missing, 0);

    std::vector<v1::SignedTreeHead> tree_heads;
    for (int k = 1; k <= kReplicas; ++k) {
      absl::StatusOr<v1::SignedTreeHead> tree_head = Replica(k).GetTreeHead();
      EXPECT_TRUE(tree_head.ok()) << "replica " << k << ": "
                                  << tree_head.status();
      if (!tree_head.ok()) return log;
      EXPECT_EQ(tree_head->tree_size(), head) << "replica " << k;
      tree_heads.push_back(*tree_head);
    }
    for (int k = 2; k <= kReplicas; ++k) {
      EXPECT_EQ(tree_heads[k - 1].root_hash(), tree_heads[0].root_hash())
          << "the Merkle roots of replicas 1 and " << k << " differ";
    }
    ExpectExportsAgree(head);
    return log;
  }

  // `annals export` from every replica: byte-identical files (the replicas
  // share deploy/cluster.sh's signing key, and a tree head is signed at
  // the time of its newest event), each verified by `annals verify`
  // against the public key its replica serves, which is the same key.
  void ExpectExportsAgree(uint64_t head) {
    std::vector<std::string> exports;
    std::vector<std::string> keys;
    for (int k = 1; k <= kReplicas; ++k) {
      const std::string file = Path(absl::StrCat("export-", k, ".jsonl"));
      const std::string key = Path(absl::StrCat("key-", k, ".pem"));
      const RunResult exported = Annals(k, {"export", "--to", file});
      ASSERT_EQ(exported.exit_code, 0) << "replica " << k << ": " << exported.err;
      const RunResult public_key = Annals(k, {"public-key"});
      ASSERT_EQ(public_key.exit_code, 0) << public_key.err;
      std::ofstream(key) << public_key.out;
      keys.push_back(public_key.out);
      const RunResult verified = Annals(k, {"verify", file, "--public-key", key});
      EXPECT_EQ(verified.exit_code, 0) << "replica " << k << ": " << verified.err;
      EXPECT_THAT(verified.out, StartsWith(absl::StrCat("OK: ", head, " positions")));
      exports.push_back(testing::ReadFileOrEmpty(file));
      EXPECT_EQ(Lines(exports.back()).size(), head + 2) << "replica " << k;
    }
    for (int k = 2; k <= kReplicas; ++k) {
      EXPECT_EQ(keys[k - 1], keys[0]) << "replica " << k << "'s public key";
      if (exports[k - 1] == exports[0]) continue;
      const std::vector<std::string> one = Lines(exports[0]);
      const std::vector<std::string> other = Lines(exports[k - 1]);
      size_t line = 0;
      while (line < std::min(one.size(), other.size()) && one[line] == other[line]) {
        ++line;
      }
      ADD_FAILURE() << "the exports of replicas 1 and " << k
                    << " differ from line " << line + 1 << ":\n"
                    << (line < one.size() ? one[line] : "(end)") << "\n"
                    << (line < other.size() ? other[line] : "(end)");
    }
  }

  std::vector<std::unique_ptr<Client>> replicas_;
};

// Writers on every replica race for the next version of one stream, each
// appending with the version it just read as the exact expected version.
// Every version is won by exactly one acknowledged append; every other
// append is refused with FAILED_PRECONDITION and recorded nowhere.
TEST_F(ClusterE2eTest, ExactExpectedVersionsRacingThroughAllReplicas) {
  ASSERT_NO_FATAL_FAILURE(UpAndConnect(kRacePorts));
  constexpr int kWritersPerReplica = 3;
  constexpr int kWinsPerWriter = 5;
  constexpr int kVersions = kReplicas * kWritersPerReplica * kWinsPerWriter;
  const std::string stream = "race";

  absl::Mutex mu;
  std::map<uint64_t, std::string> winners;  // version -> event id
  std::set<std::string> refused;
  std::vector<std::string> errors;
  int attempts = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(40);
  std::vector<std::thread> writers;
  for (int k = 1; k <= kReplicas; ++k) {
    for (int w = 0; w < kWritersPerReplica; ++w) {
      writers.emplace_back([&, k, w] {
        Client& replica = Replica(k);
        for (int wins = 0, attempt = 0; wins < kWinsPerWriter; ++attempt) {
          if (absl::Now() > deadline) {
            absl::MutexLock lock(&mu);
            errors.push_back(absl::StrCat("writer ", k, "-", w, " ran out of time"));
            return;
          }
          absl::StatusOr<uint64_t> version = StreamVersion(replica, stream);
          if (!version.ok()) {
            absl::MutexLock lock(&mu);
            errors.push_back(absl::StrCat("read on ", k, ": ",
                                          version.status().ToString()));
            return;
          }
          const std::string id = absl::StrCat("race-", k, "-", w, "-", attempt);
          v1::AppendRequest request;
          request.set_stream(stream);
          request.set_exact(*version);
          *request.add_events() = MakeMeeting(id);
          absl::StatusOr<v1::AppendResponse> appended = replica.Append(request);
          absl::MutexLock lock(&mu);
          ++attempts;
          if (appended.ok()) {
            ++wins;
            if (appended->stream_version() != *version + 1 ||
                appended->already_recorded()) {
              errors.push_back(absl::StrCat(id, " expected ", *version,
                                            " was answered ",
                                            appended->DebugString()));
            }
            const auto [at, inserted] =
                winners.emplace(appended->stream_version(), id);
            if (!inserted) {
              errors.push_back(absl::StrCat("version ",
                                            appended->stream_version(),
                                            " acknowledged to ", at->second,
                                            " and to ", id));
            }
          } else if (appended.status().code() ==
                     absl::StatusCode::kFailedPrecondition) {
            refused.insert(id);
          } else {
            errors.push_back(absl::StrCat(id, " through replica ", k, ": ",
                                          appended.status().ToString()));
          }
        }
      });
    }
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_THAT(errors, ::testing::IsEmpty());
  std::cout << attempts << " appends for " << kVersions << " versions, "
            << refused.size() << " refused\n";
  ASSERT_EQ(winners.size(), static_cast<size_t>(kVersions));
  EXPECT_EQ(winners.begin()->first, 1u);
  EXPECT_EQ(winners.rbegin()->first, static_cast<uint64_t>(kVersions));

  std::map<std::string, uint64_t> acknowledged;
  for (const auto& [version, id] : winners) acknowledged[id] = version;
  const std::vector<v1::RecordedEvent> log = ExpectReplicasAgree(acknowledged);
  ASSERT_EQ(log.size(), static_cast<size_t>(kVersions));
  for (const v1::RecordedEvent& recorded : log) {
    EXPECT_EQ(recorded.stream(), stream);
    EXPECT_EQ(recorded.event().id(), winners[recorded.stream_version()])
        << "version " << recorded.stream_version();
    EXPECT_FALSE(refused.contains(recorded.event().id()))
        << "refused " << recorded.event().id() << " is recorded";
  }
}

// A client that retries a batch through another replica (as after a
// timeout) gets the original positions back, marked already recorded, and
// the log holds the batch once. The same id with other content is refused.
TEST_F(ClusterE2eTest, BatchRetriedThroughOtherReplicasIsRecordedOnce) {
  ASSERT_NO_FATAL_FAILURE(UpAndConnect(kRetryPorts));
  v1::AppendRequest batch;
  batch.set_stream("retried");
  for (int i = 1; i <= 3; ++i) {
    *batch.add_events() = MakeMeeting(absl::StrCat("retried-", i));
  }
  absl::StatusOr<v1::AppendResponse> first = Replica(1).Append(batch);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->already_recorded());
  ASSERT_EQ(first->positions_size(), 3);
  for (int k = 2; k <= kReplicas; ++k) {
    absl::StatusOr<v1::AppendResponse> again = Replica(k).Append(batch);
    ASSERT_TRUE(again.ok()) << "replica " << k << ": " << again.status();
    EXPECT_TRUE(again->already_recorded()) << "replica " << k;
    EXPECT_THAT(again->positions(),
                ::testing::ElementsAreArray(first->positions()))
        << "replica " << k;
    EXPECT_EQ(again->stream_version(), first->stream_version());
  }
  v1::AppendRequest changed;
  changed.set_stream("retried");
  *changed.add_events() = MakeMeeting("retried-2", "USA", "PRK");
  absl::StatusOr<v1::AppendResponse> conflicting = Replica(3).Append(changed);
  EXPECT_EQ(conflicting.status().code(), absl::StatusCode::kAlreadyExists)
      << conflicting.status();

  // Retried through a replica that restarted since (inside JetStream's
  // dedupe window, which drops the message, so the restarted replica has
  // no answer of its own to give): the writer decides the retry again.
  ASSERT_NO_FATAL_FAILURE(Stop("annalsd-1"));
  ASSERT_NO_FATAL_FAILURE(Start("annalsd-1"));
  absl::StatusOr<v1::AppendResponse> after = Replica(1).Append(batch);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->already_recorded());
  EXPECT_THAT(after->positions(),
              ::testing::ElementsAreArray(first->positions()));

  std::map<std::string, uint64_t> acknowledged;
  for (int i = 0; i < 3; ++i) {
    acknowledged[batch.events(i).id()] = first->positions(i);
  }
  EXPECT_EQ(ExpectReplicasAgree(acknowledged).size(), 3u);
}

// kill -9 of the NATS node that leads the stream while a writer appends
// through all replicas: appends go on with two nodes of three, the node
// comes back, and no acknowledged event is lost, moved or doubled on any
// replica.
TEST_F(ClusterE2eTest, NatsStreamLeaderKilledUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(UpAndConnect(kNatsKillPorts));
  // Asked before the load: the replicas created the stream on start, and
  // nothing moves its leader until the kill.
  std::string leader = StreamLeader();
  EXPECT_NE(leader, "") << "no NATS node leads the stream ANNALS";
  if (leader.empty()) leader = "nats-1";
  SteadyWriter writer(AllReplicas(), "steady");
  ASSERT_TRUE(writer.WaitForMore(50)) << writer.Errors();
  ASSERT_NO_FATAL_FAILURE(Stop(leader, /*kill=*/true));
  EXPECT_TRUE(writer.WaitForMore(50)) << "no progress with " << leader
                                      << " down: " << writer.Errors();
  ASSERT_NO_FATAL_FAILURE(Start(leader));
  EXPECT_TRUE(writer.WaitForMore(50)) << "no progress after " << leader
                                      << " came back: " << writer.Errors();
  writer.Stop();
  std::cout << writer.Summary() << "\n";
  EXPECT_FALSE(writer.moved());
  ExpectReplicasAgree(writer.Acknowledged());
}

// kill -9 of a replica while a writer appends through all three (its
// appends to the dead one fail and go to the next): the replica restarts
// over its data directory, catches up, and holds exactly what the others
// hold.
TEST_F(ClusterE2eTest, ReplicaKilledUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(UpAndConnect(kReplicaKillPorts));
  SteadyWriter writer(AllReplicas(), "steady");
  ASSERT_TRUE(writer.WaitForMore(50)) << writer.Errors();
  ASSERT_NO_FATAL_FAILURE(Stop("annalsd-2", /*kill=*/true));
  EXPECT_TRUE(writer.WaitForMore(50)) << "no progress with annalsd-2 down: "
                                      << writer.Errors();
  ASSERT_NO_FATAL_FAILURE(Start("annalsd-2"));
  EXPECT_TRUE(writer.WaitForMore(50)) << "no progress after annalsd-2 came back: "
                                      << writer.Errors();
  writer.Stop();
  std::cout << writer.Summary() << "\n";
  EXPECT_FALSE(writer.moved());
  ExpectReplicasAgree(writer.Acknowledged());
}

// A subscription on replica 3 receives what is appended on replica 1, in
// position order with no gap and no duplicate, while replica 1 restarts
// and then a NATS node restarts.
TEST_F(ClusterE2eTest, SubscriptionOnOneReplicaFollowsAppendsOnAnother) {
  ASSERT_NO_FATAL_FAILURE(UpAndConnect(kFollowPorts));
  Follower follower(Replica(3));
  SteadyWriter writer({&Replica(1)}, "followed");
  ASSERT_TRUE(writer.WaitForMore(30)) << writer.Errors();
  ASSERT_NO_FATAL_FAILURE(Stop("annalsd-1"));
  ASSERT_NO_FATAL_FAILURE(Start("annalsd-1"));
  EXPECT_TRUE(writer.WaitForMore(30)) << writer.Errors();
  ASSERT_NO_FATAL_FAILURE(Stop("nats-2", /*kill=*/true));
  ASSERT_NO_FATAL_FAILURE(Start("nats-2"));
  EXPECT_TRUE(writer.WaitForMore(30)) << writer.Errors();
  writer.Stop();
  const std::map<std::string, uint64_t> acknowledged = writer.Acknowledged();

  const uint64_t head = WaitForEqualHeads(0);
  ASSERT_TRUE(Eventually([&] { return follower.last_position() >= head; },
                         kConvergence))
      << "the subscription reached " << follower.last_position() << " of "
      << head;
  follower.Stop();
  const std::vector<v1::RecordedEvent> events = follower.Events();
  std::map<std::string, uint64_t> delivered;
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].position(), i + 1) << "a gap or a repeat";
    delivered[events[i].event().id()] = events[i].position();
  }
  for (const auto& [id, position] : acknowledged) {
    EXPECT_EQ(delivered[id], position) << id;
  }
  std::cout << events.size() << " events followed, the subscription resumed "
            << follower.resumed() << " times; appends: " << writer.Summary()
            << "\n";
}

// A fourth replica started over an empty data directory with the same
// --nats materializes the whole log: the same head and Merkle root as the
// others, says so in its log (replica_caught_up), and serves appends that
// the others see.
TEST_F(ClusterE2eTest, FreshReplicaCatchesUp) {
  ASSERT_NO_FATAL_FAILURE(UpAndConnect(kFreshReplicaPorts));
  const RunResult imported = Annals(1, {"import", SEED_FILE});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  for (int i = 0; i < 5; ++i) {
    v1::AppendRequest request;
    *request.add_events() = MakeMeeting(absl::StrCat("late-", i));
    ASSERT_TRUE(Replica(2).Append(request).ok());
  }
  const uint64_t head = WaitForEqualHeads(94);
  ASSERT_EQ(head, 94u);

  const std::string fourth_dir = Path("replica-4");
  std::filesystem::create_directories(fourth_dir);
  const testing::StartedServer fourth = testing::StartAnnalsd(
      ANNALSD_PATH, fourth_dir,
      {"--nats", NatsUrls(), "--log-format", "json", "--signing-key",
       ClusterDir() + "/signing_key.pem"},
      absl::StrCat("127.0.0.1:", kFreshReplicaPorts + 33));
  struct Stopper {
    pid_t pid;
    ~Stopper() {
      if (pid > 0) {
        kill(pid, SIGTERM);
        testing::WaitExit(pid);
      }
    }
  } stopper{fourth.pid};
  ASSERT_EQ(fourth.error, "");
  std::unique_ptr<Client> replica4 = ConnectTo(fourth.address);
  ASSERT_NE(replica4, nullptr);
  EXPECT_TRUE(Eventually([&] { return Head(*replica4) == head; }, kConvergence))
      << "the fourth replica is at " << Head(*replica4) << " of " << head;
  EXPECT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::string> health = replica4->Health();
        return health.ok() && *health == "SERVING";
      },
      kConvergence));
  absl::StatusOr<v1::SignedTreeHead> theirs = Replica(1).GetTreeHead();
  absl::StatusOr<v1::SignedTreeHead> its = replica4->GetTreeHead();
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  ASSERT_TRUE(its.ok()) << its.status();
  EXPECT_EQ(its->tree_size(), head);
  EXPECT_EQ(its->root_hash(), theirs->root_hash());
  // With the cluster's key, the very same signed bytes.
  EXPECT_EQ(its->SerializeAsString(), theirs->SerializeAsString());

  std::string caught_up;
  EXPECT_TRUE(Eventually([&] {
    for (const std::string& line :
         Lines(testing::ReadFileOrEmpty(fourth_dir + "/annalsd.log"))) {
      if (line.find("\"event\":\"replica_caught_up\"") != std::string::npos) {
        caught_up = line;
        return true;
      }
    }
    return false;
  })) << testing::ReadFileOrEmpty(fourth_dir + "/annalsd.log");
  std::smatch position;
  ASSERT_TRUE(std::regex_search(caught_up, position,
                                std::regex("\"position\":([0-9]+)")))
      << caught_up;
  EXPECT_EQ(position[1].str(), absl::StrCat(head)) << caught_up;
  EXPECT_THAT(caught_up, HasSubstr("\"sequence\":"));

  // It is a replica like the others: what it appends, they hold.
  v1::AppendRequest request;
  *request.add_events() = MakeMeeting("from-the-fourth");
  absl::StatusOr<v1::AppendResponse> appended = replica4->Append(request);
  ASSERT_TRUE(appended.ok()) << appended.status();
  ExpectReplicasAgree({{"from-the-fourth", appended->positions(0)}});
}

}  // namespace
}  // namespace annals
