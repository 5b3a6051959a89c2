// Append requests (services/model/validation.h): PrimaryDyad, stream
// names, and ToAppendBatch, which checks a whole request (sizes, stream,
// every event, distinct ids, one primary dyad) before anything is queued.
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/model/validation.h"
#include "services/model/validation_paths.h"

namespace annals::services {
namespace {

using validation_internal::Add;
using validation_internal::CheckIdForm;
using validation_internal::Field;
using validation_internal::Index;
using validation_internal::IsIdForm;
using validation_internal::Quote;
using validation_internal::Violations;

storage::ExpectedVersion ToExpectedVersion(const v1::AppendRequest& request) {
  switch (request.expected_version_case()) {
    case v1::AppendRequest::kAny:
      return storage::ExpectedVersion::Any();
    case v1::AppendRequest::kNoStream:
      return storage::ExpectedVersion::NoStream();
    case v1::AppendRequest::kStreamExists:
      return storage::ExpectedVersion::StreamExists();
    case v1::AppendRequest::kExact:
      return storage::ExpectedVersion::Exact(request.exact());
    case v1::AppendRequest::EXPECTED_VERSION_NOT_SET:
      break;
  }
  return storage::ExpectedVersion::Any();
}

}  // namespace

bool IsValidStreamName(absl::string_view stream) { return IsIdForm(stream); }

std::string PrimaryDyad(const v1::Event& event) {
  if (event.source().empty()) return "";
  const std::string& first = event.source(0);
  std::string second;
  if (!event.target().empty()) {
    second = event.target(0);
  } else {
    for (const std::string& s : event.source()) {
      if (s != first) {
        second = s;
        break;
      }
    }
  }
  if (second.empty() || second == first) return first;
  return first < second ? absl::StrCat(first, "-", second)
                        : absl::StrCat(second, "-", first);
}

absl::StatusOr<storage::AppendBatch> ToAppendBatch(
    v1::AppendRequest request, const Limits& limits) {
  const size_t count = static_cast<size_t>(request.events_size());
  // Size limits first: they bound the work done below.
  if (count > limits.max_append_events) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "events: ", count, " events exceed the limit of ",
        limits.max_append_events, " events per append; split the batch"));
  }
  for (int i = 0; i < request.events_size(); ++i) {
    const size_t bytes = request.events(i).ByteSizeLong();
    if (bytes > limits.max_event_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          Index("events", i), ": serialized event is ", bytes,
          " bytes, more than the limit of ", limits.max_event_bytes,
          " bytes per event"));
    }
  }

  Violations violations;
  if (!request.stream().empty() && !IsValidStreamName(request.stream())) {
    CheckIdForm(request.stream(), "stream", &violations);
  }
  if (count == 0) {
    Add(&violations, "events",
        "at least one event is required (1 to " +
            absl::StrCat(limits.max_append_events) + " per append)");
  }

  std::vector<bool> event_ok(count, false);
  absl::flat_hash_map<absl::string_view, int> first_index_of_id;
  for (int i = 0; i < request.events_size(); ++i) {
    const v1::Event& event = request.events(i);
    const std::string path = Index("events", i);
    const size_t before = violations.size();
    ValidateEvent(event, path, &violations);
    if (IsIdForm(event.id())) {
      auto [it, inserted] = first_index_of_id.try_emplace(event.id(), i);
      if (!inserted) {
        Add(&violations, Field(path, "id"),
            absl::StrCat(Quote(event.id()), " is already the id of ",
                         Index("events", it->second),
                         "; ids must be distinct within a batch"));
      }
    }
    event_ok[i] = violations.size() == before;
  }

  // The stream: given, or the primary dyad shared by every event. Derived
  // only from events that are otherwise valid.
  std::string stream = request.stream();
  if (stream.empty()) {
    int reference = -1;
    std::string reference_dyad;
    for (int i = 0; i < request.events_size(); ++i) {
      if (!event_ok[i]) continue;
      const std::string dyad = PrimaryDyad(request.events(i));
      if (reference < 0) {
        reference = i;
        reference_dyad = dyad;
      } else if (dyad != reference_dyad) {
        Add(&violations, Index("events", i),
            absl::StrCat("primary dyad ", dyad, " differs from ",
                         reference_dyad, " of ", Index("events", reference),
                         "; set `stream` explicitly to append them "
                         "together"));
      }
    }
    stream = std::move(reference_dyad);
  }

  if (!violations.empty()) return rpc::InvalidArgument(violations);

  storage::AppendBatch batch;
  batch.stream = std::move(stream);
  batch.expected = ToExpectedVersion(request);
  batch.events.reserve(count);
  // Moved, not copied: the request is ours (without an arena, a move
  // swaps).
  for (v1::Event& event : *request.mutable_events()) {
    batch.events.push_back(std::move(event));
    NormalizeEvent(&batch.events.back());
  }
  return batch;
}

}  // namespace annals::services
