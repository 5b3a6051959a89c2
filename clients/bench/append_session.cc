#include "clients/bench/append_session.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "clients/bench/driver.h"
#include "proto/rpc_status.h"

namespace annals::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Threads sending the sessions' requests.
constexpr int kDrivers = 2;

// What one session's acknowledgements add up to. Its callbacks run one at
// a time (in order), but on gRPC threads: hence the mutex.
struct SessionTally {
  absl::Mutex mu;
  AppendSessionResult result ABSL_GUARDED_BY(mu);

  void Error(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (result.errors++ == 0) result.first_error = rpc::OneLine(status);
  }
};

// Whose turn it is to send, for one driver thread: each acknowledgement
// frees room in its session's window and queues the session here once.
// The driver takes every turn queued since it last looked, so it wakes
// once for a burst of acknowledgements rather than once per session.
class Turns {
 public:
  void Push(int session) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    turns_.push_back(session);
  }

  // The turns queued, once there are some or `end` has passed (then
  // perhaps none).
  std::vector<int> Take(absl::Time end) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<int> taken;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(this, &Turns::HasTurnsLocked), end);
    taken.swap(turns_);
    return taken;
  }

 private:
  bool HasTurnsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !turns_.empty();
  }

  absl::Mutex mu_;
  std::vector<int> turns_ ABSL_GUARDED_BY(mu_);
};

// One session and what it has sent.
struct Session {
  std::unique_ptr<AppendSession> session;
  int sent = 0;  // requests; touched by its driver only
  SessionTally tally;
};

// Sends session s's next request; its acknowledgement queues s's next
// turn on `turns`.
void Send(int s, const AppendSessionRun& run, Session* session, Turns* turns) {
  const int i = session->sent++;
  v1::AppendRequest request;
  for (int k = 0; k < run.batch; ++k) {
    *request.add_events() = MakeEvent(
        absl::StrCat(run.run_id, "-s", s, "-", i, "-", k), s * 7919 + i);
  }
  const auto sent = SteadyClock::now();
  // The events' ids, for the acknowledgement log only.
  std::optional<v1::AppendRequest> sent_request;
  if (run.acks != nullptr) sent_request = request;
  SessionTally* tally = &session->tally;
  session->session->Append(
      std::move(request),
      [tally, turns, s, sent, batch = run.batch, acks = run.acks,
       sent_request = std::move(sent_request)](
          absl::StatusOr<v1::AppendResponse> response) {
        if (response.ok() && acks != nullptr) {
          acks->Record(*sent_request, *response);
        }
        const double ms =
            std::chrono::duration<double, std::milli>(SteadyClock::now() - sent)
                .count();
        {
          absl::MutexLock lock(&tally->mu);
          tally->result.requests += 1;
          tally->result.latencies_ms.push_back(ms);
          if (response.ok()) {
            tally->result.events += static_cast<uint64_t>(batch);
          } else {
            tally->Error(response.status());
          }
        }
        // A failed request gives up its turn: once a session has ended,
        // every append on it fails at once, and sending again would only
        // spin its driver (and count its errors) until the run ends.
        if (response.ok()) turns->Push(s);
      });
}

// Sends the turns of the sessions s with s % drivers == driver until
// `end`, then finishes them.
void Drive(int driver, int drivers, const AppendSessionRun& run,
           absl::Time end, std::vector<Session>* sessions, Turns* turns) {
  while (absl::Now() < end) {
    for (int s : turns->Take(end)) {
      if (absl::Now() >= end) break;
      Send(s, run, &(*sessions)[static_cast<size_t>(s)], turns);
    }
  }
  for (size_t s = static_cast<size_t>(driver); s < sessions->size();
       s += static_cast<size_t>(drivers)) {
    Session& session = (*sessions)[s];
    const absl::Status finished = session.session->Finish();
    absl::MutexLock lock(&session.tally.mu);
    if (!finished.ok() && session.tally.result.errors == 0) {
      session.tally.Error(finished);
    }
  }
}

}  // namespace

AppendSessionResult RunAppendSessions(
    const std::vector<std::unique_ptr<Client>>& clients,
    const AppendSessionRun& run) {
  // A thread per core of this two-core machine, not one per session: the
  // benchmark client shares the cores with the server it measures.
  const int drivers = std::min(kDrivers, std::max(1, run.sessions));
  std::vector<Turns> turns(static_cast<size_t>(drivers));
  std::vector<Session> sessions(static_cast<size_t>(run.sessions));
  for (int s = 0; s < run.sessions; ++s) {
    sessions[static_cast<size_t>(s)].session =
        clients[static_cast<size_t>(s) % clients.size()]->OpenAppendSession(
            static_cast<size_t>(run.window));
    for (int w = 0; w < run.window; ++w) {
      turns[static_cast<size_t>(s % drivers)].Push(s);
    }
  }
  const absl::Time start = absl::Now();
  const absl::Time end = start + run.duration;
  std::vector<std::thread> threads;
  for (int d = 0; d < drivers; ++d) {
    threads.emplace_back([&, d] {
      Drive(d, drivers, run, end, &sessions, &turns[static_cast<size_t>(d)]);
    });
  }
  for (std::thread& t : threads) t.join();
  AppendSessionResult all;
  all.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (Session& session : sessions) {
    SessionTally& tally = session.tally;
    absl::MutexLock lock(&tally.mu);
    const AppendSessionResult& r = tally.result;
    all.events += r.events;
    all.requests += r.requests;
    if (all.errors == 0) all.first_error = r.first_error;
    all.errors += r.errors;
    all.latencies_ms.insert(all.latencies_ms.end(), r.latencies_ms.begin(),
                            r.latencies_ms.end());
  }
  return all;
}

}  // namespace annals::bench
