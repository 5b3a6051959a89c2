#include "services/event_log/service.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "proto/rpc_status.h"
#include "services/rpc/unary_reactor.h"

namespace annals::services {
namespace {

constexpr uint32_t kDefaultReadLimit = 100;

// The page size of a read request: 0 means the default; above the limit is
// a violation of `limit`.
size_t PageSize(uint32_t limit, const Limits& limits,
                std::vector<rpc::FieldViolation>* violations) {
  if (limit == 0) return kDefaultReadLimit;
  if (limit > limits.max_read_limit) {
    violations->push_back(
        {"limit", absl::StrCat("must be at most ", limits.max_read_limit,
                               ", got ", limit)});
  }
  return limit;
}

storage::Direction ToDirection(v1::Direction direction,
                               std::vector<rpc::FieldViolation>* violations) {
  switch (direction) {
    case v1::DIRECTION_UNSPECIFIED:
    case v1::DIRECTION_FORWARD:
      return storage::Direction::kForward;
    case v1::DIRECTION_BACKWARD:
      return storage::Direction::kBackward;
    default:
      violations->push_back(
          {"direction", absl::StrCat("unknown direction ",
                                     static_cast<int>(direction))});
      return storage::Direction::kForward;
  }
}

void MoveEvents(std::vector<v1::RecordedEvent>& from,
                google::protobuf::RepeatedPtrField<v1::RecordedEvent>* to) {
  to->Reserve(static_cast<int>(from.size()));
  for (v1::RecordedEvent& event : from) to->Add()->Swap(&event);
}

absl::StatusOr<v1::ReadStreamResponse> ReadStreamPage(
    const storage::EventLog& log, const Limits& limits,
    const v1::ReadStreamRequest& request) {
  std::vector<rpc::FieldViolation> violations;
  if (!IsValidStreamName(request.stream())) {
    violations.push_back(
        {"stream", request.stream().empty()
                       ? "required"
                       : "must be 1 to 128 characters from [A-Za-z0-9._:-]"});
  }
  const size_t limit = PageSize(request.limit(), limits, &violations);
  const storage::Direction direction =
      ToDirection(request.direction(), &violations);
  if (!violations.empty()) return rpc::InvalidArgument(violations);

  absl::StatusOr<storage::ReadPage> page = log.ReadStream(
      request.stream(), request.from_version(), direction, limit);
  if (!page.ok()) return page.status();
  v1::ReadStreamResponse response;
  MoveEvents(page->events, response.mutable_events());
  response.set_next_version(page->next);
  response.set_stream_version(page->last);
  response.set_end_of_stream(page->end);
  return response;
}

absl::StatusOr<v1::ReadAllResponse> ReadAllPage(
    const storage::EventLog& log, const Limits& limits,
    const v1::ReadAllRequest& request) {
  std::vector<rpc::FieldViolation> violations;
  const size_t limit = PageSize(request.limit(), limits, &violations);
  const storage::Direction direction =
      ToDirection(request.direction(), &violations);
  if (!violations.empty()) return rpc::InvalidArgument(violations);

  absl::StatusOr<storage::ReadPage> page =
      log.ReadAll(request.from_position(), direction, limit);
  if (!page.ok()) return page.status();
  v1::ReadAllResponse response;
  MoveEvents(page->events, response.mutable_events());
  response.set_next_position(page->next);
  response.set_head(page->last);
  response.set_end_of_log(page->end);
  return response;
}

// The event and its corrections.
absl::StatusOr<v1::GetEventResponse> EventWithCorrections(
    const storage::EventLog& log, const v1::GetEventRequest& request) {
  if (request.id().empty()) return rpc::InvalidArgument({{"id", "required"}});
  absl::StatusOr<v1::RecordedEvent> event = log.GetEvent(request.id());
  if (!event.ok()) return event.status();
  v1::GetEventResponse response;
  response.mutable_event()->Swap(&*event);
  absl::StatusOr<std::vector<uint64_t>> corrections =
      log.CorrectionsOf(request.id());
  if (absl::IsUnimplemented(corrections.status())) {
    return response;  // a log without the index
  }
  if (!corrections.ok()) return corrections.status();
  for (uint64_t position : *corrections) {
    absl::StatusOr<v1::RecordedEvent> correction = log.GetEventAt(position);
    if (!correction.ok()) return correction.status();
    response.add_corrections()->Swap(&*correction);
  }
  return response;
}

}  // namespace

EventLogService::EventLogService(storage::EventLog* log, const Limits& limits,
                                 const AppendSessionOptions& session_options,
                                 const auth::CallAccess* access,
                                 Admission* admission)
    : log_(log),
      limits_(limits),
      observer_(session_options.observer),
      access_(access),
      admission_(admission),
      sessions_(log, limits, session_options, access, admission) {}

grpc::ServerUnaryReactor* EventLogService::Append(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  // Refused before parsing: a refusal costs no copy of the request.
  absl::StatusOr<auth::Principal> principal =
      access_->Check(*context, "/annals.v1.EventLog/Append");
  absl::StatusOr<Admission::Ticket> admitted =
      principal.ok() ? admission_->AdmitRequest(principal->name,
                                                request->Length())
                     : principal.status();
  return ServeUnary<v1::AppendRequest, v1::AppendResponse>(
      admitted.status(), context, request, response,
      [this, &principal, &admitted](v1::AppendRequest&& append,
                                    Respond<v1::AppendResponse> respond) {
        // The request's bytes stay admitted until its batch is answered:
        // given back before the answer, so that a client answered finds
        // the room.
        QueueAppend(log_, limits_, std::move(append),
                    std::move(principal->name), observer_,
                    [respond, ticket = *std::move(admitted)](
                        absl::StatusOr<storage::AppendResult> result) mutable {
                      ticket = Admission::Ticket();
                      if (!result.ok()) return respond(result.status());
                      v1::AppendResponse appended;
                      ToAppendResponse(*result, &appended);
                      respond(std::move(appended));
                    });
      });
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
EventLogService::AppendSession(grpc::CallbackServerContext* context) {
  return sessions_.Open(context);
}

grpc::ServerUnaryReactor* EventLogService::ReadStream(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ReadStreamRequest, v1::ReadStreamResponse>(
      access_->Check(*context, "/annals.v1.EventLog/ReadStream").status(),
      context, request, response, [this](const v1::ReadStreamRequest& read) {
        return ReadStreamPage(*log_, limits_, read);
      });
}

grpc::ServerUnaryReactor* EventLogService::ReadAll(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ReadAllRequest, v1::ReadAllResponse>(
      access_->Check(*context, "/annals.v1.EventLog/ReadAll").status(),
      context, request, response, [this](const v1::ReadAllRequest& read) {
        return ReadAllPage(*log_, limits_, read);
      });
}

grpc::ServerUnaryReactor* EventLogService::GetEvent(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetEventRequest, v1::GetEventResponse>(
      access_->Check(*context, "/annals.v1.EventLog/GetEvent").status(),
      context, request, response, [this](const v1::GetEventRequest& get) {
        return EventWithCorrections(*log_, get);
      });
}

}  // namespace annals::services
