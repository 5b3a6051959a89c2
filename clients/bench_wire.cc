#include "clients/bench_wire.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace annals::bench {
namespace {

using ::google::protobuf::internal::WireFormatLite;
using ::google::protobuf::io::CodedInputStream;

constexpr auto kLength = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;

CodedInputStream Over(absl::string_view bytes) {
  return CodedInputStream(reinterpret_cast<const uint8_t*>(bytes.data()),
                          static_cast<int>(bytes.size()));
}

// Reads the bytes of the length-delimited field whose tag `in` just read.
bool ReadBytes(CodedInputStream* in, absl::string_view* bytes) {
  uint32_t size = 0;
  const void* data = nullptr;
  int available = 0;
  if (!in->ReadVarint32(&size) ||
      !in->GetDirectBufferPointer(&data, &available) ||
      static_cast<uint32_t>(available) < size) {
    return false;
  }
  *bytes = absl::string_view(static_cast<const char*>(data), size);
  return in->Skip(static_cast<int>(size));
}

// Event.id (field 1) of an Event's bytes.
bool ScanEvent(absl::string_view bytes, EventHead* head) {
  CodedInputStream in = Over(bytes);
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == WireFormatLite::MakeTag(1, kLength)) {
      if (!ReadBytes(&in, &head->id)) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

// RecordedEvent.event (1) and .stream_version (4) of a RecordedEvent's
// bytes.
bool ScanRecordedEvent(absl::string_view bytes, EventHead* head) {
  CodedInputStream in = Over(bytes);
  while (const uint32_t tag = in.ReadTag()) {
    absl::string_view event;
    if (tag == WireFormatLite::MakeTag(4, WireFormatLite::WIRETYPE_VARINT)) {
      if (!in.ReadVarint64(&head->stream_version)) return false;
    } else if (tag == WireFormatLite::MakeTag(1, kLength)) {
      if (!ReadBytes(&in, &event) || !ScanEvent(event, head)) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace

bool ScanSubscribeResponse(absl::string_view bytes, bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit) {
  CodedInputStream in = Over(bytes);
  while (const uint32_t tag = in.ReadTag()) {
    absl::string_view field;
    EventHead head;
    if (tag == WireFormatLite::MakeTag(1, kLength)) {  // event
      if (!ReadBytes(&in, &field) || !ScanRecordedEvent(field, &head)) {
        return false;
      }
      visit(head);
    } else if (tag == WireFormatLite::MakeTag(5, kLength)) {  // events
      if (!ReadBytes(&in, &field)) return false;
      CodedInputStream batch = Over(field);
      while (const uint32_t item = batch.ReadTag()) {  // EventBatch.events
        absl::string_view event;
        head = EventHead();
        if (item != WireFormatLite::MakeTag(1, kLength) ||
            !ReadBytes(&batch, &event) || !ScanRecordedEvent(event, &head)) {
          return false;
        }
        visit(head);
      }
      if (!batch.ConsumedEntireMessage()) return false;
    } else {
      if (tag == WireFormatLite::MakeTag(3, kLength)) *caught_up = true;
      if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace annals::bench
