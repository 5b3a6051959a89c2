// What the gateway writes for a serialized answer — its canonical JSON, or
// its server-sent events — kept for the next answer with the same bytes.
//
// Every subscriber of a live log receives the same bytes for the same
// event (the hub serializes each once), and a relationship's state is the
// same bytes until a commit changes it; protobuf's JSON printer costs tens
// of microseconds per event and a millisecond for a large state, so
// rendering each once instead of once per stream or call is most of the
// gateway's cost. The text depends on nothing but the bytes and the
// message type, so a kept text is always the right one.
//
// Bounded by bytes (keys and texts); the oldest entries go first.
// Thread-safe.
#ifndef ANNALS_SERVICES_HTTP_RENDER_CACHE_H_
#define ANNALS_SERVICES_HTTP_RENDER_CACHE_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/byte_buffer.h"

namespace annals::http {

class RenderCache {
 public:
  // Keeps at most `max_bytes` of keys and texts; 0 keeps nothing.
  explicit RenderCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The canonical JSON of `bytes` as a `type`; null when they are not one.
  std::shared_ptr<const std::string> Json(const google::protobuf::Descriptor& type,
                                          const grpc::ByteBuffer& bytes);
  // The server-sent events of `bytes` as a `type` (sse.h); null when they
  // are not one.
  std::shared_ptr<const std::string> Events(
      const google::protobuf::Descriptor& type, const grpc::ByteBuffer& bytes);

  // Answers found kept, and rendered (for tests and measurements).
  size_t hits() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t misses() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Key {
    const google::protobuf::Descriptor* type;
    bool events;
    std::string bytes;
    bool operator==(const Key& other) const {
      return type == other.type && events == other.events &&
             bytes == other.bytes;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& key) {
      return H::combine(std::move(h), key.type, key.events, key.bytes);
    }
  };

  std::shared_ptr<const std::string> Find(Key key) ABSL_LOCKS_EXCLUDED(mu_);

  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::node_hash_map<Key, std::shared_ptr<const std::string>> texts_
      ABSL_GUARDED_BY(mu_);
  std::deque<const Key*> order_ ABSL_GUARDED_BY(mu_);  // oldest first
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  size_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace annals::http

#endif  // ANNALS_SERVICES_HTTP_RENDER_CACHE_H_
