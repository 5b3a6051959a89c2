// Server-sent events (the HTML "text/event-stream" format) of the
// streaming methods' messages:
//   - Subscribe: each event as `event: event`, `id:` its position, `data:`
//     the RecordedEvent (a batch as one such message per event); the
//     notices as `event: checkpoint`, `caughtUp`, `fellBehind`, `id:` the
//     position they name, `data:` the notice. A client that resumes with
//     Last-Event-ID N starts from position N + 1: nothing is repeated or
//     skipped, filtered or not.
//   - WatchRelationship: `event: state`, `id:` the position the state
//     includes, `data:` the WatchRelationshipResponse.
// `data:` is always one line of protobuf's canonical JSON.
#ifndef ANNALS_SERVICES_HTTP_SSE_H_
#define ANNALS_SERVICES_HTTP_SSE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace annals::http {

// The events of one message of a streaming method, formatted, each ending
// with the blank line that ends an event.
std::string SseEventsOf(const google::protobuf::Message& message);

// Resumes `request` (a SubscribeRequest) after the event whose id a
// reconnecting client sent as Last-Event-ID: from the position after it.
// Other requests are left as they are (a watch sends the state it
// includes anyway). INVALID_ARGUMENT naming Last-Event-ID when it is not a
// position.
absl::Status ResumeAfter(absl::string_view last_event_id,
                         google::protobuf::Message* request);

// A comment line that keeps a quiet stream's connection open through
// proxies and lets the client tell a live stream from a dead one.
inline constexpr char kSseHeartbeat[] = ": heartbeat\n\n";

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_SSE_H_
