// What the server does with the events and appends it is given, for the
// targets that make them from bytes, with the properties that must hold.
#ifndef ANNALS_TESTS_FUZZ_EVENT_CHECKS_H_
#define ANNALS_TESTS_FUZZ_EVENT_CHECKS_H_

#include <string>
#include <vector>

#include "annals/v1/event.pb.h"
#include "annals/v1/event_log.pb.h"
#include "proto/rpc_status.h"
#include "services/model/goldstein.h"
#include "services/model/projection.h"
#include "services/model/validation.h"
#include "tests/fuzz/fuzz_check.h"

namespace annals::fuzz {

// Validates `event`; when it is valid, normalizes it (it stays valid),
// derives its stream, scores it (within the Goldstein range) and, in each
// dyad it touches, applies it to an empty state and removes it again,
// which must give the empty state back.
inline void CheckEvent(const v1::Event& event) {
  std::vector<rpc::FieldViolation> violations;
  services::ValidateEvent(event, "event", &violations);
  if (!violations.empty()) return;
  v1::Event normalized = event;
  services::NormalizeEvent(&normalized);
  services::ValidateEvent(normalized, "event", &violations);
  Require(violations.empty(), "a normalized valid event stays valid");
  Require(services::IsValidStreamName(services::PrimaryDyad(normalized)),
          "the primary dyad is a valid stream name");
  const int score = services::GoldsteinTenths(normalized);
  Require(score >= services::kMinGoldsteinTenths &&
              score <= services::kMaxGoldsteinTenths,
          "the Goldstein score is within range");
  for (const std::string& dyad : services::DyadsOf(normalized)) {
    const v1::RelationshipState empty = services::BuildState(dyad, {});
    v1::RelationshipState state = empty;
    services::Apply(normalized, &state);
    services::Remove(normalized, &state);
    Require(services::SerializeState(state) == services::SerializeState(empty),
            "removing the only event gives the empty state");
  }
}

// Validates `request` into a batch as QueueAppend does, with the server's
// default limits: refused with INVALID_ARGUMENT (naming fields) or
// RESOURCE_EXHAUSTED, or a batch of the request's events, each valid, under
// a valid stream name.
inline void CheckAppend(const v1::AppendRequest& request) {
  absl::StatusOr<storage::AppendBatch> batch =
      services::ToAppendBatch(request, services::Limits());
  if (!batch.ok()) {
    Require(absl::IsInvalidArgument(batch.status()) ||
                absl::IsResourceExhausted(batch.status()),
            "an append is refused as invalid or too large");
    Require(!absl::IsInvalidArgument(batch.status()) ||
                !rpc::FieldViolations(batch.status()).empty(),
            "an invalid append names its fields");
    return;
  }
  Require(services::IsValidStreamName(batch->stream), "the stream is valid");
  Require(batch->events.size() == static_cast<size_t>(request.events_size()),
          "the batch holds every event");
  for (const v1::Event& event : batch->events) {
    std::vector<rpc::FieldViolation> violations;
    services::ValidateEvent(event, "event", &violations);
    Require(violations.empty(), "a batch's events are valid");
  }
}

}  // namespace annals::fuzz

#endif  // ANNALS_TESTS_FUZZ_EVENT_CHECKS_H_
