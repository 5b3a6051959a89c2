// Events as subscriptions send them (services/subscriptions/wire.h): the
// messages built from stored bytes parse as the messages built field by
// field.
#include "services/subscriptions/wire.h"

#include <cstddef>
#include <string>
#include <vector>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"

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
  std::string bytes(event.size() + 1, '!');
  uint8_t* end = event.WriteTo(reinterpret_cast<uint8_t*>(bytes.data()));
  EXPECT_EQ(end - reinterpret_cast<uint8_t*>(bytes.data()),
            static_cast<ptrdiff_t>(event.size()));
  EXPECT_EQ(bytes.back(), '!') << "wrote past size()";
  bytes.pop_back();
  return bytes;
}

// The bytes of a message gRPC would send.
std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
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
  const std::string wire = Bytes(EventMessage(*WireEvent::FromEvent(event)));
  EXPECT_EQ(wire, expected.SerializeAsString());
  v1::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
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
  const std::string wire = Bytes(BatchMessage(wire_events));
  v1::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  ASSERT_TRUE(parsed.has_events());
  EXPECT_EQ(parsed.SerializeAsString(), expected.SerializeAsString());
  EXPECT_EQ(wire, expected.SerializeAsString());
}

TEST(WireMessageTest, ABatchLargerThanAOneByteLengthIsWhole) {
  // Enough events that the lengths need multi-byte varints.
  std::vector<WireEventPtr> wire_events;
  v1::SubscribeResponse expected;
  for (uint64_t p = 1; p <= 300; ++p) {
    const v1::RecordedEvent event = Recorded("e" + std::to_string(p), p);
    wire_events.push_back(WireEvent::FromStored(p, Stored(event), event.hash()));
    *expected.mutable_events()->add_events() = event;
  }
  EXPECT_EQ(Bytes(BatchMessage(wire_events)), expected.SerializeAsString());
}

}  // namespace
}  // namespace annals::services
