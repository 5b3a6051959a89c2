#include "clients/bench/wire.h"

#include <string>

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
  if (!in->ReadVarint32(&size)) return false;
  if (size == 0) {  // there may be no buffer left to point into
    *bytes = absl::string_view();
    return true;
  }
  if (!in->GetDirectBufferPointer(&data, &available) ||
      static_cast<uint32_t>(available) < size) {
    return false;
  }
  *bytes = absl::string_view(static_cast<const char*>(data), size);
  return in->Skip(static_cast<int>(size));
}

// Event.id (field 1) of an Event's bytes. Protobuf writes fields in
// field-number order, so the id comes first: the rest is not read (the
// bytes' length was read from the RecordedEvent's framing already).
bool ScanEvent(absl::string_view bytes, EventHead* head) {
  CodedInputStream in = Over(bytes);
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == WireFormatLite::MakeTag(1, kLength)) {
      return ReadBytes(&in, &head->id);
    }
    if (!WireFormatLite::SkipField(&in, tag)) return false;
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

bool ScanSubscribeResponse(google::protobuf::io::ZeroCopyInputStream* input,
                           bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit) {
  thread_local std::string scratch;
  CodedInputStream in(input);
  // One RecordedEvent, length-delimited, at `in`: in place when the piece
  // at hand holds all of it, else copied.
  auto event = [&in, &visit]() {
    uint32_t size = 0;
    const void* data = nullptr;
    int available = 0;
    absl::string_view bytes;
    if (!in.ReadVarint32(&size)) return false;
    if (in.GetDirectBufferPointer(&data, &available) &&
        static_cast<uint32_t>(available) >= size) {
      bytes = absl::string_view(static_cast<const char*>(data), size);
      if (!in.Skip(static_cast<int>(size))) return false;
    } else if (in.ReadString(&scratch, static_cast<int>(size))) {
      bytes = scratch;
    } else {
      return false;
    }
    EventHead head;
    if (!ScanRecordedEvent(bytes, &head)) return false;
    visit(head);
    return true;
  };
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == WireFormatLite::MakeTag(1, kLength)) {  // event
      if (!event()) return false;
    } else if (tag == WireFormatLite::MakeTag(5, kLength)) {  // events
      uint32_t size = 0;
      if (!in.ReadVarint32(&size)) return false;
      const CodedInputStream::Limit batch =
          in.PushLimit(static_cast<int>(size));
      while (const uint32_t item = in.ReadTag()) {  // EventBatch.events
        if (item != WireFormatLite::MakeTag(1, kLength) || !event()) {
          return false;
        }
      }
      if (!in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0) {
        return false;
      }
      in.PopLimit(batch);
    } else {
      if (tag == WireFormatLite::MakeTag(3, kLength)) *caught_up = true;
      if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace annals::bench
