// Exports: written from a server over the seed timeline (with corrections),
// verified offline; every kind of damage is found and named; and a replay
// of the export equals the server's own answers as of positions and dates.
#include "clients/cli/export.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/client.h"
#include "clients/cli/relationship_commands.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/date_text.h"
#include "rocksdb/db.h"
#include "services/model/projection.h"
#include "services/server/server.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "tests/relationships/seeded_log.h"
#include "tests/testing/status_matchers.h"

namespace annals {
namespace {

using ::annals::testing::IsOk;
using ::annals::testing::StatusIs;
using ::testing::HasSubstr;

// A projected log in a scratch directory that can be closed and reopened.
class SeedLog {
 public:
  SeedLog() : path_(dir_.Sub("log")) { Open(); }
  storage::EventLog& log() { return *log_; }
  const std::string& path() const { return path_; }
  void Open() {
    storage::LogOptions options;
    options.sync = false;
    options.projector = &projector_;
    auto log = storage::OpenRocksEventLog(path_, options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  void Close() { log_.reset(); }
  void Append(const std::vector<v1::Event>& events, size_t batch = 1) {
    for (size_t i = 0; i < events.size(); i += batch) {
      std::vector<v1::Event> part(
          events.begin() + i,
          events.begin() + std::min(events.size(), i + batch));
      auto result = log_->Append(storage::testing::MakeBatch(
          "test", storage::ExpectedVersion::Any(), std::move(part)));
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

 private:
  storage::testing::ScratchDir dir_;
  std::string path_;
  services::RelationshipProjector projector_;
  std::unique_ptr<storage::EventLog> log_;
};

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<v1::Event> events = testing::SeedEvents();
    // An amendment and a retraction, so that replay has corrections to fold.
    v1::Event amend;
    amend.set_id("audit-amend");
    v1::Correction* a = amend.mutable_correction();
    a->set_corrects_event_id(events[0].id());
    a->set_action(v1::Correction::ACTION_AMEND);
    a->set_reason("the date was wrong");
    *a->mutable_amended() = events[0];
    a->mutable_amended()->mutable_occurred()->mutable_start()->set_year(
        events[0].occurred().start().year() + 1);
    *amend.mutable_source() = events[0].source();
    *amend.mutable_target() = events[0].target();
    *amend.mutable_occurred() = events[0].occurred();
    *amend.mutable_sources() = events[0].sources();
    amend.set_summary("Corrects the date.");
    v1::Event retract = amend;
    retract.set_id("audit-retract");
    retract.mutable_correction()->clear_amended();
    retract.mutable_correction()->set_corrects_event_id(events[5].id());
    retract.mutable_correction()->set_action(v1::Correction::ACTION_RETRACT);
    retract.mutable_correction()->set_reason("recorded in error");
    services::NormalizeEvent(&amend);
    services::NormalizeEvent(&retract);
    const size_t half = events.size() / 2;
    std::vector<v1::Event> first(events.begin(), events.begin() + half);
    std::vector<v1::Event> second(events.begin() + half, events.end());
    log_.Append(first, 7);
    log_.Append({amend});
    log_.Append(second, 5);
    log_.Append({retract});
    StartServer();
  }

  void StartServer() {
    services::ServerOptions options;
    options.listen = "";
    auto server = services::Server::Start(options, &log_.log());
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    client_ = std::make_unique<Client>(server_->InProcessChannel(),
                                       absl::Seconds(10));
    auto key = client_->GetPublicKey();
    ASSERT_THAT(key, IsOk());
    public_key_ = key->public_key_pem();
  }
  void StopServer() {
    client_.reset();
    server_.reset();
  }

  std::string Export() {
    std::stringstream out;
    absl::StatusOr<uint64_t> written = WriteExport(*client_, out);
    EXPECT_THAT(written, IsOk());
    return out.str();
  }

  absl::StatusOr<VerifiedExport> Verify(const std::string& file) {
    std::stringstream in(file);
    return ReadVerifiedExport(in, public_key_);
  }

  SeedLog log_;
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Client> client_;
  std::string public_key_;
};

std::vector<std::string> Lines(const std::string& file) {
  return absl::StrSplit(file, '\n', absl::SkipEmpty());
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) absl::StrAppend(&out, line, "\n");
  return out;
}

// Line i + 1 holds position i (line 0 is the header): rewritten by `change`.
std::string WithRecord(const std::string& file, size_t line,
                       const std::function<void(v1::ExportRecord*)>& change) {
  std::vector<std::string> lines = Lines(file);
  v1::ExportRecord record;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(lines[line], &record).ok());
  change(&record);
  lines[line].clear();
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(record, &lines[line]).ok());
  return Join(lines);
}

TEST_F(ExportTest, ExportVerifiesOffline) {
  const std::string file = Export();
  absl::StatusOr<VerifiedExport> verified = Verify(file);
  ASSERT_THAT(verified, IsOk());
  const uint64_t head = log_.log().GetHead().position;
  EXPECT_EQ(verified->events.size(), head);
  EXPECT_EQ(verified->tree_head.tree_size(), head);
  EXPECT_EQ(verified->tree_head.root_hash(), log_.log().GetTreeHead().root);
  EXPECT_EQ(verified->events.back().hash(), log_.log().GetHead().hash);
  EXPECT_EQ(Lines(file).size(), head + 2);
}

TEST_F(ExportTest, AnotherKeyIsRejected) {
  auto other = services::TreeHeadSigner::Generate();
  ASSERT_THAT(other, IsOk());
  std::stringstream in(Export());
  EXPECT_THAT(ReadVerifiedExport(in, (*other)->public_key_pem()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("another key")));
}

TEST_F(ExportTest, ChangedStoredBytesNameThePosition) {
  const std::string file = WithRecord(Export(), 17, [](v1::ExportRecord* r) {
    std::string* stored = r->mutable_event()->mutable_stored();
    (*stored)[stored->size() / 2] ^= 0x01;
  });
  EXPECT_THAT(Verify(file),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 17:")));
}

TEST_F(ExportTest, AFlippedByteAnywhereInARecordNamesThePosition) {
  const std::string original = Export();
  const std::vector<std::string> lines = Lines(original);
  // Every 7th byte of position 30's line, one at a time.
  for (size_t at = 0; at < lines[30].size(); at += 7) {
    std::vector<std::string> damaged = lines;
    damaged[30][at] ^= 0x01;
    absl::StatusOr<VerifiedExport> verified = Verify(Join(damaged));
    if (verified.ok()) {
      // Only a flip that leaves the JSON meaning the same bytes (e.g. the
      // case of a key letter JSON parsing ignores) may pass.
      v1::ExportRecord a, b;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[30], &a).ok());
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(damaged[30], &b).ok());
      EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString()) << "byte " << at;
      continue;
    }
    EXPECT_THAT(verified.status().message(), HasSubstr("position 30")) << at;
  }
}

TEST_F(ExportTest, RecomputedChainStillFailsOnTheRoot) {
  // Rewrite position 3 and every chain hash after it: the chain checks out,
  // the signed root does not.
  std::vector<std::string> lines = Lines(Export());
  std::string chain = std::string(32, '\0');
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    v1::ExportRecord record;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &record).ok());
    v1::StoredEvent* event = record.mutable_event();
    if (i == 3) {
      v1::RecordedEvent recorded;
      ASSERT_TRUE(recorded.ParseFromString(event->stored()));
      recorded.mutable_event()->set_summary("Rewritten history.");
      event->set_stored(recorded.SerializeAsString());
    }
    chain = storage::ChainHash(chain, event->stored());
    event->set_chain_hash(chain);
    lines[i].clear();
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(record, &lines[i]).ok());
  }
  EXPECT_THAT(Verify(Join(lines)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("tree head: the Merkle root")));
}

TEST_F(ExportTest, TruncationIsDetected) {
  const std::string file = Export();
  // Cut in the middle of a line.
  EXPECT_THAT(Verify(file.substr(0, file.size() / 2)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  // Cut at a line boundary: the tree head is gone.
  std::vector<std::string> lines = Lines(file);
  lines.pop_back();
  lines.pop_back();
  EXPECT_THAT(Verify(Join(lines)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("truncated: no signed tree head")));
  // The last position removed, the tree head kept.
  lines = Lines(file);
  const size_t n = lines.size() - 2;
  lines.erase(lines.end() - 2);
  EXPECT_THAT(Verify(Join(lines)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr(absl::StrCat("position ", n, " is missing"))));
  // A position in the middle removed.
  lines = Lines(file);
  lines.erase(lines.begin() + 40);
  EXPECT_THAT(Verify(Join(lines)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("position 40: missing")));
  EXPECT_THAT(Verify(""), StatusIs(absl::StatusCode::kDataLoss,
                                   HasSubstr("truncated")));
}

TEST_F(ExportTest, ForgedTreeHeadFailsTheSignature) {
  const std::string original = Export();
  const size_t last = Lines(original).size() - 1;
  const std::string file = WithRecord(original, last, [](v1::ExportRecord* r) {
    r->mutable_tree_head()->set_timestamp_unix_micros(
        r->tree_head().timestamp_unix_micros() + 1);
  });
  EXPECT_THAT(Verify(file), StatusIs(absl::StatusCode::kDataLoss,
                                     HasSubstr("does not verify")));
}

TEST_F(ExportTest, ByteFlippedInRocksDbIsNamedByVerify) {
  StopServer();
  const std::string path = log_.path();
  log_.Close();
  {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (absl::string_view name : storage::format::kColumnFamilyNames) {
      descriptors.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors,
                                  &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    auto* events = handles[static_cast<int>(storage::format::ColumnFamily::kEvents)];
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), events,
                        storage::format::EventKey(7), &value).ok());
    value[value.size() - 3] ^= 0x01;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), events,
                        storage::format::EventKey(7), value).ok());
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  log_.Open();
  EXPECT_THAT(log_.log().VerifyChain(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 7")));
  StartServer();
  EXPECT_THAT(Verify(Export()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 7:")));
}

TEST_F(ExportTest, ReplayEqualsTheServerAtPositionsAndDates) {
  absl::StatusOr<VerifiedExport> verified = Verify(Export());
  ASSERT_THAT(verified, IsOk());
  const uint64_t head = verified->events.size();
  int compared = 0;
  for (uint64_t position : {uint64_t{1}, uint64_t{10}, head / 2, head / 2 + 1,
                            head - 1, head}) {
    ReplayPoint point;
    point.to_position = position;
    auto states = Replay(verified->events, point);
    ASSERT_THAT(states, IsOk());
    for (const v1::RelationshipState& state : *states) {
      v1::GetRelationshipRequest request;
      request.set_dyad(state.dyad());
      request.set_as_of_position(position);
      auto server = client_->GetRelationship(request);
      ASSERT_THAT(server, IsOk());
      EXPECT_EQ(services::SerializeState(state),
                services::SerializeState(server->state()))
          << state.dyad() << " at position " << position;
      ++compared;
    }
  }
  for (const char* date : {"2002", "2002-09", "2014-05-28", "2018-06", "2019-04-01",
                           "2030"}) {
    ReplayPoint point;
    auto parsed = ParseDateText("--to-date", date);
    ASSERT_THAT(parsed, IsOk());
    point.to_date = *parsed;
    auto states = Replay(verified->events, point);
    ASSERT_THAT(states, IsOk());
    for (const v1::RelationshipState& state : *states) {
      v1::GetRelationshipRequest request;
      request.set_dyad(state.dyad());
      *request.mutable_as_of_date() = *parsed;
      auto server = client_->GetRelationship(request);
      ASSERT_THAT(server, IsOk());
      EXPECT_EQ(services::SerializeState(state),
                services::SerializeState(server->state()))
          << state.dyad() << " by " << date;
      ++compared;
    }
  }
  EXPECT_GT(compared, 100);
  ReplayPoint beyond;
  beyond.to_position = head + 1;
  EXPECT_THAT(Replay(verified->events, beyond),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace annals
