#include "services/subscription_wire.h"

#include <cstring>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "grpc/slice.h"
#include "grpcpp/support/slice.h"

namespace annals::services {
namespace {

using ::google::protobuf::io::CodedOutputStream;

// RecordedEvent.hash is field 7, length-delimited: tag (7 << 3) | 2.
constexpr char kHashTag = static_cast<char>((7 << 3) | 2);
// EventBatch.events is field 1, length-delimited.
constexpr uint8_t kBatchEventTag = (1 << 3) | 2;
// SubscribeResponse.event (field 1) and .events (field 5), length-delimited.
constexpr uint8_t kEventTag = (1 << 3) | 2;
constexpr uint8_t kEventsTag = (5 << 3) | 2;

void AppendVarint32(uint32_t value, std::string* out) {
  uint8_t buffer[5];
  const uint8_t* end = CodedOutputStream::WriteVarint32ToArray(value, buffer);
  out->append(reinterpret_cast<const char*>(buffer),
              static_cast<size_t>(end - buffer));
}

}  // namespace

WireEvent::WireEvent(uint64_t position, std::string bytes,
                     std::string hash_field)
    : position_(position),
      bytes_(std::move(bytes)),
      hash_field_(std::move(hash_field)),
      size_(bytes_.size() + hash_field_.size()) {}

std::shared_ptr<const WireEvent> WireEvent::FromEvent(
    const v1::RecordedEvent& event) {
  return std::shared_ptr<const WireEvent>(
      new WireEvent(event.position(), event.SerializeAsString(), ""));
}

std::shared_ptr<const WireEvent> WireEvent::FromStored(
    uint64_t position, std::string stored, absl::string_view hash) {
  // Protobuf fields may come in any order; `hash` is not in `stored`.
  std::string hash_field;
  hash_field.push_back(kHashTag);
  AppendVarint32(static_cast<uint32_t>(hash.size()), &hash_field);
  hash_field.append(hash.data(), hash.size());
  return std::shared_ptr<const WireEvent>(
      new WireEvent(position, std::move(stored), std::move(hash_field)));
}

uint8_t* WireEvent::WriteTo(uint8_t* out) const {
  std::memcpy(out, bytes_.data(), bytes_.size());
  out += bytes_.size();
  std::memcpy(out, hash_field_.data(), hash_field_.size());
  return out + hash_field_.size();
}

const v1::RecordedEvent* WireEvent::parsed() const {
  absl::call_once(parse_once_, [this] {
    auto event = std::make_unique<v1::RecordedEvent>();
    if (event->ParseFromString(bytes_) &&
        event->MergeFromString(hash_field_) &&
        event->position() == position_) {
      parsed_ = std::move(event);
    }
  });
  return parsed_.get();
}

grpc::ByteBuffer EventMessage(const WireEvent& event) {
  const size_t size = event.size();
  grpc_slice slice =
      grpc_slice_malloc(1 + CodedOutputStream::VarintSize32(
                                static_cast<uint32_t>(size)) + size);
  uint8_t* out = GRPC_SLICE_START_PTR(slice);
  *out++ = kEventTag;
  out = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                out);
  event.WriteTo(out);
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&owned, 1);
}

grpc::ByteBuffer BatchMessage(const std::vector<WireEventPtr>& events) {
  size_t batch = 0;  // the EventBatch
  for (const WireEventPtr& event : events) {
    batch += 1 + CodedOutputStream::VarintSize32(
                     static_cast<uint32_t>(event->size())) +
             event->size();
  }
  grpc_slice slice =
      grpc_slice_malloc(1 + CodedOutputStream::VarintSize32(
                                static_cast<uint32_t>(batch)) + batch);
  uint8_t* out = GRPC_SLICE_START_PTR(slice);
  *out++ = kEventsTag;
  out = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(batch),
                                                out);
  for (const WireEventPtr& event : events) {
    *out++ = kBatchEventTag;
    out = CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(event->size()), out);
    out = event->WriteTo(out);
  }
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&owned, 1);
}

}  // namespace annals::services
