// Reads that wait for a position (read-your-writes across replicas): a call
// whose metadata carries `annals-min-position: N` is held, before its
// handler runs, until this server's log holds position N — in cluster mode,
// until this replica has applied the append that another replica answered
// with N. It waits up to the call's deadline (gRPC then ends the call with
// DEADLINE_EXCEEDED) and never more than kMaxWait; past that the call is
// answered DEADLINE_EXCEEDED naming the position and the head. A value
// that is not a position is INVALID_ARGUMENT naming the header.
//
// A gRPC server interceptor that delays Proceed, so no thread is held
// while a call waits: every method of every service honours the header
// without each handler's help. The gate's own thread releases the calls
// when a commit reaches them or their time is up.
#ifndef ANNALS_SERVICES_SERVER_POSITION_GATE_H_
#define ANNALS_SERVICES_SERVER_POSITION_GATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace annals::services {

// The metadata key (lower case, as gRPC requires).
inline constexpr char kMinPositionHeader[] = "annals-min-position";

class PositionGate {
 public:
  static constexpr absl::Duration kMaxWait = absl::Seconds(30);

  PositionGate();
  ~PositionGate();  // releases every waiting call as timed out
  PositionGate(const PositionGate&) = delete;
  PositionGate& operator=(const PositionGate&) = delete;

  // The log's head is now `head` (it only grows). Any thread; quick.
  void Reached(uint64_t head) ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `release(true)` once the head is at least `position`, or
  // `release(false)` once `deadline` passes first: on the caller's thread
  // when it already is, else on the gate's thread. It must not block.
  void WhenAt(uint64_t position, absl::Time deadline,
              absl::AnyInvocable<void(bool reached, uint64_t head) &&> release)
      ABSL_LOCKS_EXCLUDED(mu_);

  // For ServerBuilder::experimental().SetInterceptorCreators. The gate
  // must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

 private:
  struct Waiter {
    uint64_t position;
    absl::AnyInvocable<void(bool, uint64_t) &&> release;
  };
  void Loop();

  absl::Mutex mu_;
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t added_ ABSL_GUARDED_BY(mu_) = 0;  // waiters added, ever
  // By deadline (several may share one).
  std::multimap<absl::Time, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_POSITION_GATE_H_
