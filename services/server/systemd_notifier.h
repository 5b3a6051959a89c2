// annalsd's side of systemd's notification protocol (sd_notify(3), for a
// Type=notify unit: deploy/systemd/annalsd.service): READY=1 once it
// serves, STATUS= with the log's head while it runs, STOPPING=1 when it
// shuts down, and, when the unit has a watchdog (WatchdogSec=), WATCHDOG=1
// for as long as the event log's writer is alive, so that systemd restarts
// an annalsd whose writer is stuck.
//
// The writer is alive when a probe sent through it since the last look
// came back (EventLog::Probe: it takes work and finishes it), or when it
// made progress meanwhile (EventLog::WriterProgress: busy with appends or
// a rebuild of the projections that a probe waits behind). Otherwise
// WATCHDOG=1 is not sent, STATUS= says so, and a warning is logged.
//
// Without NOTIFY_SOCKET in the environment libsystemd sends nothing: then
// all this costs is a thread that wakes every few seconds.
#ifndef ANNALS_SERVICES_SERVER_SYSTEMD_NOTIFIER_H_
#define ANNALS_SERVICES_SERVER_SYSTEMD_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/event_log.h"

namespace annals::services {

class SystemdNotifier {
 public:
  struct Options {
    // Where each message goes ("READY=1\nSTATUS=..."). Required.
    std::function<void(const std::string& message)> send;
    // How often STATUS= is refreshed.
    absl::Duration status_interval = absl::Seconds(5);
    // The watchdog's timeout; nullopt: no watchdog, no WATCHDOG=1. The
    // writer is looked at four times per timeout.
    std::optional<absl::Duration> watchdog;
  };

  // The options of this process: messages through sd_notify, the
  // watchdog sd_watchdog_enabled reports (WATCHDOG_USEC, when
  // WATCHDOG_PID is unset or this process).
  static Options FromEnvironment();

  explicit SystemdNotifier(Options options);
  // Stops the thread Ready started.
  ~SystemdNotifier();

  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // Sends STATUS=`status` (before Ready: what starting is doing).
  void Status(absl::string_view status);

  // Sends READY=1 and the first STATUS=, then starts the thread that
  // refreshes the status and feeds the watchdog. `log` must outlive the
  // notifier, or Stopping must be called before it goes. Once.
  void Ready(storage::EventLog* log) ABSL_LOCKS_EXCLUDED(mu_);

  // Sends STOPPING=1 with STATUS=`reason`, and stops refreshing and
  // feeding (waits for the thread). Idempotent.
  void Stopping(absl::string_view reason) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Whether a probe came back; shared with the probes in flight, which may
  // come back after the notifier is gone.
  struct ProbeState;

  // Stops the thread Ready started; false when it was stopped already.
  bool StopThread() ABSL_LOCKS_EXCLUDED(mu_);
  // The thread Ready starts.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the writer is alive (see above); sends the next probe when the
  // last one came back.
  bool WriterAlive();
  void SendProbe();
  std::string HeadStatus() const;

  const Options options_;
  storage::EventLog* log_ = nullptr;  // set by Ready
  const std::shared_ptr<ProbeState> probe_;
  // Owned by the thread.
  uint64_t progress_ = 0;
  std::optional<absl::Time> stuck_since_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SERVER_SYSTEMD_NOTIFIER_H_
