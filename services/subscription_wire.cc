#include "services/subscription_wire.h"

#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"

namespace annals::services {
namespace {

using ::google::protobuf::io::CodedOutputStream;

// RecordedEvent.hash is field 7, length-delimited: tag (7 << 3) | 2.
constexpr char kHashTag = static_cast<char>((7 << 3) | 2);
// EventBatch.events is field 1, length-delimited.
constexpr uint8_t kBatchEventTag = (1 << 3) | 2;
// The SubscribeResponse fields written as unknown fields.
constexpr int kEventField = 1;
constexpr int kEventsField = 5;

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

void WireEvent::AppendTo(std::string* out) const {
  out->append(bytes_);
  out->append(hash_field_);
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

void SetEventMessage(const WireEvent& event, v1::SubscribeResponse* out) {
  out->Clear();
  std::string* field = out->GetReflection()
                           ->MutableUnknownFields(out)
                           ->AddLengthDelimited(kEventField);
  field->reserve(event.size());
  event.AppendTo(field);
}

void SetBatchMessage(const std::vector<WireEventPtr>& events,
                     v1::SubscribeResponse* out) {
  out->Clear();
  size_t size = 0;
  for (const WireEventPtr& event : events) size += event->size() + 6;
  std::string* batch = out->GetReflection()
                           ->MutableUnknownFields(out)
                           ->AddLengthDelimited(kEventsField);
  batch->reserve(size);
  for (const WireEventPtr& event : events) {
    batch->push_back(static_cast<char>(kBatchEventTag));
    AppendVarint32(static_cast<uint32_t>(event->size()), batch);
    event->AppendTo(batch);
  }
}

}  // namespace annals::services
