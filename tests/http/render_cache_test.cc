#include "services/http/render_cache.h"

#include "annals/v1/subscription.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::http {
namespace {

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

grpc::ByteBuffer EventAt(uint64_t position, const std::string& summary) {
  v1::SubscribeResponse response;
  response.mutable_event()->set_position(position);
  response.mutable_event()->mutable_event()->set_summary(summary);
  return Bytes(response.SerializeAsString());
}

const google::protobuf::Descriptor& Type() {
  return *v1::SubscribeResponse::descriptor();
}

TEST(RenderCacheTest, TheSameBytesAreRenderedOnce) {
  RenderCache cache(1 << 20);
  auto first = cache.Events(Type(), EventAt(7, "a"));
  auto again = cache.Events(Type(), EventAt(7, "a"));
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, again);  // the same text, not a copy
  EXPECT_THAT(*first, ::testing::StartsWith("id: 7\nevent: event\n"));
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  // JSON and events of the same bytes are different texts.
  auto json = cache.Json(Type(), EventAt(7, "a"));
  EXPECT_EQ(*json, R"({"event":{"event":{"summary":"a"},"position":"7"}})");
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(RenderCacheTest, KeepsAtMostItsBytesOldestGoingFirst) {
  const size_t one = EventAt(1, std::string(100, 'x')).Length();
  RenderCache cache(3 * (one + 150));
  for (uint64_t i = 1; i <= 10; ++i) {
    cache.Events(Type(), EventAt(i, std::string(100, 'x')));
  }
  EXPECT_EQ(cache.misses(), 10u);
  cache.Events(Type(), EventAt(10, std::string(100, 'x')));
  EXPECT_EQ(cache.hits(), 1u);  // the newest is kept
  cache.Events(Type(), EventAt(1, std::string(100, 'x')));
  EXPECT_EQ(cache.misses(), 11u);  // the oldest went
  RenderCache none(0);
  none.Events(Type(), EventAt(1, "a"));
  none.Events(Type(), EventAt(1, "a"));
  EXPECT_EQ(none.hits(), 0u);
}

TEST(RenderCacheTest, BytesThatAreNotTheMessageRenderNothing) {
  RenderCache cache(1 << 20);
  EXPECT_EQ(cache.Json(Type(), Bytes("\xff\xff\xff")), nullptr);
}

}  // namespace
}  // namespace annals::http
