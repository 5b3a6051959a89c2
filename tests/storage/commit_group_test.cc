// Commit groups one after another: whatever a group's size, the next one
// starts from an empty batch and writes exactly its own events (the writer
// reuses a group's WriteBatch, storage/rocks_commit_group.cc).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_log.h"
#include "tests/storage/test_events.h"
#include "tests/testing/status_matchers.h"

namespace annals::storage {
namespace {

using ::annals::storage::testing::MakeBatch;
using ::annals::storage::testing::MakeEvent;
using ::annals::storage::testing::ScratchDir;
using ::annals::testing::IsOk;

// Appends `count` events of `summary_bytes` each to "JPN-PRK" in one batch.
void AppendLarge(EventLog* log, const std::string& prefix, int count,
                 size_t summary_bytes) {
  std::vector<v1::Event> events;
  for (int i = 0; i < count; ++i) {
    events.push_back(MakeEvent(absl::StrCat(prefix, i),
                               std::string(summary_bytes, 'x')));
  }
  ASSERT_THAT(log->Append(MakeBatch("JPN-PRK", ExpectedVersion::Any(),
                                    std::move(events))),
              IsOk());
}

TEST(CommitGroupTest, GroupsOfEverySizeFollowOneAnother) {
  ScratchDir dir;
  LogOptions options;
  options.sync = false;
  auto log = OpenRocksEventLog(dir.Sub("log"), options);
  ASSERT_THAT(log, IsOk());
  // Small, larger than the batch the writer keeps (16 MiB), small again.
  AppendLarge(log->get(), "small-", 3, 100);
  AppendLarge(log->get(), "large-", 40, 500 << 10);
  AppendLarge(log->get(), "after-", 3, 100);
  AppendLarge(log->get(), "last-", 2, 100);

  auto page = (*log)->ReadAll(44, Direction::kForward, 10);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->events.size(), 5u);
  EXPECT_EQ(page->events[0].event().id(), "after-0");
  EXPECT_EQ(page->events[4].event().id(), "last-1");
  auto large = (*log)->GetEvent("large-39");
  ASSERT_THAT(large, IsOk());
  EXPECT_EQ(large->position(), 43u);
  EXPECT_EQ(large->event().summary().size(), 500u << 10);
  // And the log opens again with the same head.
  const uint64_t head = (*log)->GetHead().position;
  log->reset();
  auto reopened = OpenRocksEventLog(dir.Sub("log"), options);
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ((*reopened)->GetHead().position, head);
}

}  // namespace
}  // namespace annals::storage
