// What annals-bench's fanout subscribers read of each message: the stream
// version and id of every event, straight off the wire bytes.
#ifndef ANNALS_CLIENTS_BENCH_WIRE_H_
#define ANNALS_CLIENTS_BENCH_WIRE_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace annals::bench {

// What a fanout subscriber checks of each event it receives.
struct EventHead {
  uint64_t stream_version = 0;  // RecordedEvent.stream_version
  absl::string_view id;         // RecordedEvent.event.id, into the bytes
};

// Calls `visit` for each event of a serialized SubscribeResponse (its
// `event`, or those of its `events`) and sets `*caught_up` when it is a
// CaughtUp; returns false when the bytes do not parse (events before the
// fault may have been visited). Reads only what the fanout check needs and
// builds no message: with 1,000 subscribers on the benchmark's machine,
// parsing a million events a second into messages was most of the
// client's CPU (a real subscriber parses its own thousand a second, on its
// own machine).
bool ScanSubscribeResponse(absl::string_view bytes, bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit);

// The same over a message in pieces (the slices gRPC received it in, in
// order), without joining them: only an event that straddles two pieces
// is copied (into a buffer of the calling thread). A 32 KiB batch arrives
// in two or more slices; joining each one was ~6% of the client's CPU.
bool ScanSubscribeResponse(const std::vector<absl::string_view>& pieces,
                           bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_WIRE_H_
