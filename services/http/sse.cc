#include "services/http/sse.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "annals/v1/subscription.pb.h"
#include "proto/rpc_status.h"
#include "services/http/transcoder.h"

namespace annals::http {
namespace {

void Append(std::string* out, uint64_t id, absl::string_view event,
            const google::protobuf::Message& data) {
  // Canonical JSON escapes control characters, so `data` is one line.
  absl::StrAppend(out, "id: ", id, "\nevent: ", event, "\ndata: ", ToJson(data),
                  "\n\n");
}

}  // namespace

std::string SseEventsOf(const google::protobuf::Message& message) {
  std::string out;
  if (const auto* watch =
          dynamic_cast<const v1::WatchRelationshipResponse*>(&message)) {
    Append(&out, watch->position(), "state", *watch);
    return out;
  }
  const auto* subscribe = dynamic_cast<const v1::SubscribeResponse*>(&message);
  if (subscribe == nullptr) {
    absl::StrAppend(&out, "event: message\ndata: ", ToJson(message), "\n\n");
    return out;
  }
  switch (subscribe->message_case()) {
    case v1::SubscribeResponse::kEvent:
      Append(&out, subscribe->event().position(), "event", subscribe->event());
      break;
    case v1::SubscribeResponse::kEvents:
      for (const v1::RecordedEvent& event : subscribe->events().events()) {
        Append(&out, event.position(), "event", event);
      }
      break;
    case v1::SubscribeResponse::kCheckpoint:
      Append(&out, subscribe->checkpoint().position(), "checkpoint",
             subscribe->checkpoint());
      break;
    case v1::SubscribeResponse::kCaughtUp:
      Append(&out, subscribe->caught_up().position(), "caughtUp",
             subscribe->caught_up());
      break;
    case v1::SubscribeResponse::kFellBehind:
      Append(&out, subscribe->fell_behind().position(), "fellBehind",
             subscribe->fell_behind());
      break;
    case v1::SubscribeResponse::MESSAGE_NOT_SET:
      break;
  }
  return out;
}

absl::Status ResumeAfter(absl::string_view last_event_id,
                         google::protobuf::Message* request) {
  auto* subscribe = dynamic_cast<v1::SubscribeRequest*>(request);
  if (subscribe == nullptr) return absl::OkStatus();
  uint64_t position;
  if (!absl::SimpleAtoi(last_event_id, &position)) {
    return rpc::InvalidArgument(
        {{"Last-Event-ID",
          absl::StrCat("must be the id of an event of this stream (a log "
                       "position), got '",
                       last_event_id, "'")}});
  }
  subscribe->set_from_position(position + 1);
  return absl::OkStatus();
}

}  // namespace annals::http
