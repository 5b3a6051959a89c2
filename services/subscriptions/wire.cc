#include "services/subscriptions/wire.h"

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

namespace {

// The bytes of a length-delimited field of `size` bytes, tag included.
size_t FieldSize(size_t size) {
  return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(size)) +
         size;
}

// Writes a length-delimited field's tag and length at `out`; returns where
// its `size` bytes go.
uint8_t* WriteFieldHead(uint8_t tag, size_t size, uint8_t* out) {
  *out++ = tag;
  return CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                 out);
}

// A buffer gRPC sends holding one length-delimited field (`tag`) of `size`
// bytes, which `fill(out)` writes.
template <typename Fill>
grpc::ByteBuffer FieldMessage(uint8_t tag, size_t size, Fill fill) {
  grpc_slice slice = grpc_slice_malloc(FieldSize(size));
  fill(WriteFieldHead(tag, size, GRPC_SLICE_START_PTR(slice)));
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&owned, 1);
}

}  // namespace

grpc::ByteBuffer EventMessage(const WireEvent& event) {
  return FieldMessage(kEventTag, event.size(),
                      [&event](uint8_t* out) { event.WriteTo(out); });
}

grpc::ByteBuffer BatchMessage(const std::vector<WireEventPtr>& events) {
  size_t batch = 0;  // the EventBatch
  for (const WireEventPtr& event : events) batch += FieldSize(event->size());
  return FieldMessage(kEventsTag, batch, [&events](uint8_t* out) {
    for (const WireEventPtr& event : events) {
      out = event->WriteTo(WriteFieldHead(kBatchEventTag, event->size(), out));
    }
  });
}

}  // namespace annals::services
