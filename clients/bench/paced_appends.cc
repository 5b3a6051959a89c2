#include "clients/bench/paced_appends.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "proto/rpc_status.h"

namespace annals::bench {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

PacedAppends::PacedAppends(PacedAppendOptions options)
    : options_([&] {
        options.rate = std::max(1.0, options.rate);
        options.events = std::max<uint64_t>(1, options.events);
        return options;
      }()),
      end_id_(absl::StrCat(options_.stream, "-end")),
      generator_([] {
        GeneratorOptions o;
        o.block_size = 1;  // no corrections
        return o;
      }()),
      sent_ns_(options_.events),
      positions_(options_.events, 0) {
  for (auto& s : sent_ns_) s.store(0);
}

void PacedAppends::Error(const absl::Status& status) {
  ++errors_;
  absl::MutexLock lock(&mu_);
  if (first_error_.empty()) first_error_ = rpc::OneLine(status);
}

std::string PacedAppends::first_error() const {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

bool PacedAppends::IndexOf(absl::string_view id, uint64_t* index) const {
  if (id.size() <= options_.stream.size() + 1 ||
      !absl::StartsWith(id, options_.stream) ||
      id[options_.stream.size()] != '-') {
    return false;
  }
  return absl::SimpleAtoi(id.substr(options_.stream.size() + 1), index) &&
         *index < options_.events;
}

void PacedAppends::Warmup(Client& client, absl::Duration duration) {
  const uint64_t warm =
      static_cast<uint64_t>(options_.rate * absl::ToDoubleSeconds(duration));
  for (uint64_t first = 0; first < warm; first += 100) {
    v1::AppendRequest append;
    append.set_stream(absl::StrCat(options_.stream, "-warmup"));
    for (uint64_t i = first; i < std::min(warm, first + 100); ++i) {
      v1::Event* event = append.add_events();
      *event = generator_.Make(options_.events + 1 + i);
      event->set_id(absl::StrCat(options_.stream, "-warmup-", i));
    }
    absl::StatusOr<v1::AppendResponse> response = client.Append(append);
    if (!response.ok()) Error(response.status());
  }
}

void PacedAppends::Run(const std::vector<std::unique_ptr<Client>>& clients) {
  append_ms_.assign(options_.events, 0);
  // Each call is answered exactly once; Wait returning makes destroying it
  // safe, which a mutex the last answer had just unlocked is not.
  absl::BlockingCounter unanswered(static_cast<int>(options_.events));
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < options_.events; ++i) {
    std::this_thread::sleep_until(
        start + std::chrono::nanoseconds(static_cast<int64_t>(
                    static_cast<double>(i) * 1e9 / options_.rate)));
    v1::AppendRequest append;
    append.set_stream(options_.stream);
    v1::Event* event = append.add_events();
    *event = generator_.Make(i);
    event->set_id(absl::StrCat(options_.stream, "-", i));
    const int64_t before = SteadyNowNs();
    sent_ns_[i].store(before);
    clients[i % clients.size()]->AppendAsync(
        std::move(append),
        [this, i, before,
         &unanswered](absl::StatusOr<v1::AppendResponse> response) {
          append_ms_[i] = static_cast<double>(SteadyNowNs() - before) / 1e6;
          if (response.ok()) {
            if (response->positions_size() == 1) {
              positions_[i] = response->positions(0);
            }
            ++appended_;
          } else {
            Error(response.status());
          }
          unanswered.DecrementCount();
        });
  }
  unanswered.Wait();
  seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
}

absl::StatusOr<uint64_t> PacedAppends::AppendEnd(Client& client) {
  v1::AppendRequest append;
  append.set_stream(options_.stream);
  v1::Event* event = append.add_events();
  *event = generator_.Make(options_.events);
  event->set_id(end_id_);
  absl::StatusOr<v1::AppendResponse> response = client.Append(append);
  if (!response.ok()) {
    Error(response.status());
    return response.status();
  }
  if (response->positions_size() != 1) {
    const absl::Status status = absl::InternalError(
        absl::StrCat("the end marker's append answered ",
                     response->positions_size(), " positions"));
    Error(status);
    return status;
  }
  return response->positions(0);
}

}  // namespace annals::bench
