// The position a Subscribe message says the subscription has reached: what
// a client resumes after (from_position = it + 1). One definition for the
// CLI and the tests.
#ifndef ANNALS_PROTO_SUBSCRIBE_POSITION_H_
#define ANNALS_PROTO_SUBSCRIBE_POSITION_H_

#include <cstdint>

#include "annals/v1/subscription.pb.h"

namespace annals {

// The event's position (a batch's: its last event's), or the position a
// checkpoint, caught_up or fell_behind message names; 0 for an empty
// message.
inline uint64_t PositionOf(const v1::SubscribeResponse& message) {
  switch (message.message_case()) {
    case v1::SubscribeResponse::kEvent:
      return message.event().position();
    case v1::SubscribeResponse::kCheckpoint:
      return message.checkpoint().position();
    case v1::SubscribeResponse::kCaughtUp:
      return message.caught_up().position();
    case v1::SubscribeResponse::kFellBehind:
      return message.fell_behind().position();
    case v1::SubscribeResponse::kEvents:
      return message.events().events().empty()
                 ? 0
                 : message.events().events().rbegin()->position();
    case v1::SubscribeResponse::MESSAGE_NOT_SET:
      break;
  }
  return 0;
}

}  // namespace annals

#endif  // ANNALS_PROTO_SUBSCRIBE_POSITION_H_
