// Subscribers that stop reading, for the append scenarios'
// --stalled-subscribers: what a crowd of stuck consumers costs the writers.
#ifndef ANNALS_CLIENTS_BENCH_STALLED_H_
#define ANNALS_CLIENTS_BENCH_STALLED_H_

#include <memory>
#include <vector>

#include "clients/bench/channel.h"

namespace annals::bench {

class StalledSubscriber;

// `count` Subscribe calls from now, one event per message, over
// `channels` connections of their own, that never read a message: once
// their HTTP/2 windows are full, annalsd's writes to them stall. The
// calls are cancelled when it goes.
class StalledSubscribers {
 public:
  StalledSubscribers(const Endpoint& endpoint, int count, int channels);
  ~StalledSubscribers();

  StalledSubscribers(const StalledSubscribers&) = delete;
  StalledSubscribers& operator=(const StalledSubscribers&) = delete;

 private:
  struct Calls;
  std::unique_ptr<Calls> calls_;
};

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_STALLED_H_
