// The annals CLI commands over the Subscriptions service:
//
//   annals watch [--stream S] [--dyad A-B] [--actor A] [--kind K]...
//                [--tag T]... [--from N|start|now] [--limit N] [--json]
//   annals watch-relationship A B | A-B [--json]
//
// Both follow their stream until interrupted (or, for watch, until --limit
// events were printed). When the connection drops or the server goes away
// (UNAVAILABLE, or CANCELLED by a server shutting down) they reconnect with
// exponential backoff — watch from the last position it has seen plus one,
// so that nothing is missed or printed twice. A failure before anything was
// received, or any other error, ends the command (exit 1, one line "CODE: message" on `err`, as every annals
// command).
//
// Output: watch prints one line per event (FormatEventLine) on `out`;
// caught-up, fell-behind and reconnect notices go to `err`. With --json
// every message of the stream is one line of canonical protobuf JSON on
// `out` (annals.v1.SubscribeResponse / WatchRelationshipResponse).
#ifndef ANNALS_CLIENTS_CLI_WATCH_COMMAND_H_
#define ANNALS_CLIENTS_CLI_WATCH_COMMAND_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "annals/v1/subscription.pb.h"
#include "clients/cpp/client.h"

namespace annals {

// The flags of the watch commands (annals_main.cc fills them in).
struct WatchFlags {
  bool json = false;
  // watch: stop after printing this many events; 0 means never.
  uint64_t limit = 0;
  // watch: "N" (a position, inclusive), "start", "now"; "" means now.
  std::string from;
  std::string stream;
  std::string dyad;  // "A-B"
  std::string actor;
  std::vector<std::string> kinds;  // entries may be comma lists
  std::vector<std::string> tags;   // entries may be comma lists
};

int WatchCommand(Client& client, const std::vector<char*>& args,
                 const WatchFlags& flags);
int WatchRelationshipCommand(Client& client, const std::vector<char*>& args,
                             const WatchFlags& flags);

// --- The parts of the commands, testable without flags or a server. ---

// The events per message `annals watch` asks for
// (SubscribeRequest.max_events_per_message).
inline constexpr uint32_t kWatchEventsPerMessage = 1000;

// The request `annals watch` sends first (events in batches of up to
// kWatchEventsPerMessage). INVALID_ARGUMENT naming the flag when --from is
// neither a position >= 1, "start" nor "now".
absl::StatusOr<v1::SubscribeRequest> MakeSubscribeRequest(
    const WatchFlags& flags);

// How long to wait before reconnecting: `initial`, doubled after each
// failure that followed no message, up to `max`.
struct Backoff {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(2);
};

// Follows `request` on `client`, reconnecting on UNAVAILABLE (or CANCELLED
// by the server) after a message was received, from the last position received plus one. Calls
// `on_message` for every message (false stops: returns OK) — for each
// event of an EventBatch in turn, as a message with that one `event` — and
// `on_reconnect(status, delay, from)` before each wait. Returns the error
// that ended it.
absl::Status FollowSubscription(
    Client& client, v1::SubscribeRequest request,
    const std::function<bool(const v1::SubscribeResponse&)>& on_message,
    const std::function<void(const absl::Status&, absl::Duration, uint64_t)>&
        on_reconnect,
    const Backoff& backoff = Backoff());

// One line for a relationship state: "JPN-PRK at position 12: 34 events
// (meeting 10, statement 5), last 2019-04-25 meeting putin-kim-2019".
std::string FormatWatchedState(const v1::WatchRelationshipResponse& response);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_WATCH_COMMAND_H_
