// The append path of the EventLog service, shared by the unary Append call
// and the AppendSession stream, and the sessions themselves: callback-API
// bidirectional reactors that hand every request to the log as soon as it
// is read (so that requests of many sessions, and many requests of one
// session, share commit groups) and send the acknowledgements back in
// request order once their group is durable.
//
// One reactor per session, one read and one write in flight, no thread per
// session:
//   - Reading: OnReadDone parses the request (services/rpc/raw_request.h),
//     validates it and queues it on the log
//     (EventLog::AppendAsync), gives it the next slot of the session's
//     in-order queue, and reads the next request unless the window (read
//     but not yet acknowledged requests, or their bytes) is full; reading
//     resumes when a write frees room.
//   - Acknowledging: the log's callback fills the request's slot. Whenever
//     no write is in flight, the done slots at the front of the queue go
//     out as one response (several acks per message).
//   - Ending: the client half-closes (every slot is answered, then OK); a
//     request is not an AppendSessionRequest (no more reads, every slot is
//     answered, then INVALID_ARGUMENT); the client cancels or the stream
//     breaks (CANCELLED, nothing more is sent); the service shuts down (no
//     more reads, every slot is answered, then UNAVAILABLE).
#ifndef ANNALS_SERVICES_EVENT_LOG_APPEND_SESSION_H_
#define ANNALS_SERVICES_EVENT_LOG_APPEND_SESSION_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "annals/v1/event_log.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "services/admission/admission.h"
#include "services/auth/call_access.h"
#include "services/model/validation.h"
#include "storage/event_log.h"

namespace annals::services {

// Told of every append's outcome (Append and each AppendSession request),
// for metrics. Called on the thread that answers the append; must be quick.
class AppendObserver {
 public:
  virtual ~AppendObserver() = default;
  // `dyad_stream`: the stream is a dyad ("JPN-PRK", or unnamed: the
  // events' primary dyad) rather than a name of the writer's choosing.
  // `events`: the request's events; `already_recorded`: an idempotent
  // retry; `latency`: from the request to its answer.
  virtual void Appended(bool dyad_stream, absl::StatusCode code, size_t events,
                        bool already_recorded, absl::Duration latency) = 0;
};

// The one append path of Append and AppendSession: validates `request`
// (ToAppendBatch), records `principal`, and queues it on `log`. `done` is
// called exactly once: at once on this thread when the request is invalid,
// else as EventLog::AppendAsync calls it (after the batch is durable or
// failed; it must not block). `observer` (may be null) is told first.
void QueueAppend(storage::EventLog* log, const Limits& limits,
                 v1::AppendRequest request, std::string principal,
                 AppendObserver* observer,
                 storage::EventLog::AppendCallback done);

// The wire form of a successful append.
void ToAppendResponse(const storage::AppendResult& result,
                      v1::AppendResponse* response);

struct AppendSessionOptions {
  // --- Affects behaviour ---

  // The window of one session: it stops reading while this many requests
  // (default 1024) or this many bytes of requests (default 16 MiB) are
  // read but not yet acknowledged (the acknowledgement's write done).
  // A request larger than the bytes alone is still read, alone. At least 1.
  size_t window_requests = 1024;
  size_t window_bytes = 16 << 20;

  // --- Affects performance ---

  // At most this many acknowledgements in one response (default 256).
  size_t max_acks_per_response = 256;

  // --- Observation ---

  // Told of every append of the service, unary Append included. Not
  // owned; must outlive the service. Default none.
  AppendObserver* observer = nullptr;
};

// The append sessions of one EventLog service: opens them and ends them
// at shutdown. Thread-safe.
class AppendSessions {
 public:
  // `log` must outlive every session (the server closes the log only after
  // gRPC has finished every call, and the log answers every queued append
  // before Close returns). A session is opened only when `access` lets its
  // caller append (else it finishes at once with the refusal), and its
  // events are recorded as written by the caller's principal. Each session
  // is a stream of `admission`, and each request is admitted before it is
  // queued (a refused one is answered RESOURCE_EXHAUSTED, and the session
  // goes on). `access` and `admission` must outlive the sessions.
  AppendSessions(storage::EventLog* log, const Limits& limits,
                 const AppendSessionOptions& options,
                 const auth::CallAccess* access, Admission* admission);
  AppendSessions(const AppendSessions&) = delete;
  AppendSessions& operator=(const AppendSessions&) = delete;

  // The reactor of a new session, which reads serialized
  // AppendSessionRequests and writes serialized AppendSessionResponses;
  // after Shutdown, one that finishes at once with UNAVAILABLE; when its
  // connection has as many streams open as it may, one that finishes at
  // once with RESOURCE_EXHAUSTED.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Open(
      grpc::CallbackServerContext* context);

  // Ends every session: each stops reading, answers every request it has
  // read (their appends are committed or failed by the log) and finishes
  // with UNAVAILABLE. Later sessions are refused. Does not wait.
  // Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // The sessions open now (for tests and monitoring).
  size_t open_sessions() const ABSL_LOCKS_EXCLUDED(mu_);

  class Reactor;  // services/event_log/append_session.cc

 private:
  friend class Reactor;
  // False after Shutdown: the reactor must then finish at once.
  bool Register(Reactor* reactor) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(Reactor* reactor) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  storage::EventLog* const log_;
  const Limits limits_;
  const AppendSessionOptions options_;
  const auth::CallAccess* const access_;
  Admission* const admission_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<Reactor*> open_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_EVENT_LOG_APPEND_SESSION_H_
