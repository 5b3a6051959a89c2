#include "clients/bench/wire.h"

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

#include "annals/v1/subscription.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

v1::RecordedEvent Recorded(std::string id, uint64_t stream_version) {
  v1::RecordedEvent event;
  event.mutable_event()->set_id(std::move(id));
  event.mutable_event()->set_summary("Leaders met in Pyongyang.");
  event.mutable_event()->add_tags("summit");
  event.set_position(stream_version + 100);
  event.set_stream("JPN-PRK");
  event.set_stream_version(stream_version);
  event.set_principal("ministry");
  event.set_hash(std::string(32, '\x7f'));
  return event;
}

struct Scanned {
  bool parsed = false;
  bool caught_up = false;
  std::vector<std::pair<std::string, uint64_t>> events;
};

// Scans `bytes` delivered in pieces cut at `cuts` (ascending offsets), as
// gRPC may deliver a message in slices; in one piece without cuts.
Scanned Scan(const std::string& bytes, const std::vector<size_t>& cuts = {}) {
  std::deque<google::protobuf::io::ArrayInputStream> pieces;  // not movable
  size_t from = 0;
  for (size_t end : cuts) {
    pieces.emplace_back(bytes.data() + from, static_cast<int>(end - from));
    from = end;
  }
  pieces.emplace_back(bytes.data() + from, static_cast<int>(bytes.size() - from));
  std::vector<google::protobuf::io::ZeroCopyInputStream*> streams;
  for (auto& piece : pieces) streams.push_back(&piece);
  google::protobuf::io::ConcatenatingInputStream input(
      streams.data(), static_cast<int>(streams.size()));
  Scanned out;
  out.parsed = ScanSubscribeResponse(&input, &out.caught_up,
                                     [&](const EventHead& head) {
                                       out.events.emplace_back(
                                           std::string(head.id),
                                           head.stream_version);
                                     });
  return out;
}

TEST(ScanSubscribeResponseTest, ReadsOneEvent) {
  v1::SubscribeResponse message;
  *message.mutable_event() = Recorded("gen-7", 7);
  const Scanned scanned = Scan(message.SerializeAsString());
  EXPECT_TRUE(scanned.parsed);
  EXPECT_FALSE(scanned.caught_up);
  EXPECT_THAT(scanned.events, ElementsAre(Pair("gen-7", 7)));
}

TEST(ScanSubscribeResponseTest, ReadsABatchInOrder) {
  v1::SubscribeResponse message;
  for (uint64_t v : {3, 4, 5}) {
    *message.mutable_events()->add_events() =
        Recorded("gen-" + std::to_string(v), v);
  }
  const Scanned scanned = Scan(message.SerializeAsString());
  EXPECT_TRUE(scanned.parsed);
  EXPECT_THAT(scanned.events,
              ElementsAre(Pair("gen-3", 3), Pair("gen-4", 4), Pair("gen-5", 5)));
}

TEST(ScanSubscribeResponseTest, ReadsNoticesWithoutEvents) {
  v1::SubscribeResponse caught_up;
  caught_up.mutable_caught_up()->set_position(12);
  Scanned scanned = Scan(caught_up.SerializeAsString());
  EXPECT_TRUE(scanned.parsed);
  EXPECT_TRUE(scanned.caught_up);
  EXPECT_THAT(scanned.events, IsEmpty());

  v1::SubscribeResponse checkpoint;
  checkpoint.mutable_checkpoint()->set_position(12);
  scanned = Scan(checkpoint.SerializeAsString());
  EXPECT_TRUE(scanned.parsed);
  EXPECT_FALSE(scanned.caught_up);
  EXPECT_THAT(scanned.events, IsEmpty());
}

// An empty field last in an event's bytes (here the event's content) has
// no buffer left to point into; it reads as empty.
TEST(ScanSubscribeResponseTest, ReadsAnEmptyFieldLastInAnEvent) {
  v1::SubscribeResponse message;
  message.mutable_event()->mutable_event();  // RecordedEvent { event {} }
  const Scanned scanned = Scan(message.SerializeAsString());
  EXPECT_TRUE(scanned.parsed);
  EXPECT_THAT(scanned.events, ElementsAre(Pair("", 0)));
}

TEST(ScanSubscribeResponseTest, RefusesTruncatedAndGarbledBytes) {
  v1::SubscribeResponse message;
  *message.mutable_events()->add_events() = Recorded("gen-1", 1);
  *message.mutable_events()->add_events() = Recorded("gen-2", 2);
  const std::string bytes = message.SerializeAsString();
  EXPECT_FALSE(Scan(bytes.substr(0, bytes.size() - 5)).parsed);
  EXPECT_FALSE(Scan(bytes.substr(0, 3)).parsed);
  EXPECT_FALSE(Scan("\xff\xff\xff\xff\xff\xff").parsed);
  // A batch item that is not field 1 of EventBatch.
  v1::SubscribeResponse odd;
  odd.mutable_events();
  std::string wrong = odd.SerializeAsString();
  wrong += std::string("\x2a\x02\x10\x05", 4);  // events { 2: 5 }
  EXPECT_FALSE(Scan(wrong).parsed);
}

TEST(ScanSubscribeResponseTest, ReadsABatchCutAnywhere) {
  v1::SubscribeResponse message;
  for (uint64_t v : {3, 4, 5}) {
    *message.mutable_events()->add_events() =
        Recorded("gen-" + std::to_string(v), v);
  }
  const std::string bytes = message.SerializeAsString();
  const auto want =
      ElementsAre(Pair("gen-3", 3), Pair("gen-4", 4), Pair("gen-5", 5));
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    const Scanned two = Scan(bytes, {cut});
    EXPECT_TRUE(two.parsed) << "cut at " << cut;
    EXPECT_THAT(two.events, want) << "cut at " << cut;
    // And a third piece further on (empty pieces included).
    const size_t second = std::min(bytes.size(), cut + 37);
    const Scanned three = Scan(bytes, {cut, second});
    EXPECT_TRUE(three.parsed) << "cuts at " << cut << ", " << second;
    EXPECT_THAT(three.events, want) << "cuts at " << cut << ", " << second;
  }
}

TEST(ScanSubscribeResponseTest, RefusesTruncatedPieces) {
  v1::SubscribeResponse message;
  *message.mutable_events()->add_events() = Recorded("gen-1", 1);
  *message.mutable_events()->add_events() = Recorded("gen-2", 2);
  const std::string bytes = message.SerializeAsString();
  for (size_t size = 1; size < bytes.size(); ++size) {
    EXPECT_FALSE(Scan(bytes.substr(0, size), {size / 2}).parsed)
        << size << " of " << bytes.size() << " bytes";
  }
}

TEST(ScanSubscribeResponseTest, ReadsCaughtUpInPieces) {
  v1::SubscribeResponse caught_up;
  caught_up.mutable_caught_up()->set_position(12);
  const std::string bytes = caught_up.SerializeAsString();
  const Scanned scanned = Scan(bytes, {1});
  EXPECT_TRUE(scanned.parsed);
  EXPECT_TRUE(scanned.caught_up);
  EXPECT_THAT(scanned.events, IsEmpty());
}

}  // namespace
}  // namespace annals::bench
