#include "services/http/sse.h"

#include "annals/v1/subscription.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace annals::http {
namespace {

using ::testing::HasSubstr;

TEST(SseTest, EachEventIsNamedByItsKindAndIdentifiedByItsPosition) {
  v1::SubscribeResponse event;
  event.mutable_event()->set_position(7);
  event.mutable_event()->set_stream("JPN-PRK");
  EXPECT_EQ(SseEventsOf(event),
            "id: 7\nevent: event\ndata: {\"position\":\"7\",\"stream\":\"JPN-PRK\"}\n\n");

  v1::SubscribeResponse batch;
  batch.mutable_events()->add_events()->set_position(8);
  batch.mutable_events()->add_events()->set_position(9);
  EXPECT_EQ(SseEventsOf(batch),
            "id: 8\nevent: event\ndata: {\"position\":\"8\"}\n\n"
            "id: 9\nevent: event\ndata: {\"position\":\"9\"}\n\n");

  v1::SubscribeResponse caught_up;
  caught_up.mutable_caught_up()->set_position(9);
  EXPECT_EQ(SseEventsOf(caught_up),
            "id: 9\nevent: caughtUp\ndata: {\"position\":\"9\"}\n\n");

  v1::WatchRelationshipResponse state;
  state.set_position(12);
  state.mutable_state()->set_dyad("JPN-PRK");
  EXPECT_THAT(SseEventsOf(state), HasSubstr("id: 12\nevent: state\ndata: {"));
}

TEST(SseTest, DataIsOneLineWhateverTheText) {
  v1::SubscribeResponse event;
  event.mutable_event()->mutable_event()->set_summary("two\nlines\r\n\n");
  const std::string text = SseEventsOf(event);
  EXPECT_EQ(text.find("\n\n"), text.size() - 2) << text;
}

TEST(SseTest, LastEventIdResumesAfterIt) {
  v1::SubscribeRequest request;
  request.mutable_from_start();
  ASSERT_TRUE(ResumeAfter("41", &request).ok());
  EXPECT_EQ(request.from_position(), 42u);
  EXPECT_THAT(ResumeAfter("x", &request),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("Last-Event-ID")));
  v1::WatchRelationshipRequest watch;
  EXPECT_TRUE(ResumeAfter("3", &watch).ok());
}

}  // namespace
}  // namespace annals::http
