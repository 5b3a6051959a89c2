// Events as subscriptions send them: the bytes of the RecordedEvent, built
// once and shared by every subscription that sends the event, and written
// into SubscribeResponse messages without parsing and serializing the event
// again per subscriber.
//
// A SubscribeResponse is written as the wire bytes of its `event` (field 1)
// or `events` (field 5) field, carried as an unknown field of an otherwise
// empty message: protobuf serializes unknown fields verbatim, so the bytes
// on the wire are those of a SubscribeResponse with the field set, and a
// client parses them as such.
#ifndef ANNALS_SERVICES_SUBSCRIPTIONS_WIRE_H_
#define ANNALS_SERVICES_SUBSCRIPTIONS_WIRE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/subscription.pb.h"
#include "grpcpp/support/byte_buffer.h"

namespace annals::services {

// One event of the log as subscriptions send it. Immutable once built;
// thread-safe.
class WireEvent {
 public:
  // Serializes `event` (its position and hash set).
  static std::shared_ptr<const WireEvent> FromEvent(
      const v1::RecordedEvent& event);
  // From the log's stored bytes of `position` (storage/format.h: the
  // RecordedEvent with `hash` unset) and its chain hash: the RecordedEvent
  // bytes are `stored` followed by the `hash` field, without parsing.
  static std::shared_ptr<const WireEvent> FromStored(uint64_t position,
                                                     std::string stored,
                                                     absl::string_view hash);

  uint64_t position() const { return position_; }
  // The size of the serialized annals.v1.RecordedEvent, hash included.
  size_t size() const { return size_; }
  // Writes the serialized annals.v1.RecordedEvent, hash included (size()
  // bytes), at `out`; returns the end.
  uint8_t* WriteTo(uint8_t* out) const;

  // The event parsed from its bytes, parsed on first use (for filters);
  // nullptr when the bytes do not parse or hold another position.
  const v1::RecordedEvent* parsed() const;

 private:
  WireEvent(uint64_t position, std::string bytes, std::string hash_field);

  const uint64_t position_;
  // The RecordedEvent is `bytes_` followed by `hash_field_` (from storage:
  // the `hash` field, kept apart so that the stored bytes are not copied
  // again to append it; else empty).
  const std::string bytes_;
  const std::string hash_field_;
  const size_t size_;
  mutable absl::once_flag parse_once_;
  mutable std::unique_ptr<v1::RecordedEvent> parsed_;  // set by parse_once_
};

using WireEventPtr = std::shared_ptr<const WireEvent>;

// Most events and bytes of events one EventBatch message carries (the
// request's max_events_per_message is capped at the first). A single event
// larger than the byte bound still goes, alone. The byte bound is also
// what a subscription holds while its write is in flight (the one copy,
// in gRPC's buffer), so a live subscription, which has only what arrived
// while its last message was in flight, gets the smaller one: 1,000
// subscribers lagging behind 1,000 events/s hold about 32 MiB (1M-event
// log: annalsd's peak 293 -> 249 MiB). One catching up reads storage in
// pages and gets the larger.
inline constexpr size_t kMaxEventsPerMessage = 1000;
inline constexpr size_t kMaxBatchBytes = 64 << 10;
inline constexpr size_t kMaxLiveBatchBytes = 32 << 10;

// The serialized SubscribeResponse with `event` as its `event`, written
// once into the buffer gRPC sends (no other copy is held).
grpc::ByteBuffer EventMessage(const WireEvent& event);

// The serialized SubscribeResponse with `events` (non-empty, in position
// order) as its `events`, written once into the buffer gRPC sends.
grpc::ByteBuffer BatchMessage(const std::vector<WireEventPtr>& events);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_SUBSCRIPTIONS_WIRE_H_
