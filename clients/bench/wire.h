// What annals-bench's fanout subscribers read of each message: the stream
// version and id of every event, straight off the wire bytes.
#ifndef ANNALS_CLIENTS_BENCH_WIRE_H_
#define ANNALS_CLIENTS_BENCH_WIRE_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/zero_copy_stream.h"

namespace annals::bench {

// What a fanout subscriber checks of each event it receives.
struct EventHead {
  uint64_t stream_version = 0;  // RecordedEvent.stream_version
  absl::string_view id;         // RecordedEvent.event.id, into the bytes
};

// Calls `visit` for each event of a serialized SubscribeResponse (its
// `event`, or those of its `events`), read from `input` to its end, and
// sets `*caught_up` when it is a CaughtUp; returns false when the bytes do
// not parse (events before the fault may have been visited). Reads only
// what the fanout check needs and builds no message: with 1,000
// subscribers on the benchmark's machine, parsing a million events a
// second into messages was most of the client's CPU (a real subscriber
// parses its own thousand a second, on its own machine). The message may
// come in pieces (grpc::ProtoBufferReader over the slices gRPC received);
// only an event that straddles two pieces is copied (into a buffer of the
// calling thread): joining each 32 KiB batch was ~6% of the client's CPU.
bool ScanSubscribeResponse(google::protobuf::io::ZeroCopyInputStream* input,
                           bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit);

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_WIRE_H_
