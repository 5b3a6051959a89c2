#include "services/relationships/actor_timeline.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/strings/match.h"
#include "services/model/projection.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/status_macros.h"

namespace annals::services {
namespace {

namespace format = storage::format;
using storage::Direction;
using storage::ProjectionFamily;

// Entries read from one source at a time: few at first, since a page
// takes a few from each of many dyads, then four times as many each time.
constexpr size_t kFirstChunk = 16;
constexpr size_t kLargestChunk = 1024;

// One timeline merged into the actor's: the entries read and not yet
// merged, and where to read on.
struct Source {
  std::string prefix;  // format::TimelinePrefix of the actor or a dyad
  std::deque<std::pair<std::string, std::string>> ahead;  // suffix, value
  std::string resume;        // the suffix the next read starts at
  bool skip_resume = false;  // that entry was read already
  bool done = false;         // nothing after `ahead`
  size_t chunk = kFirstChunk;  // entries the next read takes
};

// Reads the next chunk of `source` when it has nothing ahead.
absl::Status ReadAhead(const storage::EventLog& log, Direction direction,
                    Source* source) {
  if (!source->ahead.empty() || source->done) return absl::OkStatus();
  size_t taken = 0;
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kDyadTimeline, source->prefix,
      source->prefix + source->resume, direction,
      [&](absl::string_view key, absl::string_view value) {
        const absl::string_view suffix = key.substr(source->prefix.size());
        if (source->skip_resume && suffix == source->resume) return true;
        source->ahead.emplace_back(std::string(suffix), std::string(value));
        return ++taken < source->chunk;
      }));
  if (taken < source->chunk) {
    source->done = true;
  } else {
    source->resume = source->ahead.back().first;
    source->skip_resume = true;
    source->chunk = std::min(source->chunk * 4, kLargestChunk);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DyadsWithActor(
    const storage::EventLog& log, absl::string_view actor) {
  std::vector<std::string> dyads;
  const std::string prefix(1, format::kByActivityTag);
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kRelationships, prefix, prefix, Direction::kForward,
      [&](absl::string_view key, absl::string_view) {
        const absl::string_view dyad = format::DyadOfOrderKey(key);
        if (DyadHasActor(dyad, actor)) dyads.emplace_back(dyad);
        return true;
      }));
  std::sort(dyads.begin(), dyads.end());
  return dyads;
}

absl::Status ScanActorTimeline(
    const storage::EventLog& log, absl::string_view actor,
    absl::string_view start, Direction direction,
    const std::function<bool(absl::string_view key, absl::string_view value)>&
        visit) {
  const std::string own = format::TimelinePrefix(actor);
  if (!absl::StartsWith(start, own)) {
    return absl::InvalidArgumentError(
        "an actor's timeline starts at a key of its own");
  }
  const std::string from(start.substr(own.size()));
  ASSIGN_OR_RETURN(const std::vector<std::string> dyads,
                   DyadsWithActor(log, actor));
  std::vector<Source> sources(dyads.size() + 1);
  sources[0].prefix = own;
  for (size_t i = 0; i < dyads.size(); ++i) {
    sources[i + 1].prefix = format::TimelinePrefix(dyads[i]);
  }
  for (Source& source : sources) source.resume = from;
  const bool forward = direction == Direction::kForward;
  std::string key = own;
  for (;;) {
    // The next suffix over all sources; a handful of them per actor, so a
    // linear pass rather than a heap.
    Source* next = nullptr;
    for (Source& source : sources) {
      RETURN_IF_ERROR(ReadAhead(log, direction, &source));
      if (source.ahead.empty()) continue;
      const std::string& suffix = source.ahead.front().first;
      if (next == nullptr ||
          (forward ? suffix < next->ahead.front().first
                   : suffix > next->ahead.front().first)) {
        next = &source;
      }
    }
    if (next == nullptr) return absl::OkStatus();
    key.resize(own.size());
    key += next->ahead.front().first;
    const std::string value = std::move(next->ahead.front().second);
    // The same entry in other dyads of the actor is the same event.
    for (Source& source : sources) {
      if (!source.ahead.empty() &&
          absl::string_view(source.ahead.front().first) ==
              absl::string_view(key).substr(own.size())) {
        source.ahead.pop_front();
      }
    }
    if (!visit(key, value)) return absl::OkStatus();
  }
}

}  // namespace annals::services
