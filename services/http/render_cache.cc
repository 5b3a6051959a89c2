#include "services/http/render_cache.h"

#include <utility>
#include <vector>

#include "services/http/sse.h"
#include "services/http/transcoder.h"

namespace annals::http {
namespace {

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

// The text of `key`: its message's JSON or events; null when the bytes are
// not a message of its type.
std::shared_ptr<const std::string> Render(
    const google::protobuf::Descriptor& type, bool events,
    const std::string& bytes) {
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(&type)
          ->New());
  if (!message->ParseFromString(bytes)) return nullptr;
  return std::make_shared<const std::string>(events ? SseEventsOf(*message)
                                                    : ToJson(*message));
}

}  // namespace

std::shared_ptr<const std::string> RenderCache::Json(
    const google::protobuf::Descriptor& type, const grpc::ByteBuffer& bytes) {
  return Find(Key{&type, false, Flatten(bytes)});
}

std::shared_ptr<const std::string> RenderCache::Events(
    const google::protobuf::Descriptor& type, const grpc::ByteBuffer& bytes) {
  return Find(Key{&type, true, Flatten(bytes)});
}

std::shared_ptr<const std::string> RenderCache::Find(Key key) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = texts_.find(key); it != texts_.end()) {
      ++hits_;
      return it->second;
    }
    ++misses_;
  }
  std::shared_ptr<const std::string> text =
      Render(*key.type, key.events, key.bytes);
  const size_t size = key.bytes.size() + (text == nullptr ? 0 : text->size());
  if (text == nullptr || size > max_bytes_) return text;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = texts_.emplace(std::move(key), text);
  if (!inserted) return it->second;  // rendered meanwhile by another call
  order_.push_back(&it->first);
  bytes_ += size;
  while (bytes_ > max_bytes_) {
    auto oldest = texts_.find(*order_.front());
    bytes_ -= oldest->first.bytes.size() + oldest->second->size();
    order_.pop_front();
    texts_.erase(oldest);
  }
  return text;
}

size_t RenderCache::hits() const {
  absl::MutexLock lock(&mu_);
  return hits_;
}

size_t RenderCache::misses() const {
  absl::MutexLock lock(&mu_);
  return misses_;
}

}  // namespace annals::http
