#include "clients/bench_wire.h"

#include <algorithm>
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
  if (!in->ReadVarint32(&size) ||
      !in->GetDirectBufferPointer(&data, &available) ||
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

// A read position in a message's pieces.
class Pieces {
 public:
  explicit Pieces(const std::vector<absl::string_view>& pieces)
      : pieces_(pieces) {
    SkipEmpty();
  }

  bool AtEnd() const { return piece_ == pieces_.size(); }
  // Bytes read so far.
  uint64_t consumed() const { return consumed_; }

  bool ReadVarint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (AtEnd()) return false;
      const uint8_t byte = static_cast<uint8_t>(pieces_[piece_][offset_]);
      Advance(1);
      *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  // The next `size` bytes: in place when one piece holds them all, else
  // copied into `scratch`.
  bool Read(uint64_t size, absl::string_view* bytes, std::string* scratch) {
    if (AtEnd()) return size == 0 && (*bytes = {}, true);
    const absl::string_view rest = pieces_[piece_].substr(offset_);
    if (size <= rest.size()) {
      *bytes = rest.substr(0, size);
      Advance(size);
      return true;
    }
    scratch->clear();
    while (scratch->size() < size) {
      if (AtEnd()) return false;
      const absl::string_view here = pieces_[piece_].substr(
          offset_, std::min<uint64_t>(size - scratch->size(),
                                      pieces_[piece_].size() - offset_));
      scratch->append(here.data(), here.size());
      Advance(here.size());
    }
    *bytes = *scratch;
    return true;
  }

  bool Skip(uint64_t size) {
    while (size > 0) {
      if (AtEnd()) return false;
      const uint64_t here =
          std::min<uint64_t>(size, pieces_[piece_].size() - offset_);
      Advance(here);
      size -= here;
    }
    return true;
  }

 private:
  void Advance(uint64_t n) {
    offset_ += n;
    consumed_ += n;
    SkipEmpty();
  }
  void SkipEmpty() {
    while (piece_ < pieces_.size() && offset_ == pieces_[piece_].size()) {
      ++piece_;
      offset_ = 0;
    }
  }

  const std::vector<absl::string_view>& pieces_;
  size_t piece_ = 0;
  uint64_t offset_ = 0;
  uint64_t consumed_ = 0;
};

// Skips the value of a field of wire type `type`.
bool SkipValue(uint32_t type, Pieces* in) {
  uint64_t n = 0;
  switch (type) {
    case WireFormatLite::WIRETYPE_VARINT:
      return in->ReadVarint(&n);
    case WireFormatLite::WIRETYPE_FIXED64:
      return in->Skip(8);
    case WireFormatLite::WIRETYPE_LENGTH_DELIMITED:
      return in->ReadVarint(&n) && in->Skip(n);
    case WireFormatLite::WIRETYPE_FIXED32:
      return in->Skip(4);
    default:
      return false;
  }
}

}  // namespace

bool ScanSubscribeResponse(absl::string_view bytes, bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit) {
  return ScanSubscribeResponse(std::vector<absl::string_view>{bytes}, caught_up,
                               visit);
}

bool ScanSubscribeResponse(const std::vector<absl::string_view>& pieces,
                           bool* caught_up,
                           absl::FunctionRef<void(const EventHead&)> visit) {
  thread_local std::string scratch;
  Pieces in(pieces);
  // One RecordedEvent, length-delimited, at `in`.
  auto event = [&in, &visit]() {
    uint64_t size = 0;
    absl::string_view bytes;
    EventHead head;
    if (!in.ReadVarint(&size) || !in.Read(size, &bytes, &scratch) ||
        !ScanRecordedEvent(bytes, &head)) {
      return false;
    }
    visit(head);
    return true;
  };
  while (!in.AtEnd()) {
    uint64_t tag = 0;
    if (!in.ReadVarint(&tag) || tag > UINT32_MAX || (tag >> 3) == 0) {
      return false;
    }
    if (tag == WireFormatLite::MakeTag(1, kLength)) {  // event
      if (!event()) return false;
    } else if (tag == WireFormatLite::MakeTag(5, kLength)) {  // events
      uint64_t size = 0;
      if (!in.ReadVarint(&size)) return false;
      const uint64_t end = in.consumed() + size;
      while (in.consumed() < end) {  // EventBatch.events
        uint64_t item = 0;
        if (!in.ReadVarint(&item) ||
            item != WireFormatLite::MakeTag(1, kLength) || !event()) {
          return false;
        }
      }
      if (in.consumed() != end) return false;
    } else {
      if (tag == WireFormatLite::MakeTag(3, kLength)) *caught_up = true;
      if (!SkipValue(static_cast<uint32_t>(tag & 7), &in)) return false;
    }
  }
  return true;
}

}  // namespace annals::bench
