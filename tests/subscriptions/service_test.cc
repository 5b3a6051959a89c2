// The Subscriptions service over a real RocksDB log and a real socket:
// catch-up then live with no gap and no duplicate, filters, falling behind,
// cancellation, shutdown, many subscribers on few threads, and
// WatchRelationship.
//
// A socket on port 0 rather than the in-process channel: these streams race
// the server's shutdown and the clients' cancellation, which gRPC 1.51's
// in-process transport does not survive.
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "annals/v1/relationship.pb.h"
#include "annals/v1/subscription.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/event_kind.h"
#include "proto/rpc_status.h"
#include "proto/subscribe_position.h"
#include "services/model/projection.h"
#include "services/relationships/projector.h"
#include "services/server/server.h"
#include "services/subscriptions/hub.h"
#include "storage/event_log.h"
#include "storage/projector.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::MakeMeeting;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Threads of this process.
int CountThreads() {
  int count = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

// Waits up to `timeout` for `done`; true when it held.
template <typename Predicate>
bool Eventually(Predicate done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const rpc::FieldViolation& v : rpc::FieldViolations(status)) {
    fields.push_back(v.field);
  }
  return fields;
}

// The filter semantics of subscription.proto, written again independently
// of the server's (services/subscriptions/filter.cc), with DyadsOf for dyads.
bool ExpectedMatch(const v1::SubscriptionFilter& filter,
                   const v1::RecordedEvent& recorded) {
  const v1::Event& event = recorded.event();
  if (!filter.stream().empty() && recorded.stream() != filter.stream()) {
    return false;
  }
  if (!filter.dyad().empty()) {
    const std::vector<std::string> dyads = services::DyadsOf(event);
    if (std::find(dyads.begin(), dyads.end(), filter.dyad()) == dyads.end()) {
      return false;
    }
  }
  if (!filter.actor().empty()) {
    const auto& s = event.source();
    const auto& t = event.target();
    if (std::find(s.begin(), s.end(), filter.actor()) == s.end() &&
        std::find(t.begin(), t.end(), filter.actor()) == t.end()) {
      return false;
    }
  }
  if (filter.kinds_size() > 0 &&
      std::find(filter.kinds().begin(), filter.kinds().end(),
                std::string(KindName(event))) == filter.kinds().end()) {
    return false;
  }
  if (filter.tags_size() > 0) {
    bool any = false;
    for (const std::string& tag : event.tags()) {
      any = any || std::find(filter.tags().begin(), filter.tags().end(),
                             tag) != filter.tags().end();
    }
    if (!any) return false;
  }
  return true;
}

// A varied event: actors, kind and tags chosen by `n`.
v1::Event VariedEvent(const std::string& id, int n) {
  static const char* const kActors[] = {"JPN", "PRK", "USA", "KOR", "RUS"};
  const std::string source = kActors[n % 5];
  const std::string target = kActors[(n % 5 + 1 + (n / 5) % 4) % 5];
  v1::Event event = MakeMeeting(id, source, target);
  if (n % 3 == 0) {
    event.clear_meeting();
    v1::Statement* statement = event.mutable_statement();
    statement->set_speaker("A spokesperson");
    statement->set_channel("press conference");
    statement->set_stance(v1::Statement::STANCE_CRITICAL);
    statement->set_quote("We object.");
  }
  event.clear_tags();
  event.add_tags(n % 2 == 0 ? "abductions" : "denuclearization");
  return event;
}

// Reads a subscription on its own thread (the blocking API), recording
// every message, until the call ends or the test cancels it.
class Subscriber {
 public:
  Subscriber(v1::Subscriptions::Stub* stub, const v1::SubscribeRequest& request)
      : request_(request) {
    reader_ = stub->Subscribe(&context_, request_);
    thread_ = std::thread([this] {
      v1::SubscribeResponse message;
      while (reader_->Read(&message)) {
        absl::MutexLock lock(&mu_);
        messages_.push_back(message);
        reached_ = std::max(reached_, PositionOf(message));
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = rpc::FromGrpcStatus(status);
      done_ = true;
    });
  }
  ~Subscriber() {
    Cancel();
    thread_.join();
  }

  void Cancel() { context_.TryCancel(); }

  // Waits until a message says position `position` was reached.
  bool WaitReached(uint64_t position, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return reached_ >= position || done_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout) &&
           reached_ >= position;
  }
  bool WaitCaughtUp(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto caught_up = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& m : messages_) {
        if (m.has_caught_up()) return true;
      }
      return done_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&caught_up), timeout) && !done_;
  }
  bool WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }

  std::vector<v1::SubscribeResponse> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  const v1::SubscribeRequest& request() const { return request_; }

 private:
  const v1::SubscribeRequest request_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::SubscribeResponse> messages_ ABSL_GUARDED_BY(mu_);
  uint64_t reached_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

class SubscriptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("subscription_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()
                            ->current_test_info()
                            ->name());
    std::filesystem::remove_all(dir_);
  }

  // Opens the log and starts the server; tests may change options_,
  // admission_ and projector_ first.
  void Start() {
    hub_ = std::make_unique<services::SubscriptionHub>(options_);
    storage::LogOptions log_options;
    log_options.sync = false;  // nothing here is about durability
    log_options.on_commit = hub_->CommitListener();
    log_options.projector = projector_;
    auto log = storage::OpenRocksEventLog(dir_.string(), log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    services::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.admission = admission_;
    auto server = services::Server::Start(server_options, log_.get(), hub_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = NewChannel();
    stub_ = v1::Subscriptions::NewStub(channel_);
  }

  std::shared_ptr<grpc::Channel> NewChannel(
      grpc::ChannelArguments args = grpc::ChannelArguments()) {
    return grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()),
        grpc::InsecureChannelCredentials(), args);
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    log_.reset();
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Appends `count` varied events, `per_batch` at a time, with ids
  // "<prefix>-<i>"; returns the head after them.
  uint64_t AppendVaried(const std::string& prefix, int count,
                        int per_batch = 1, int seed = 0) {
    uint64_t head = 0;
    for (int i = 0; i < count; i += per_batch) {
      storage::AppendBatch batch;
      for (int k = i; k < std::min(count, i + per_batch); ++k) {
        batch.events.push_back(
            VariedEvent(absl::StrCat(prefix, "-", k), k * 7 + seed));
      }
      batch.stream = "s" + std::to_string((i + seed) % 4);
      batch.principal = "test";
      auto result = log_->Append(std::move(batch));
      EXPECT_TRUE(result.ok()) << result.status();
      if (result.ok()) head = result->head;
    }
    return head;
  }

  // Every recorded event from `from` to `to` inclusive.
  std::vector<v1::RecordedEvent> ReadRange(uint64_t from, uint64_t to) {
    std::vector<v1::RecordedEvent> events;
    while (from <= to) {
      auto page = log_->ReadAll(from, storage::Direction::kForward, 1000);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok() || page->events.empty()) break;
      for (auto& e : page->events) {
        if (e.position() <= to) events.push_back(std::move(e));
      }
      from = page->next;
    }
    return events;
  }

  std::unique_ptr<Subscriber> Subscribe(const v1::SubscribeRequest& request) {
    return std::make_unique<Subscriber>(stub_.get(), request);
  }

  // Checks `messages` against the log: the events are exactly those of
  // positions [from, to] that match `filter`, in order, once each, with
  // their stored content; every message's position is at least the one
  // before it; the last reached `to`. With `per_message` above 1 events
  // come only in batches of 1 ... per_message; else only one per message.
  void ExpectExactly(const std::vector<v1::SubscribeResponse>& messages,
                     uint64_t from, uint64_t to,
                     const v1::SubscriptionFilter& filter,
                     const std::string& label, uint32_t per_message = 0) {
    std::vector<uint64_t> expected;
    std::map<uint64_t, std::string> stored;
    for (const v1::RecordedEvent& e : ReadRange(from, to)) {
      if (ExpectedMatch(filter, e)) expected.push_back(e.position());
      stored[e.position()] = e.SerializeAsString();
    }
    std::vector<uint64_t> got;
    uint64_t reached = from - 1;
    for (const v1::SubscribeResponse& m : messages) {
      const uint64_t position = PositionOf(m);
      ASSERT_GE(position, reached) << label << ": went back";
      std::vector<const v1::RecordedEvent*> events;
      if (m.has_event()) {
        ASSERT_LE(per_message, 1u) << label << ": a single event";
        events.push_back(&m.event());
      }
      if (m.has_events()) {
        ASSERT_GT(per_message, 1u) << label << ": a batch";
        ASSERT_GE(m.events().events_size(), 1) << label;
        ASSERT_LE(m.events().events_size(), static_cast<int>(per_message))
            << label;
        for (const v1::RecordedEvent& e : m.events().events()) {
          events.push_back(&e);
        }
      }
      for (const v1::RecordedEvent* e : events) {
        ASSERT_GT(e->position(), reached)
            << label << ": repeated " << e->position();
        reached = e->position();
        if (reached > to) continue;
        got.push_back(reached);
        // Exactly the event as the log reads it, hash included.
        EXPECT_EQ(e->SerializeAsString(), stored[reached])
            << label << " at " << reached;
      }
      reached = position;
    }
    EXPECT_GE(reached, to) << label;
    EXPECT_EQ(got, expected) << label;
  }

  services::SubscriptionOptions options_;
  services::AdmissionOptions admission_;
  storage::Projector* projector_ = nullptr;
  std::filesystem::path dir_;
  std::unique_ptr<services::SubscriptionHub> hub_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<services::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Subscriptions::Stub> stub_;
};

v1::SubscribeRequest FromPosition(uint64_t position) {
  v1::SubscribeRequest request;
  request.set_from_position(position);
  return request;
}
v1::SubscribeRequest FromStart() {
  v1::SubscribeRequest request;
  request.mutable_from_start();
  return request;
}
v1::SubscribeRequest FromNow() {
  v1::SubscribeRequest request;
  request.mutable_from_now();
  return request;
}

TEST_F(SubscriptionTest, CatchesUpThenDeliversLiveEventsInOrder) {
  Start();
  const uint64_t before = AppendVaried("old", 30);
  auto subscriber = Subscribe(FromStart());
  ASSERT_TRUE(subscriber->WaitCaughtUp(absl::Seconds(10)));
  const uint64_t head = AppendVaried("new", 10);
  ASSERT_TRUE(subscriber->WaitReached(head, absl::Seconds(10)));

  std::vector<v1::SubscribeResponse> messages = subscriber->messages();
  ExpectExactly(messages, 1, head, {}, "from start");
  // 30 stored events, caught up at 30, then the 10 live ones.
  ASSERT_EQ(messages.size(), 41u);
  EXPECT_TRUE(messages[30].has_caught_up());
  EXPECT_EQ(messages[30].caught_up().position(), before);
  EXPECT_EQ(messages[31].event().event().id(), "new-0");
}

TEST_F(SubscriptionTest, FromNowSaysCaughtUpAtTheHeadAndSeesOnlyNewEvents) {
  Start();
  const uint64_t before = AppendVaried("old", 5);
  auto subscriber = Subscribe(FromNow());
  ASSERT_TRUE(subscriber->WaitCaughtUp(absl::Seconds(10)));
  const uint64_t head = AppendVaried("new", 3);
  ASSERT_TRUE(subscriber->WaitReached(head, absl::Seconds(10)));
  std::vector<v1::SubscribeResponse> messages = subscriber->messages();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].caught_up().position(), before);
  ExpectExactly(messages, before + 1, head, {}, "from now");
}

TEST_F(SubscriptionTest, FromPositionStartsThereInclusive) {
  Start();
  const uint64_t head = AppendVaried("e", 20);
  auto subscriber = Subscribe(FromPosition(15));
  ASSERT_TRUE(subscriber->WaitCaughtUp(absl::Seconds(10)));
  std::vector<v1::SubscribeResponse> messages = subscriber->messages();
  ExpectExactly(messages, 15, head, {}, "from 15");
  EXPECT_EQ(messages.front().event().position(), 15u);
  // From the head plus one: nothing yet, caught up at the head.
  auto at_end = Subscribe(FromPosition(head + 1));
  ASSERT_TRUE(at_end->WaitCaughtUp(absl::Seconds(10)));
  EXPECT_EQ(at_end->messages().front().caught_up().position(), head);
}

// The property: writers append while subscribers start at random positions
// with random filters; each receives exactly the matching positions from
// its start to the head, in order, once each.
TEST_F(SubscriptionTest, RandomStartsAndFiltersWhileWritersAppend) {
  options_.window_events = 64;  // live and storage paths both get used
  options_.read_page_events = 16;
  options_.checkpoint_interval = absl::ZeroDuration();
  Start();
  AppendVaried("pre", 100, 3);

  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  std::vector<v1::SubscriptionFilter> filters(7);
  filters[1].set_dyad("JPN-PRK");
  filters[2].set_actor("USA");
  filters[3].add_kinds("statement");
  filters[4].set_stream("s2");
  filters[5].add_tags("abductions");
  filters[5].add_kinds("meeting");
  filters[6].set_dyad("PRK-KOR");  // unsorted: the server sorts it

  constexpr int kWriters = 4;
  constexpr int kPerWriter = 150;
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      while (!go) std::this_thread::yield();
      AppendVaried(absl::StrCat("w", w), kPerWriter, 1 + w % 3, w);
    });
  }
  struct Started {
    std::unique_ptr<Subscriber> subscriber;
    uint64_t from;  // 0: from now, unknown
    uint64_t head_before;
    v1::SubscriptionFilter filter;
    uint32_t per_message;
  };
  std::vector<Started> started;
  go = true;
  for (int i = 0; i < 12; ++i) {
    const uint64_t head = log_->GetHead().position;
    v1::SubscribeRequest request;
    uint64_t from = 0;
    switch (random() % 3) {
      case 0:
        from = 1 + random() % (head + 1);
        request.set_from_position(from);
        break;
      case 1:
        from = 1;
        request.mutable_from_start();
        break;
      default:
        request.mutable_from_now();
        break;
    }
    v1::SubscriptionFilter filter = filters[random() % filters.size()];
    *request.mutable_filter() = filter;
    if (filter.dyad() == "PRK-KOR") filter.set_dyad("KOR-PRK");
    // Half of them in batches (of at most 3 events, or as many as ready).
    const uint32_t per_message = i % 2 == 0 ? 0 : i % 4 == 1 ? 3 : 1000;
    request.set_max_events_per_message(per_message);
    started.push_back({Subscribe(request), from, head, filter, per_message});
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 20));
  }
  for (auto& t : writers) t.join();
  const uint64_t head = log_->GetHead().position;
  ASSERT_EQ(head, 100u + kWriters * kPerWriter);

  for (size_t i = 0; i < started.size(); ++i) {
    Started& s = started[i];
    const std::string label = absl::StrCat(
        "subscriber ", i, " from ", s.from, " filter {",
        s.filter.ShortDebugString(), "} per message ", s.per_message);
    ASSERT_TRUE(s.subscriber->WaitReached(head, absl::Seconds(20))) << label;
    std::vector<v1::SubscribeResponse> messages = s.subscriber->messages();
    uint64_t from = s.from;
    if (from == 0) {
      // From now: it started at some head after head_before; the first
      // message marks it (an event at it, or a position reached before it).
      ASSERT_FALSE(messages.empty());
      const v1::SubscribeResponse& first = messages.front();
      from = first.has_event()    ? first.event().position()
             : first.has_events() ? first.events().events(0).position()
                                  : PositionOf(first) + 1;
      ASSERT_GT(from, s.head_before) << label;
    }
    ExpectExactly(messages, from, head, s.filter, label, s.per_message);
  }
}

TEST_F(SubscriptionTest, BatchesCarryUpToTheRequestedEventsEachPositionOnce) {
  options_.read_page_events = 100;
  Start();
  const uint64_t stored = AppendVaried("old", 500, 50);
  v1::SubscribeRequest request = FromStart();
  request.set_max_events_per_message(64);
  auto batched = Subscribe(request);
  auto single = Subscribe(FromStart());
  ASSERT_TRUE(batched->WaitCaughtUp(absl::Seconds(20)));
  // Live: a commit of several events.
  const uint64_t head = AppendVaried("new", 30, 10);
  ASSERT_TRUE(batched->WaitReached(head, absl::Seconds(20)));
  ASSERT_TRUE(single->WaitReached(head, absl::Seconds(20)));
  ExpectExactly(batched->messages(), 1, head, {}, "batched", 64);
  ExpectExactly(single->messages(), 1, head, {}, "single");

  // Catching up, a message takes as many events as allowed.
  size_t largest = 0;
  size_t messages_to_stored = 0;
  for (const v1::SubscribeResponse& m : batched->messages()) {
    largest = std::max(largest, static_cast<size_t>(m.events().events_size()));
    if (PositionOf(m) <= stored && m.has_events()) ++messages_to_stored;
  }
  EXPECT_EQ(largest, 64u);
  EXPECT_LE(messages_to_stored, 500u / 64 + 8);
}

TEST_F(SubscriptionTest, FilterSendsCheckpointsWhileItDropsEvents) {
  options_.checkpoint_positions = 10;
  options_.read_page_events = 4;
  Start();
  AppendVaried("e", 50);
  v1::SubscribeRequest request = FromStart();
  request.mutable_filter()->set_stream("no-such-stream");
  auto subscriber = Subscribe(request);
  ASSERT_TRUE(subscriber->WaitCaughtUp(absl::Seconds(10)));
  std::vector<uint64_t> checkpoints;
  for (const auto& m : subscriber->messages()) {
    ASSERT_FALSE(m.has_event());
    if (m.has_checkpoint()) checkpoints.push_back(m.checkpoint().position());
  }
  // Every 10 positions passed at the latest (reads of 4: at 12, 24, ...).
  ASSERT_GE(checkpoints.size(), 4u);
  uint64_t previous = 0;
  for (uint64_t c : checkpoints) {
    EXPECT_LE(c - previous, 12u);
    previous = c;
  }
}

// A consumer that stops reading while the log moves on past the live
// window is told it fell behind, reads from storage, catches up again, and
// still gets every event exactly once.
TEST_F(SubscriptionTest, SlowSubscriberFallsBehindAndStillGetsEverythingOnce) {
  options_.window_events = 16;
  options_.read_page_events = 8;
  Start();
  // A client that buffers little: no BDP probing, a small stream window.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 * 1024);
  auto stub = v1::Subscriptions::NewStub(NewChannel(args));
  grpc::ClientContext context;
  auto reader = stub->Subscribe(&context, FromNow());
  v1::SubscribeResponse message;
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_TRUE(message.has_caught_up());
  const uint64_t start = message.caught_up().position() + 1;

  // Not reading while 600 events (some 200 KiB) are committed.
  const uint64_t head = AppendVaried("burst", 600, 5);
  std::vector<v1::SubscribeResponse> messages;
  int fell_behind = 0;
  int caught_up = 0;
  while (reader->Read(&message)) {
    fell_behind += message.has_fell_behind();
    caught_up += message.has_caught_up();
    messages.push_back(message);
    if (PositionOf(message) >= head && caught_up > 0) break;
  }
  EXPECT_GE(fell_behind, 1);
  EXPECT_GE(caught_up, 1);
  ExpectExactly(messages, start, head, {}, "slow subscriber");
  context.TryCancel();
  reader->Finish();
}

TEST_F(SubscriptionTest, CancelledSubscriptionsFreeTheirResourcesAtOnce) {
  options_.read_page_events = 4;
  Start();
  AppendVaried("e", 40);
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < 20; ++i) {
    // Live ones waiting for a commit, and catching-up ones.
    subscribers.push_back(Subscribe(i % 2 == 0 ? FromNow() : FromStart()));
  }
  for (auto& s : subscribers) ASSERT_TRUE(s->WaitCaughtUp(absl::Seconds(10)));
  EXPECT_EQ(hub_->subscriptions(), 20u);
  for (auto& s : subscribers) s->Cancel();
  // Without any further commit to wake them.
  EXPECT_TRUE(Eventually([&] { return hub_->subscriptions() == 0; }))
      << hub_->subscriptions() << " left";
  for (auto& s : subscribers) {
    ASSERT_TRUE(s->WaitDone(absl::Seconds(10)));
    EXPECT_THAT(s->status(), testing::StatusIs(absl::StatusCode::kCancelled));
  }
}

TEST_F(SubscriptionTest, ShutdownEndsOpenSubscriptionsWithinItsDeadline) {
  Start();
  AppendVaried("e", 20);
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < 10; ++i) subscribers.push_back(Subscribe(FromStart()));
  for (auto& s : subscribers) ASSERT_TRUE(s->WaitCaughtUp(absl::Seconds(10)));
  // One more that never reads, with the log moving past it.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 * 1024);
  auto stub = v1::Subscriptions::NewStub(NewChannel(args));
  grpc::ClientContext stuck_context;
  auto stuck = stub->Subscribe(&stuck_context, FromStart());
  AppendVaried("more", 300, 10);

  const absl::Duration deadline = absl::Milliseconds(500);
  const absl::Time begin = absl::Now();
  server_->Shutdown(deadline);
  const absl::Duration took = absl::Now() - begin;
  EXPECT_LT(took, deadline + absl::Seconds(1));
  EXPECT_EQ(hub_->subscriptions(), 0u);
  for (auto& s : subscribers) {
    ASSERT_TRUE(s->WaitDone(absl::Seconds(5)));
    EXPECT_THAT(s->status(), testing::StatusIs(absl::StatusCode::kUnavailable));
  }
  // New subscriptions are refused (the server no longer listens).
  stuck_context.TryCancel();
  v1::SubscribeResponse ignored;
  while (stuck->Read(&ignored)) {
  }
  stuck->Finish();
}

// Many subscribers on gRPC's callback API, client and server in this
// process: a handful of threads, not one per subscriber.
class CallbackSubscriber : public grpc::ClientReadReactor<v1::SubscribeResponse> {
 public:
  CallbackSubscriber(v1::Subscriptions::Stub* stub,
                     const v1::SubscribeRequest& request)
      : request_(request) {
    stub->async()->Subscribe(&context_, &request_, this);
    StartRead(&message_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      absl::MutexLock lock(&mu_);
      caught_up_ = caught_up_ || message_.has_caught_up();
      if (message_.has_event()) positions_.push_back(message_.event().position());
    }
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  void Cancel() { context_.TryCancel(); }
  bool caught_up() {
    absl::MutexLock lock(&mu_);
    return caught_up_;
  }
  std::vector<uint64_t> positions() {
    absl::MutexLock lock(&mu_);
    return positions_;
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }

 private:
  const v1::SubscribeRequest request_;
  grpc::ClientContext context_;
  v1::SubscribeResponse message_;
  absl::Mutex mu_;
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> positions_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SubscriptionTest, AThousandSubscribersOnABoundedNumberOfThreads) {
  admission_.max_streams_per_connection = 1000;  // all on one connection
  Start();
  const uint64_t before = AppendVaried("old", 5);
  const int threads_before = CountThreads();
  constexpr int kSubscribers = 1000;
  std::vector<std::unique_ptr<CallbackSubscriber>> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    subscribers.push_back(
        std::make_unique<CallbackSubscriber>(stub_.get(), FromNow()));
  }
  ASSERT_TRUE(Eventually(
      [&] {
        return std::all_of(subscribers.begin(), subscribers.end(),
                           [](auto& s) { return s->caught_up(); });
      },
      absl::Seconds(30)));
  EXPECT_EQ(hub_->subscriptions(), static_cast<size_t>(kSubscribers));
  const uint64_t head = AppendVaried("new", 10, 2);
  ASSERT_TRUE(Eventually(
      [&] {
        return std::all_of(subscribers.begin(), subscribers.end(), [&](auto& s) {
          return s->positions().size() == head - before;
        });
      },
      absl::Seconds(30)));
  const int threads_during = CountThreads();
  std::vector<uint64_t> expected;
  for (uint64_t p = before + 1; p <= head; ++p) expected.push_back(p);
  for (auto& s : subscribers) ASSERT_EQ(s->positions(), expected);

  // Client and server together: far fewer threads than subscribers.
  EXPECT_LE(threads_during - threads_before, 32)
      << threads_before << " threads before, " << threads_during << " with "
      << kSubscribers << " subscribers";

  for (auto& s : subscribers) s->Cancel();
  ASSERT_TRUE(Eventually([&] {
    return std::all_of(subscribers.begin(), subscribers.end(),
                       [](auto& s) { return s->done(); });
  }));
  EXPECT_TRUE(Eventually([&] { return hub_->subscriptions() == 0; }));
}

TEST_F(SubscriptionTest, BadRequestsNameTheirFields) {
  Start();
  AppendVaried("e", 3);
  auto error_of = [&](const v1::SubscribeRequest& request) {
    grpc::ClientContext context;
    auto reader = stub_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    EXPECT_FALSE(reader->Read(&message));
    return rpc::FromGrpcStatus(reader->Finish());
  };
  v1::SubscribeRequest request = FromStart();
  v1::SubscriptionFilter* filter = request.mutable_filter();
  filter->set_dyad("JPN-XXX");
  filter->set_actor("ZZZ");
  filter->add_kinds("meeting");
  filter->add_kinds("summit");
  filter->set_stream("bad stream");
  filter->add_tags("Human Rights");
  absl::Status status = error_of(request);
  EXPECT_THAT(status, testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ViolatedFields(status),
              ElementsAre("filter.stream", "filter.dyad", "filter.actor",
                          "filter.kinds[1]", "filter.tags[0]"));

  for (const char* dyad : {"JPN", "JPN-PRK-USA", "JPN-JPN", "jpn-prk"}) {
    v1::SubscribeRequest bad = FromStart();
    bad.mutable_filter()->set_dyad(dyad);
    EXPECT_THAT(ViolatedFields(error_of(bad)), ElementsAre("filter.dyad"))
        << dyad;
  }
  EXPECT_THAT(ViolatedFields(error_of(FromPosition(0))),
              ElementsAre("from_position"));
  EXPECT_THAT(error_of(FromPosition(5)),
              testing::StatusIs(absl::StatusCode::kOutOfRange,
                                HasSubstr("head 3")));

  // Subscribe is served raw: bytes that are no request are refused.
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  const std::string garbage = "\x0a\xff\xff\xff";  // a length past the end
  grpc::Slice slice(garbage.data(), garbage.size());
  auto call = generic.PrepareCall(&context, "/annals.v1.Subscriptions/Subscribe",
                                  &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::ByteBuffer request_bytes(&slice, 1);
  call->WriteLast(request_bytes, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::ByteBuffer answer;
  call->Read(&answer, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_FALSE(ok) << "no message answers bytes that are no request";
  grpc::Status raw_status;
  call->Finish(&raw_status, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(raw_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << raw_status.error_message();
  EXPECT_THAT(raw_status.error_message(), HasSubstr("SubscribeRequest"));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(SubscriptionTest, TooManySubscriptionsAreRefused) {
  options_.max_subscriptions = 2;
  Start();
  auto a = Subscribe(FromNow());
  auto b = Subscribe(FromNow());
  ASSERT_TRUE(a->WaitCaughtUp(absl::Seconds(10)));
  ASSERT_TRUE(b->WaitCaughtUp(absl::Seconds(10)));
  auto c = Subscribe(FromNow());
  ASSERT_TRUE(c->WaitDone(absl::Seconds(10)));
  EXPECT_THAT(c->status(),
              testing::StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(rpc::RetryDelay(c->status()), absl::Seconds(1));
}

// A stand-in for the relationship projection: per dyad of each event, a
// state counting its events.
class CountingProjector : public storage::Projector {
 public:
  std::string Version() const override { return "counting/1"; }
  absl::Status Project(const std::vector<const v1::RecordedEvent*>& events,
                       storage::ProjectionContext* context) override {
    for (const v1::RecordedEvent* e : events) {
      for (const std::string& dyad : services::DyadsOf(e->event())) {
        v1::RelationshipState state;
        auto stored =
            context->Get(storage::ProjectionFamily::kRelationships, dyad);
        if (stored.ok()) state = *services::ParseStoredRelationship(*stored, dyad);
        state.set_dyad(dyad);
        state.set_event_count(state.event_count() + 1);
        absl::Status put = context->Put(
            storage::ProjectionFamily::kRelationships, dyad,
            services::RelationshipRecordOf(&state, v1::GoldsteinIndex()));
        if (!put.ok()) return put;
      }
    }
    return absl::OkStatus();
  }
};

TEST_F(SubscriptionTest, WatchRelationshipSendsTheStateThenEachChange) {
  CountingProjector projector;
  projector_ = &projector;
  Start();
  grpc::ClientContext context;
  v1::WatchRelationshipRequest request;
  request.set_dyad("PRK-JPN");  // either order
  auto reader = stub_->WatchRelationship(&context, request);
  v1::WatchRelationshipResponse response;
  // Nothing yet: only the dyad.
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.state().dyad(), "JPN-PRK");
  EXPECT_EQ(response.state().event_count(), 0);

  // Events of another dyad change nothing; one of JPN-PRK changes it.
  ASSERT_THAT(log_->Append({"USA-PRK", {}, {MakeMeeting("a", "USA", "PRK")}, "t"}),
              testing::IsOk());
  ASSERT_THAT(log_->Append({"JPN-PRK", {}, {MakeMeeting("b", "JPN", "PRK")}, "t"}),
              testing::IsOk());
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.state().dyad(), "JPN-PRK");
  EXPECT_EQ(response.state().event_count(), 1);
  EXPECT_GE(response.position(), 2u);
  ASSERT_THAT(log_->Append({"JPN-PRK", {}, {MakeMeeting("c", "PRK", "JPN")}, "t"}),
              testing::IsOk());
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.state().event_count(), 2);
  EXPECT_EQ(response.position(), 3u);
  context.TryCancel();
  reader->Finish();

  grpc::ClientContext bad_context;
  request.set_dyad("JPN-XYZ");
  auto bad = stub_->WatchRelationship(&bad_context, request);
  EXPECT_FALSE(bad->Read(&response));
  absl::Status status = rpc::FromGrpcStatus(bad->Finish());
  EXPECT_THAT(ViolatedFields(status), ElementsAre("dyad"));
}

}  // namespace
}  // namespace annals
