#include "clients/bench/subscriptions.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/bench/driver.h"
#include "clients/bench/channel.h"
#include "clients/bench/wire.h"
#include "clients/bench/paced_appends.h"
#include "clients/cpp/client.h"
#include "google/protobuf/arena.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "proto/rpc_status.h"

namespace annals::bench {
namespace {

// The events of a message: its `event`, or those of its `events`.
template <typename Visit>
void ForEachEvent(const v1::SubscribeResponse& message, Visit visit) {
  if (message.has_event()) visit(message.event());
  for (const v1::RecordedEvent& event : message.events().events()) {
    visit(event);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// catchup

// Reads a server-streaming call as it arrives, message by message, without
// parsing: the bench parses each message itself, on an arena (as a
// high-volume consumer would: most of the cost of parsing events is
// allocating their strings). Blocking; one thread.
class RawSubscription {
 public:
  RawSubscription(const std::shared_ptr<grpc::Channel>& channel,
                  const v1::SubscribeRequest& request)
      : stub_(channel) {
    call_ = stub_.PrepareCall(&context_, "/annals.v1.Subscriptions/Subscribe",
                              &cq_);
    call_->StartCall(Tag(1));
    ok_ = Await(1);
    if (ok_) {
      grpc::Slice slice(request.SerializeAsString());
      grpc::ByteBuffer bytes(&slice, 1);
      call_->WriteLast(bytes, grpc::WriteOptions(), Tag(2));
      ok_ = Await(2);
    }
  }
  ~RawSubscription() {
    context_.TryCancel();
    (void)Finish();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  // The next message; false when the call ended (then Finish).
  bool Read(grpc::ByteBuffer* message) {
    if (!ok_) return false;
    call_->Read(message, Tag(3));
    ok_ = Await(3);
    return ok_;
  }
  void Cancel() { context_.TryCancel(); }
  absl::Status Finish() {
    if (finished_) return status_;
    finished_ = true;
    grpc::Status status;
    call_->Finish(&status, Tag(4));
    Await(4);
    status_ = rpc::FromGrpcStatus(status);
    return status_;
  }

 private:
  static void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }
  bool Await(intptr_t n) {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      if (tag == Tag(n)) return ok;
    }
    return false;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool ok_ = false;
  bool finished_ = false;
  absl::Status status_;
};

int RunCatchup(const CatchupOptions& options) {
  v1::SubscribeRequest request;
  request.mutable_from_start();
  request.set_max_events_per_message(
      static_cast<uint32_t>(std::max(1, options.events_per_message)));
  uint64_t events = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t head = 0;
  uint64_t expected = 1;  // the next position
  std::string problem;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 256 << 10;
  arena_options.max_block_size = 1 << 20;
  google::protobuf::Arena arena(arena_options);
  const absl::Time start = absl::Now();
  RawSubscription call(BenchChannel(options.endpoint, 0), request);
  grpc::ByteBuffer buffer;
  while (problem.empty() && call.Read(&buffer)) {
    ++messages;
    bytes += buffer.Length();
    auto* message = google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(&arena);
    grpc::ProtoBufferReader reader(&buffer);
    if (!message->ParseFromZeroCopyStream(&reader)) {
      problem = absl::StrCat("message ", messages, " does not parse");
      break;
    }
    ForEachEvent(*message, [&](const v1::RecordedEvent& event) {
      if (event.position() != expected && problem.empty()) {
        problem = absl::StrCat("position ", event.position(),
                               " arrived where ", expected, " was expected");
      }
      expected = event.position() + 1;
      ++events;
    });
    if (message->has_caught_up()) {
      head = message->caught_up().position();
      if (head != expected - 1 && problem.empty()) {
        problem = absl::StrCat("caught up at ", head, " after position ",
                               expected - 1);
      }
      break;
    }
    arena.Reset();
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  call.Cancel();
  const absl::Status status = call.Finish();
  const bool stopped = head > 0 || !problem.empty();  // we cancelled it
  const bool ok = head > 0 && problem.empty();
  std::cout << absl::StrFormat(
      "scenario=catchup events=%d head=%d seconds=%.2f events_per_s=%.0f "
      "messages=%d mb_per_s=%.1f errors=%d\n",
      events, head, seconds, static_cast<double>(events) / seconds, messages,
      static_cast<double>(bytes) / seconds / 1e6, ok ? 0 : 1);
  if (!stopped) std::cerr << "first error: " << rpc::OneLine(status) << "\n";
  if (!problem.empty()) std::cerr << "first error: " << problem << "\n";
  return ok ? 0 : 1;
}

// ---------------------------------------------------------------------------
// fanout

namespace {

// What the subscribers of a fanout run share; constant while they run
// except the counters.
struct FanoutShared {
  const PacedAppends* appends = nullptr;  // the end id, when each was sent
  absl::Mutex mu;
  int ready ABSL_GUARDED_BY(mu) = 0;  // said caught up, or ended
  int done ABSL_GUARDED_BY(mu) = 0;   // OnDone ran
};

// One subscription on gRPC's callback API (no thread of its own), reading
// raw messages and checking each event's stream version and id off the
// wire (ScanSubscribeResponse).
class FanoutSubscriber final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  FanoutSubscriber(FanoutShared* shared, size_t planned)
      : shared_(shared) {
    latencies_ms_.reserve(planned);
  }

  void Start(grpc::GenericStub* stub, const v1::SubscribeRequest& request) {
    grpc::Slice slice(request.SerializeAsString());
    request_ = grpc::ByteBuffer(&slice, 1);
    stub->PrepareBidiStreamingCall(&context_,
                                   "/annals.v1.Subscriptions/Subscribe",
                                   grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&buffer_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the call ended: OnDone follows
    const int64_t received = SteadyNowNs();
    bool caught_up = false;
    bool go_on = true;  // false: the end marker, or a failure
    grpc::ProtoBufferReader reader(&buffer_);
    const bool parsed = ScanSubscribeResponse(
        &reader, &caught_up, [&](const EventHead& event) {
          if (!go_on) return;
          if (event.stream_version != next_version_) {
            Fail(absl::StrCat("stream version ", event.stream_version,
                              " arrived where ", next_version_,
                              " was expected (a gap or a repeat)"));
            go_on = false;
            return;
          }
          ++next_version_;
          if (event.id == shared_->appends->end_id()) {
            saw_end_ = true;
            go_on = false;
            return;
          }
          uint64_t index = 0;
          if (shared_->appends->IndexOf(event.id, &index)) {
            const int64_t sent_at = shared_->appends->sent_at(index);
            if (sent_at > 0) {
              latencies_ms_.push_back(static_cast<float>(
                  static_cast<double>(received - sent_at) / 1e6));
            }
          }
          ++events_;
        });
    if (!parsed) {
      Fail("a message does not parse");
      go_on = false;
    }
    if (caught_up) Ready();
    if (!go_on) {
      context_.TryCancel();  // the end marker, or a failure: stop
      return;
    }
    StartRead(&buffer_);
  }

  void OnDone(const grpc::Status& status) override {
    // After the end marker the bench cancels the call itself.
    if (!saw_end_ && error_.empty()) {
      Fail(status.ok() ? std::string("the subscription ended by itself")
                       : rpc::OneLine(rpc::FromGrpcStatus(status)));
    }
    Ready();  // one that failed early is not waited for
    absl::MutexLock lock(&shared_->mu);
    ++shared_->done;
  }

  // Read after OnDone.
  uint64_t events() const { return events_; }
  std::vector<float>& latencies_ms() { return latencies_ms_; }
  const std::string& error() const { return error_; }

 private:
  void Ready() {
    if (ready_) return;
    ready_ = true;
    absl::MutexLock lock(&shared_->mu);
    ++shared_->ready;
  }
  void Fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
  }

  FanoutShared* const shared_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer buffer_;
  // Used by one callback at a time (one read in flight), then after OnDone.
  bool ready_ = false;
  bool saw_end_ = false;
  uint64_t next_version_ = 1;  // the stream is new
  uint64_t events_ = 0;        // appended events received (not the end)
  std::vector<float> latencies_ms_;
  std::string error_;
};

// One WatchRelationship call: counts the states it receives.
class Watcher final
    : public grpc::ClientReadReactor<v1::WatchRelationshipResponse> {
 public:
  void Start(v1::Subscriptions::Stub* stub, const std::string& dyad) {
    request_.set_dyad(dyad);
    stub->async()->WatchRelationship(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    states_.fetch_add(1, std::memory_order_relaxed);
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  // The first state arrived (the watch is open).
  bool started() const { return states_.load() > 0; }
  uint64_t states() const { return states_.load(); }
  // Waits for OnDone; its status.
  grpc::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  grpc::ClientContext context_;
  v1::WatchRelationshipRequest request_;
  v1::WatchRelationshipResponse response_;
  std::atomic<uint64_t> states_{0};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int RunFanout(const FanoutOptions& options) {
  const int subscribers = std::max(1, options.subscribers);
  const double rate = std::max(1.0, options.rate);
  const std::string stream = absl::StrCat("fanout-", options.run_id);
  const uint64_t planned = std::max<uint64_t>(
      1, static_cast<uint64_t>(rate * absl::ToDoubleSeconds(options.duration)));

  PacedAppends appends({.stream = stream,
                        .rate = rate,
                        .events = planned});
  FanoutShared shared;
  shared.appends = &appends;

  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int c = 0; c < std::max(1, options.channels); ++c) {
    clients.push_back(
        std::make_unique<Client>(
            BenchChannel(options.endpoint, c, options.stream_window),
            absl::Seconds(60)));
    stubs.push_back(
        std::make_unique<grpc::GenericStub>(clients.back()->channel()));
  }
  if (options.warmup > absl::ZeroDuration()) {
    appends.Warmup(*clients[0], options.warmup);
  }

  v1::SubscribeRequest request;
  request.mutable_from_now();
  request.mutable_filter()->set_stream(stream);
  request.set_max_events_per_message(
      static_cast<uint32_t>(std::max(1, options.events_per_message)));
  std::vector<std::unique_ptr<FanoutSubscriber>> subs;
  subs.reserve(static_cast<size_t>(subscribers));
  for (int i = 0; i < subscribers; ++i) {
    subs.push_back(std::make_unique<FanoutSubscriber>(&shared, planned));
    subs.back()->Start(stubs[static_cast<size_t>(i) % stubs.size()].get(),
                       request);
  }
  // Relationship watchers over the log's dyads, round robin.
  std::vector<std::unique_ptr<v1::Subscriptions::Stub>> watch_stubs;
  std::vector<std::unique_ptr<Watcher>> watchers;
  uint64_t watch_errors = 0;
  if (options.watchers > 0) {
    std::vector<std::string> dyads;
    v1::ListRelationshipsRequest list;
    list.set_page_size(1000);
    absl::StatusOr<v1::ListRelationshipsResponse> page =
        clients[0]->ListRelationships(list);
    if (page.ok()) {
      for (const auto& r : page->relationships()) dyads.push_back(r.dyad());
    }
    if (dyads.empty()) dyads.push_back("JPN-PRK");
    for (auto& client : clients) {
      watch_stubs.push_back(v1::Subscriptions::NewStub(client->channel()));
    }
    for (int w = 0; w < options.watchers; ++w) {
      watchers.push_back(std::make_unique<Watcher>());
      watchers.back()->Start(
          watch_stubs[static_cast<size_t>(w) % watch_stubs.size()].get(),
          dyads[static_cast<size_t>(w) % dyads.size()]);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline &&
           !std::all_of(watchers.begin(), watchers.end(),
                        [](auto& w) { return w->started(); })) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  int live = 0;
  {
    absl::MutexLock lock(&shared.mu);
    auto all_ready = [&shared, subscribers]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
                           return shared.ready >= subscribers;
                         };
    shared.mu.AwaitWithTimeout(absl::Condition(&all_ready), absl::Seconds(60));
    live = shared.ready - shared.done;  // ended ones failed early
  }

  if (options.cpu != nullptr) options.cpu->Start();
  appends.Run(clients);
  const double seconds = appends.seconds();
  // The end marker: every subscriber stops when it sees it.
  (void)appends.AppendEnd(*clients[0]);
  bool all_finished = false;
  {
    absl::MutexLock lock(&shared.mu);
    auto all_done = [&shared, subscribers]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
                          return shared.done >= subscribers;
                        };
    all_finished = shared.mu.AwaitWithTimeout(absl::Condition(&all_done),
                                              absl::Seconds(60));
  }
  if (!all_finished) {
    std::cerr << "subscriptions did not end within 60 s of the last append\n";
    for (auto& sub : subs) sub->Cancel();
    std::cout.flush();
    std::_Exit(1);  // reactors still referenced by gRPC: cannot free them
  }

  const std::string cpu_used =
      options.cpu != nullptr
          ? options.cpu->Report(static_cast<double>(appends.appended()))
          : std::string();

  uint64_t watched_states = 0;
  for (auto& watcher : watchers) watcher->Cancel();
  for (auto& watcher : watchers) {
    const grpc::Status status = watcher->Wait();
    if (status.error_code() != grpc::StatusCode::CANCELLED) ++watch_errors;
    watched_states += watcher->states();
  }

  uint64_t delivered = 0;
  uint64_t short_subscribers = 0;
  std::string first_error;
  std::vector<float> latencies;
  latencies.reserve(static_cast<size_t>(appends.appended()) *
                    static_cast<size_t>(subscribers));
  for (auto& sub : subs) {
    delivered += sub->events();
    if (sub->events() != appends.appended()) ++short_subscribers;
    if (!sub->error().empty() && first_error.empty()) first_error = sub->error();
    latencies.insert(latencies.end(), sub->latencies_ms().begin(),
                     sub->latencies_ms().end());
  }
  uint64_t failed = 0;
  for (auto& sub : subs) failed += sub->error().empty() ? 0 : 1;
  const float max_ms =
      latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  const uint64_t errors = appends.errors() + failed + watch_errors +
                          (live == subscribers ? 0 : 1) + short_subscribers;
  std::cout << absl::StrFormat(
      "scenario=fanout subscribers=%d rate=%.0f warmup_s=%g channels=%d "
      "events=%d "
      "seconds=%.2f events_per_s=%.0f deliveries=%d deliveries_per_s=%.0f "
      "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f append_p99_ms=%.3f "
      "watchers=%d watched_states=%d replicas=%d%s errors=%d\n",
      subscribers, rate, absl::ToDoubleSeconds(options.warmup),
      clients.size(), appends.appended(), seconds,
      static_cast<double>(appends.appended()) / seconds, delivered,
      static_cast<double>(delivered) / seconds,
      Percentile(latencies, 0.50), Percentile(latencies, 0.99),
      Percentile(latencies, 0.999), max_ms, Percentile(appends.append_ms(), 0.99),
      watchers.size(), watched_states,
      std::max<size_t>(1, options.endpoint.replicas.size()), cpu_used,
      errors);
  std::cout.flush();
  if (appends.errors() > 0) {
    std::cerr << "first error: " << appends.first_error() << "\n";
  }
  if (!first_error.empty()) std::cerr << "first error: " << first_error << "\n";
  if (live != subscribers) {
    std::cerr << "only " << live << " of " << subscribers
              << " subscriptions became live\n";
  }
  if (short_subscribers > 0) {
    std::cerr << short_subscribers << " subscribers did not get all "
              << appends.appended() << " events\n";
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace annals::bench
