// Events as subscriptions send them (services/subscription_wire.h): the
// messages built from stored bytes parse as the messages built field by
// field.
#include "services/subscription_wire.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/events.h"

namespace annals::services {
namespace {

v1::RecordedEvent Recorded(const std::string& id, uint64_t position) {
  v1::RecordedEvent event;
  *event.mutable_event() = testing::MakeMeeting(id);
  event.set_position(position);
  event.set_stream("JPN-PRK");
  event.set_stream_version(position);
  event.set_principal("test");
  event.set_hash(std::string(32, static_cast<char>('a' + position)));
  return event;
}

std::string Bytes(const WireEvent& event) {
  std::string bytes;
  event.AppendTo(&bytes);
  EXPECT_EQ(bytes.size(), event.size());
  return bytes;
}

// The stored form of `event` (storage/format.h): serialized without hash.
std::string Stored(v1::RecordedEvent event) {
  event.clear_hash();
  return event.SerializeAsString();
}

TEST(WireEventTest, FromStoredAddsTheHashAndParsesAsTheRecordedEvent) {
  const v1::RecordedEvent event = Recorded("a", 7);
  WireEventPtr wire = WireEvent::FromStored(7, Stored(event), event.hash());
  EXPECT_EQ(wire->position(), 7u);
  v1::RecordedEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(Bytes(*wire)));
  EXPECT_EQ(parsed.SerializeAsString(), event.SerializeAsString());
  ASSERT_NE(wire->parsed(), nullptr);
  EXPECT_EQ(wire->parsed()->SerializeAsString(), event.SerializeAsString());
  EXPECT_EQ(wire->parsed(), wire->parsed());  // parsed once
}

TEST(WireEventTest, BytesThatDoNotParseOrHoldAnotherPositionHaveNoEvent) {
  EXPECT_EQ(WireEvent::FromStored(1, "\xff\xff", "")->parsed(), nullptr);
  const v1::RecordedEvent event = Recorded("a", 7);
  EXPECT_EQ(WireEvent::FromStored(8, Stored(event), event.hash())->parsed(),
            nullptr);
}

TEST(WireMessageTest, OneEventIsTheMessageWithThatEvent) {
  const v1::RecordedEvent event = Recorded("a", 3);
  v1::SubscribeResponse expected;
  *expected.mutable_event() = event;
  v1::SubscribeResponse wire;
  wire.mutable_caught_up()->set_position(1);  // cleared first
  SetEventMessage(*WireEvent::FromEvent(event), &wire);
  EXPECT_EQ(wire.SerializeAsString(), expected.SerializeAsString());
  v1::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
  ASSERT_TRUE(parsed.has_event());
  EXPECT_EQ(parsed.event().SerializeAsString(), event.SerializeAsString());
}

TEST(WireMessageTest, ABatchIsTheEventsMessageInOrder) {
  std::vector<WireEventPtr> wire_events;
  v1::SubscribeResponse expected;
  for (uint64_t p = 10; p < 15; ++p) {
    const v1::RecordedEvent event = Recorded("e" + std::to_string(p), p);
    wire_events.push_back(p % 2 == 0
                              ? WireEvent::FromEvent(event)
                              : WireEvent::FromStored(p, Stored(event),
                                                      event.hash()));
    *expected.mutable_events()->add_events() = event;
  }
  v1::SubscribeResponse wire;
  SetBatchMessage(wire_events, &wire);
  v1::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
  ASSERT_TRUE(parsed.has_events());
  EXPECT_EQ(parsed.SerializeAsString(), expected.SerializeAsString());
}

}  // namespace
}  // namespace annals::services
