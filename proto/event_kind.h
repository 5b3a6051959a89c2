// The kind of an event: the name of its `what` field. One definition for the
// server (projections, counts by kind) and the clients (display).
#ifndef ANNALS_PROTO_EVENT_KIND_H_
#define ANNALS_PROTO_EVENT_KIND_H_

#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"

namespace annals {

// "meeting", "agreement", "resolution", "statement", "sanction", "military",
// "humanitarian", "policy_change" or "correction"; "" when none is set.
inline absl::string_view KindNameOf(v1::Event::WhatCase what) {
  switch (what) {
    case v1::Event::kMeeting:
      return "meeting";
    case v1::Event::kAgreement:
      return "agreement";
    case v1::Event::kResolution:
      return "resolution";
    case v1::Event::kStatement:
      return "statement";
    case v1::Event::kSanction:
      return "sanction";
    case v1::Event::kMilitary:
      return "military";
    case v1::Event::kHumanitarian:
      return "humanitarian";
    case v1::Event::kPolicyChange:
      return "policy_change";
    case v1::Event::kCorrection:
      return "correction";
    case v1::Event::WHAT_NOT_SET:
      return "";
  }
  return "";
}

inline absl::string_view KindName(const v1::Event& event) {
  return KindNameOf(event.what_case());
}

}  // namespace annals

#endif  // ANNALS_PROTO_EVENT_KIND_H_
