#include "clients/cli/watch_command.h"

#include <iostream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "clients/cli/cli_common.h"
#include "clients/cli/relationship_commands.h"
#include "clients/cli/event_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/control_characters.h"
#include "proto/rpc_status.h"
#include "proto/subscribe_position.h"

ABSL_FLAG(std::string, dyad, "",
          "watch: only events that touch this dyad, A-B (e.g. JPN-PRK).");

namespace annals {
namespace {

// True for the ends of a stream worth reconnecting after: the connection or
// the server went away (a server that shuts down refuses or cancels calls).
bool Reconnectable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsCancelled(status);
}

}  // namespace

absl::StatusOr<v1::SubscribeRequest> MakeSubscribeRequest(
    const WatchFlags& flags) {
  v1::SubscribeRequest request;
  uint64_t position = 0;
  if (flags.from.empty() || flags.from == "now") {
    request.mutable_from_now();
  } else if (flags.from == "start") {
    request.mutable_from_start();
  } else if (absl::SimpleAtoi(flags.from, &position) && position >= 1) {
    request.set_from_position(position);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "watch: --from must be a position (1 or more), 'start' or 'now', "
        "got '",
        flags.from, "'"));
  }
  v1::SubscriptionFilter* filter = request.mutable_filter();
  filter->set_stream(flags.stream);
  filter->set_dyad(absl::AsciiStrToUpper(flags.dyad));
  filter->set_actor(absl::AsciiStrToUpper(flags.actor));
  for (std::string& kind : SplitLists(flags.kinds)) filter->add_kinds(std::move(kind));
  for (std::string& tag : SplitLists(flags.tags)) filter->add_tags(std::move(tag));
  // FollowSubscription hands the events of a batch on one by one.
  request.set_max_events_per_message(kWatchEventsPerMessage);
  return request;
}

absl::Status FollowSubscription(
    Client& client, v1::SubscribeRequest request,
    const std::function<bool(const v1::SubscribeResponse&)>& on_message,
    const std::function<void(const absl::Status&, absl::Duration, uint64_t)>&
        on_reconnect,
    const Backoff& backoff) {
  bool received = false;  // anything, ever
  absl::Duration delay = backoff.initial;
  for (;;) {
    bool received_now = false;
    v1::SubscribeResponse single;  // one event of a batch
    absl::Status status = client.Subscribe(
        request, [&](const v1::SubscribeResponse& message) {
          received = received_now = true;
          if (message.has_events()) {
            for (const v1::RecordedEvent& event : message.events().events()) {
              *single.mutable_event() = event;
              request.set_from_position(event.position() + 1);
              if (!on_message(single)) return false;
            }
            return true;
          }
          // Resume after everything this message says was reached.
          if (const uint64_t position = PositionOf(message); position > 0) {
            request.set_from_position(position + 1);
          }
          return on_message(message);
        });
    if (status.ok() || !Reconnectable(status) || !received) return status;
    if (received_now) delay = backoff.initial;
    const uint64_t from = request.start_case() == v1::SubscribeRequest::kFromPosition
                              ? request.from_position()
                              : 0;
    on_reconnect(status, delay, from);
    absl::SleepFor(delay);
    delay = std::min(backoff.max, delay * 2);
  }
}

int WatchCommand(Client& client, const std::vector<char*>& args,
                 const WatchFlags& watch_flags) {
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  if (!args.empty()) return UsageError(err, "watch takes no positional arguments");
  WatchFlags flags = watch_flags;
  flags.dyad = absl::GetFlag(FLAGS_dyad);
  absl::StatusOr<v1::SubscribeRequest> request = MakeSubscribeRequest(flags);
  if (!request.ok()) return UsageError(err, std::string(request.status().message()));

  uint64_t printed = 0;
  absl::Status status = FollowSubscription(
      client, *std::move(request),
      [&](const v1::SubscribeResponse& message) {
        if (flags.json) {
          // An event as `read --json` prints it; a notice as its own object
          // ({"caughtUp":{...}}, {"fellBehind":{...}}, {"checkpoint":{...}}).
          out << (message.has_event() ? ToJson(message.event())
                                      : ToJson(message))
              << std::endl;
        } else if (message.has_event()) {
          out << FormatEventLine(message.event()) << std::endl;
        } else if (message.has_caught_up()) {
          err << "annals: caught up at position "
              << message.caught_up().position() << "; waiting for new events"
              << std::endl;
        } else if (message.has_fell_behind()) {
          err << "annals: fell behind at position "
              << message.fell_behind().position() << " (head "
              << message.fell_behind().head() << "); catching up" << std::endl;
        }
        if (message.has_event()) ++printed;
        return flags.limit == 0 || printed < flags.limit;
      },
      [&](const absl::Status& status, absl::Duration delay, uint64_t from) {
        err << "annals: " << rpc::OneLine(status) << "; reconnecting in "
            << absl::FormatDuration(delay);
        if (from > 0) err << " from position " << from;
        err << std::endl;
      });
  if (!status.ok()) return ServerError(err, status);
  return 0;
}

int WatchRelationshipCommand(Client& client, const std::vector<char*>& args,
                             const WatchFlags& flags) {
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  v1::WatchRelationshipRequest request;
  absl::StatusOr<std::string> dyad =
      DyadOf(std::vector<std::string>(args.begin(), args.end()));
  if (!dyad.ok()) {
    return UsageError(err, absl::StrCat("watch-relationship: ",
                                        dyad.status().message()));
  }
  request.set_dyad(*dyad);
  std::string last;  // the last state printed, serialized
  bool received = false;
  absl::Duration delay = Backoff().initial;
  for (;;) {
    bool received_now = false;
    absl::Status status = client.WatchRelationship(
        request, [&](const v1::WatchRelationshipResponse& response) {
          received = received_now = true;
          // After a reconnect the server sends the state again.
          std::string state = response.state().SerializeAsString();
          if (state == last) return true;
          last = std::move(state);
          out << (flags.json ? ToJson(response) : FormatWatchedState(response))
              << std::endl;
          return true;
        });
    if (!Reconnectable(status) || !received) return ServerError(err, status);
    if (received_now) delay = Backoff().initial;
    err << "annals: " << rpc::OneLine(status) << "; reconnecting in "
        << absl::FormatDuration(delay) << std::endl;
    absl::SleepFor(delay);
    delay = std::min(Backoff().max, delay * 2);
  }
}

std::string FormatWatchedState(const v1::WatchRelationshipResponse& response) {
  const v1::RelationshipState& state = response.state();
  std::string line = absl::StrCat(state.dyad(), " at position ",
                                  response.position(), ": ",
                                  state.event_count(), " events");
  if (state.counts_size() > 0) {
    std::vector<std::string> counts;
    for (const v1::KindCount& count : state.counts()) {
      counts.push_back(absl::StrCat(count.kind(), " ", count.count()));
    }
    absl::StrAppend(&line, " (", absl::StrJoin(counts, ", "), ")");
  }
  if (state.has_last_event()) {
    absl::StrAppend(&line, ", last ", FormatOccurred(state.last_event().occurred()),
                    " ", state.last_event().kind(), " ",
                    state.last_event().event_id());
  }
  return EscapeControlCharacters(line, /*keep_newline_and_tab=*/false);
}

}  // namespace annals
