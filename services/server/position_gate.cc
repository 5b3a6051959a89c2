// Calls held until the log reaches their position (position_gate.h).
#include "services/server/position_gate.h"

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace annals::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

class GateInterceptor final : public grpc::experimental::Interceptor {
 public:
  GateInterceptor(grpc::experimental::ServerRpcInfo* info, PositionGate* gate)
      : info_(info), gate_(gate) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        refused_.has_value()) {
      methods->ModifySendStatus(*refused_);
    }
    if (!methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      methods->Proceed();
      return;
    }
    const auto* metadata = methods->GetRecvInitialMetadata();
    auto found = metadata->find(kMinPositionHeader);
    if (found == metadata->end()) {
      methods->Proceed();
      return;
    }
    const absl::string_view text(found->second.data(), found->second.size());
    uint64_t position = 0;
    if (!absl::SimpleAtoi(text, &position)) {
      refused_ = grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat(kMinPositionHeader, ": '", text,
                       "' is not a position (a number of 0 or more)"));
      methods->Proceed();
      return;
    }
    const absl::Time deadline =
        std::min(absl::FromChrono(info_->server_context()->deadline()),
                 absl::Now() + PositionGate::kMaxWait);
    gate_->WhenAt(position, deadline,
                  [this, methods, position](bool reached, uint64_t head) {
                    if (!reached) {
                      refused_ = grpc::Status(
                          grpc::StatusCode::DEADLINE_EXCEEDED,
                          absl::StrCat("this server's log did not reach ",
                                       kMinPositionHeader, " ", position,
                                       " in time (its head is ", head, ")"));
                    }
                    methods->Proceed();
                  });
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  PositionGate* const gate_;
  std::optional<grpc::Status> refused_;
};

class GateFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GateFactory(PositionGate* gate) : gate_(gate) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new GateInterceptor(info, gate_);
  }

 private:
  PositionGate* const gate_;
};

}  // namespace

PositionGate::PositionGate() : thread_(&PositionGate::Loop, this) {
  pthread_setname_np(thread_.native_handle(), "annals-gate");
}

PositionGate::~PositionGate() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void PositionGate::Reached(uint64_t head) {
  absl::MutexLock lock(&mu_);
  if (head > head_) head_ = head;
}

void PositionGate::WhenAt(
    uint64_t position, absl::Time deadline,
    absl::AnyInvocable<void(bool reached, uint64_t head) &&> release) {
  uint64_t head = 0;
  {
    absl::MutexLock lock(&mu_);
    head = head_;
    if (head < position && deadline > absl::Now() && !stopping_) {
      waiters_.emplace(deadline, Waiter{position, std::move(release)});
      ++added_;  // the loop may need to wake sooner
      return;
    }
  }
  std::move(release)(head >= position, head);
}

void PositionGate::Loop() {
  uint64_t seen = 0;
  uint64_t seen_added = 0;
  for (;;) {
    std::vector<std::pair<Waiter, bool>> ready;
    uint64_t head = 0;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time wake = waiters_.empty() ? absl::InfiniteFuture()
                                               : waiters_.begin()->first;
      auto changed = [this, seen, seen_added]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || head_ != seen || added_ != seen_added;
      };
      mu_.AwaitWithDeadline(absl::Condition(&changed), wake);
      seen = head = head_;
      seen_added = added_;
      stopping = stopping_;
      const absl::Time now = absl::Now();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        const bool reached = it->second.position <= head_;
        if (reached || it->first <= now || stopping_) {
          ready.emplace_back(std::move(it->second), reached);
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [waiter, reached] : ready) {
      std::move(waiter.release)(reached, head);
    }
    if (stopping) return;
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
PositionGate::InterceptorFactory() {
  return std::make_unique<GateFactory>(this);
}

}  // namespace annals::services
