#include "services/server/systemd_notifier.h"

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "log/log.h"

namespace annals::services {

struct SystemdNotifier::ProbeState {
  std::atomic<bool> came_back{false};
};

SystemdNotifier::Options SystemdNotifier::FromEnvironment() {
  Options options;
  options.send = [](const std::string& message) {
    sd_notify(/*unset_environment=*/0, message.c_str());
  };
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0 && usec > 0) {
    options.watchdog = absl::Microseconds(usec);
  }
  return options;
}

SystemdNotifier::SystemdNotifier(Options options)
    : options_(std::move(options)), probe_(std::make_shared<ProbeState>()) {}

SystemdNotifier::~SystemdNotifier() { StopThread(); }

void SystemdNotifier::Status(absl::string_view status) {
  options_.send(absl::StrCat("STATUS=", status));
}

void SystemdNotifier::Ready(storage::EventLog* log) {
  log_ = log;
  progress_ = log_->WriterProgress();
  options_.send(absl::StrCat("READY=1\nSTATUS=", HeadStatus()));
  SendProbe();
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "annals-notify");
}

void SystemdNotifier::Stopping(absl::string_view reason) {
  if (!StopThread()) return;
  options_.send(absl::StrCat("STOPPING=1\nSTATUS=", reason));
}

bool SystemdNotifier::StopThread() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  return true;
}

void SystemdNotifier::Run() {
  const absl::Duration tick =
      options_.watchdog.has_value()
          ? std::min(options_.status_interval, *options_.watchdog / 4)
          : options_.status_interval;
  absl::Time status_due = absl::Now() + options_.status_interval;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick)) return;
    }
    const absl::Time now = absl::Now();
    bool changed = false;
    if (options_.watchdog.has_value()) {
      const bool alive = WriterAlive();
      if (alive) options_.send("WATCHDOG=1");
      if (alive == stuck_since_.has_value()) {
        changed = true;
        if (alive) {
          log::Info("writer_answering",
                    {{"stuck_ms", log::Milliseconds(now - *stuck_since_)}});
          stuck_since_.reset();
        } else {
          stuck_since_ = now;
          log::Warn("writer_stuck",
                    {{"head", log_->GetHead().position},
                     {"watchdog_ms", log::Milliseconds(*options_.watchdog)}});
        }
      }
    }
    if (changed || now >= status_due) {
      options_.send(absl::StrCat(
          "STATUS=", stuck_since_.has_value()
                         ? absl::StrCat("the event log's writer has not "
                                        "answered since ",
                                        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                                         *stuck_since_,
                                                         absl::UTCTimeZone()))
                         : HeadStatus()));
      status_due = now + options_.status_interval;
    }
  }
}

bool SystemdNotifier::WriterAlive() {
  const bool came_back = probe_->came_back.load();
  const uint64_t progress = log_->WriterProgress();
  const bool alive = came_back || progress != progress_;
  progress_ = progress;
  if (came_back) SendProbe();
  return alive;
}

void SystemdNotifier::SendProbe() {
  probe_->came_back.store(false);
  log_->Probe([probe = probe_] { probe->came_back.store(true); });
}

std::string SystemdNotifier::HeadStatus() const {
  return absl::StrCat("serving, head position ", log_->GetHead().position);
}

}  // namespace annals::services
