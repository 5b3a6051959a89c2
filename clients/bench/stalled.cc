#include "clients/bench/stalled.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "annals/v1/subscription.pb.h"
#include "clients/bench/channel.h"
#include "grpcpp/generic/generic_stub.h"

namespace annals::bench {

// One call on gRPC's callback API that sends its request and never reads.
class StalledSubscriber final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  void Start(grpc::GenericStub* stub, const grpc::ByteBuffer& request) {
    request_ = request;
    stub->PrepareBidiStreamingCall(&context_,
                                   "/annals.v1.Subscriptions/Subscribe",
                                   grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnDone(const grpc::Status& /*status*/) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  void AwaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

struct StalledSubscribers::Calls {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  std::vector<std::unique_ptr<StalledSubscriber>> subscribers;
};

StalledSubscribers::StalledSubscribers(const Endpoint& endpoint, int count,
                                       int channels)
    : calls_(std::make_unique<Calls>()) {
  if (count <= 0) return;
  // Channel numbers of their own: the scenario's clients use 0, 1, ...
  for (int c = 0; c < std::max(1, channels); ++c) {
    calls_->channels.push_back(BenchChannel(endpoint, 1000 + c));
    calls_->stubs.push_back(
        std::make_unique<grpc::GenericStub>(calls_->channels.back()));
  }
  v1::SubscribeRequest request;
  request.mutable_from_now();
  request.set_max_events_per_message(1);
  grpc::Slice slice(request.SerializeAsString());
  const grpc::ByteBuffer bytes(&slice, 1);
  for (int i = 0; i < count; ++i) {
    calls_->subscribers.push_back(std::make_unique<StalledSubscriber>());
    calls_->subscribers.back()->Start(
        calls_->stubs[static_cast<size_t>(i) % calls_->stubs.size()].get(),
        bytes);
  }
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (auto& channel : calls_->channels) channel->WaitForConnected(deadline);
}

StalledSubscribers::~StalledSubscribers() {
  for (auto& subscriber : calls_->subscribers) subscriber->Cancel();
  for (auto& subscriber : calls_->subscribers) subscriber->AwaitDone();
}

}  // namespace annals::bench
