// The annals.v1.EventLog gRPC service: thin adapters from the wire to the
// storage::EventLog. Every method is served raw and parses its request
// through services/rpc (INVALID_ARGUMENT for bytes that are not the
// request message); each handler validates its request (services/model/
// validation.h), makes one domain call, and converts the status once.
#ifndef ANNALS_SERVICES_EVENT_LOG_SERVICE_H_
#define ANNALS_SERVICES_EVENT_LOG_SERVICE_H_

#include <string>

#include "annals/v1/event_log.grpc.pb.h"
#include "services/admission/admission.h"
#include "services/auth/call_access.h"
#include "services/event_log/append_session.h"
#include "services/model/validation.h"
#include "storage/event_log.h"

namespace annals::services {

class EventLogService final
    : public v1::EventLog::WithRawCallbackMethod_Append<
          v1::EventLog::WithRawCallbackMethod_AppendSession<
              v1::EventLog::WithRawCallbackMethod_ReadStream<
                  v1::EventLog::WithRawCallbackMethod_ReadAll<
                      v1::EventLog::WithRawCallbackMethod_GetEvent<
                          v1::EventLog::Service>>>>> {
 public:
  // `log`, `access` and `admission` must outlive the service. Every call
  // is checked by `access` first, and the events of an append are
  // recorded as written by the call's principal. Append requests are
  // admitted (Admission::AdmitRequest) before they are parsed, and
  // AppendSession calls are streams of their connection. Thread-safe.
  EventLogService(storage::EventLog* log, const Limits& limits,
                  const AppendSessionOptions& session_options,
                  const auth::CallAccess* access, Admission* admission);

  // Each unary method takes its request message serialized and answers
  // with its response message serialized.

  // Completes when the append is durable; the handler thread never waits
  // for the writer.
  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  // See services/event_log/append_session.h.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AppendSession(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ReadStream(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReadAll(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;

  // Ends every append session (see AppendSessions::Shutdown). Call before
  // grpc::Server::Shutdown so that sessions need not wait for its deadline.
  void Shutdown() { sessions_.Shutdown(); }

  // The append sessions open now.
  size_t open_sessions() const { return sessions_.open_sessions(); }

 private:
  // Constant after construction.
  storage::EventLog* const log_;
  const Limits limits_;
  AppendObserver* const observer_;
  const auth::CallAccess* const access_;
  Admission* const admission_;

  AppendSessions sessions_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_EVENT_LOG_SERVICE_H_
