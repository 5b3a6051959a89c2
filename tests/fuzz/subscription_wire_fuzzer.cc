// Events as subscriptions send them (services/subscriptions/wire.h), built
// from any stored bytes and hash: written exactly size() bytes; and when
// the stored bytes are a RecordedEvent, parsed() is that event with its
// hash, and the Event and EventBatch messages parse as SubscribeResponses
// carrying it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "services/subscriptions/wire.h"
#include "tests/fuzz/fuzz_check.h"

namespace annals::fuzz {
namespace {

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  Require(buffer.Dump(&slices).ok(), "a message dumps");
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

void CheckWire(absl::string_view hash, absl::string_view stored) {
  v1::RecordedEvent expected;
  const bool parses = expected.ParseFromArray(stored.data(),
                                              static_cast<int>(stored.size()));
  expected.set_hash(std::string(hash));
  const services::WireEventPtr event = services::WireEvent::FromStored(
      parses ? expected.position() : 1, std::string(stored), hash);

  std::string written(event->size() + 1, '\xee');
  uint8_t* begin = reinterpret_cast<uint8_t*>(written.data());
  Require(event->WriteTo(begin) == begin + event->size() &&
              written.back() == '\xee',
          "WriteTo writes size() bytes");
  if (!parses) {
    Require(event->parsed() == nullptr, "bytes that do not parse give no event");
    return;
  }
  const std::string want = expected.SerializeAsString();
  Require(event->parsed() != nullptr &&
              event->parsed()->SerializeAsString() == want,
          "parsed() is the stored event with its hash");

  v1::SubscribeResponse one;
  Require(one.ParseFromString(Bytes(services::EventMessage(*event))) &&
              one.event().SerializeAsString() == want,
          "the Event message carries the event");
  v1::SubscribeResponse batch;
  Require(batch.ParseFromString(Bytes(services::BatchMessage(
              {event, services::WireEvent::FromEvent(expected)}))) &&
              batch.events().events_size() == 2 &&
              batch.events().events(0).SerializeAsString() == want &&
              batch.events().events(1).SerializeAsString() == want,
          "the EventBatch message carries the events");
}

}  // namespace
}  // namespace annals::fuzz

// The first byte is the hash's length (at most 63), then the hash, then
// the stored bytes.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t hash_size = std::min<size_t>(data[0] % 64, size - 1);
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  annals::fuzz::CheckWire(rest.substr(0, hash_size), rest.substr(hash_size));
  return 0;
}
