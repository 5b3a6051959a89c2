#include "clients/bench/append_session.h"

#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "clients/bench/driver.h"
#include "proto/rpc_status.h"

namespace annals::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What one session's acknowledgements add up to. Its callbacks run one at
// a time (in order), but on gRPC threads: hence the mutex.
struct SessionTally {
  absl::Mutex mu;
  AppendSessionResult result ABSL_GUARDED_BY(mu);

  void Error(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (result.errors++ == 0) result.first_error = rpc::OneLine(status);
  }
};

void RunSession(Client& client, int s, const AppendSessionRun& run,
                absl::Time end, SessionTally* tally) {
  std::unique_ptr<AppendSession> session =
      client.OpenAppendSession(static_cast<size_t>(run.window));
  for (int i = 0; absl::Now() < end; ++i) {
    v1::AppendRequest request;
    for (int k = 0; k < run.batch; ++k) {
      *request.add_events() = MakeEvent(
          absl::StrCat(run.run_id, "-s", s, "-", i, "-", k), s * 7919 + i);
    }
    session->WaitForRoom();
    const auto sent = SteadyClock::now();
    // The events' ids, for the acknowledgement log only.
    std::optional<v1::AppendRequest> sent_request;
    if (run.acks != nullptr) sent_request = request;
    session->Append(
        std::move(request),
        [tally, sent, batch = run.batch, acks = run.acks,
         sent_request = std::move(sent_request)](
            absl::StatusOr<v1::AppendResponse> response) {
          if (response.ok() && acks != nullptr) {
            acks->Record(*sent_request, *response);
          }
          const double ms = std::chrono::duration<double, std::milli>(
                                SteadyClock::now() - sent)
                                .count();
          absl::MutexLock lock(&tally->mu);
          tally->result.requests += 1;
          tally->result.latencies_ms.push_back(ms);
          if (response.ok()) {
            tally->result.events += static_cast<uint64_t>(batch);
          } else {
            tally->Error(response.status());
          }
        });
  }
  const absl::Status finished = session->Finish();
  absl::MutexLock lock(&tally->mu);
  if (!finished.ok() && tally->result.errors == 0) tally->Error(finished);
}

}  // namespace

AppendSessionResult RunAppendSessions(
    const std::vector<std::unique_ptr<Client>>& clients,
    const AppendSessionRun& run) {
  std::vector<SessionTally> tallies(static_cast<size_t>(run.sessions));
  const absl::Time start = absl::Now();
  const absl::Time end = start + run.duration;
  std::vector<std::thread> threads;
  for (int s = 0; s < run.sessions; ++s) {
    threads.emplace_back([&, s] {
      RunSession(*clients[static_cast<size_t>(s) % clients.size()], s, run,
                 end, &tallies[static_cast<size_t>(s)]);
    });
  }
  for (std::thread& t : threads) t.join();
  AppendSessionResult all;
  all.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (SessionTally& tally : tallies) {
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
