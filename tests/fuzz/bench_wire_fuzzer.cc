// annals-bench's subscription scanner (clients/bench/wire.h) over any
// bytes, delivered in two pieces cut where the first byte says. When the
// bytes are a SubscribeResponse exactly as protobuf writes it (and its
// batch, if any, holds only events), the scanner accepts them and sees its
// events, in order, as a full parse does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "annals/v1/subscription.pb.h"
#include "clients/bench/wire.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "tests/fuzz/fuzz_check.h"

namespace annals::fuzz {
namespace {

using Seen = std::vector<std::pair<std::string, uint64_t>>;

void CheckScan(absl::string_view bytes, size_t cut) {
  google::protobuf::io::ArrayInputStream first(bytes.data(),
                                               static_cast<int>(cut));
  google::protobuf::io::ArrayInputStream second(
      bytes.data() + cut, static_cast<int>(bytes.size() - cut));
  google::protobuf::io::ZeroCopyInputStream* pieces[] = {&first, &second};
  google::protobuf::io::ConcatenatingInputStream input(pieces, 2);
  bool caught_up = false;
  Seen seen;
  const bool scanned = bench::ScanSubscribeResponse(
      &input, &caught_up, [&seen](const bench::EventHead& head) {
        seen.emplace_back(std::string(head.id), head.stream_version);
      });

  v1::SubscribeResponse message;
  const bool written =
      message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
      message.SerializeAsString() == bytes;
  const v1::EventBatch& batch = message.events();
  if (!written || !batch.GetReflection()->GetUnknownFields(batch).empty()) {
    // Not as protobuf writes a message, or a batch with fields other than
    // events (which the scanner refuses): only the scan's safety.
    return;
  }
  Require(scanned, "the scanner accepts a well-formed message");
  Require(caught_up == message.has_caught_up(), "the scanner sees CaughtUp");
  Seen parsed;
  if (message.has_event()) {
    parsed.emplace_back(message.event().event().id(),
                        message.event().stream_version());
  }
  for (const v1::RecordedEvent& event : message.events().events()) {
    parsed.emplace_back(event.event().id(), event.stream_version());
  }
  Require(seen == parsed, "the scanner sees the message's events");
}

}  // namespace
}  // namespace annals::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  annals::fuzz::CheckScan(bytes, data[0] % (bytes.size() + 1));
  return 0;
}
