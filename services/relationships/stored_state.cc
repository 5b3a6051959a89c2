#include "services/relationships/stored_state.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/model/projection.h"
#include "storage/format.h"
#include "storage/projector.h"
#include "storage/status_macros.h"

namespace annals::services {

using storage::ProjectionFamily;
namespace format = storage::format;

std::string RelationshipPartsPrefix(absl::string_view dyad) {
  return absl::StrCat(dyad, absl::string_view("\0", 1));
}

std::string MonthPartsPrefix(absl::string_view dyad) {
  return absl::StrCat(RelationshipPartsPrefix(dyad), "g");
}

std::string MonthPartKey(absl::string_view dyad, int year) {
  std::string key = MonthPartsPrefix(dyad);
  format::PutBigEndian32(&key, static_cast<uint32_t>(year));
  return key;
}

std::string ResolutionPartKey(absl::string_view dyad, absl::string_view body,
                              int year) {
  std::string key = absl::StrCat(RelationshipPartsPrefix(dyad), "r", body,
                                 absl::string_view("\0", 1));
  format::PutBigEndian32(&key, static_cast<uint32_t>(year / 10));
  return key;
}

std::string ListPartKey(absl::string_view dyad, StateList list) {
  std::string key = RelationshipPartsPrefix(dyad);
  key.push_back(static_cast<char>(list));
  return key;
}

std::vector<StateList> ListsOf(const v1::Event& content) {
  switch (content.what_case()) {
    case v1::Event::kAgreement:
    case v1::Event::kPolicyChange:
      return {StateList::kAgreements, StateList::kPolicies};
    case v1::Event::kStatement:
      return {StateList::kRecentStatements};
    case v1::Event::kSanction:
      return {StateList::kSanctions};
    default:
      return {};
  }
}

namespace {

// Swaps `list` between `a` and `b`.
void SwapList(StateList list, v1::RelationshipState* a,
              v1::RelationshipState* b) {
  switch (list) {
    case StateList::kAgreements:
      a->mutable_agreements()->Swap(b->mutable_agreements());
      return;
    case StateList::kPolicies:
      a->mutable_policies()->Swap(b->mutable_policies());
      return;
    case StateList::kRecentStatements:
      a->mutable_recent_statements()->Swap(b->mutable_recent_statements());
      return;
    case StateList::kSanctions:
      a->mutable_sanctions()->Swap(b->mutable_sanctions());
      return;
  }
}

// Swaps the lists stored in entries of their own between `a` and `b`.
void SwapEntryLists(v1::RelationshipState* a, v1::RelationshipState* b) {
  a->mutable_goldstein_monthly()->Swap(b->mutable_goldstein_monthly());
  a->mutable_resolutions()->Swap(b->mutable_resolutions());
  for (const StateList list : kStateLists) SwapList(list, a, b);
}

}  // namespace

std::string ListEntryOf(v1::RelationshipState* state, StateList list) {
  v1::RelationshipState entry;
  SwapList(list, state, &entry);
  std::string bytes = SerializeDeterministic(entry);
  SwapList(list, state, &entry);
  return bytes;
}

void ClearEntryLists(v1::RelationshipState* state) {
  v1::RelationshipState aside;
  SwapEntryLists(state, &aside);
}

std::string RelationshipRecordOf(v1::RelationshipState* state,
                                 const v1::GoldsteinIndex& index) {
  v1::RelationshipState aside;
  SwapEntryLists(state, &aside);
  v1::GetRelationshipResponse record;
  record.set_allocated_state(state);
  *record.mutable_index() = index;
  std::string bytes = SerializeDeterministic(record);
  static_cast<void>(record.release_state());  // still `state`'s owner
  SwapEntryLists(state, &aside);
  return bytes;
}

namespace {

using google::protobuf::internal::WireFormatLite;

const uint32_t kStateTag =
    WireFormatLite::MakeTag(v1::GetRelationshipResponse::kStateFieldNumber,
                            WireFormatLite::WIRETYPE_LENGTH_DELIMITED);

// A GetRelationshipResponse less its head, put together from a dyad's
// record and series entries: ONE `state` field holding the record's state
// and then every entry (RelationshipState messages of series only, so
// their bytes after the record's are the bytes of the whole state: a
// parser appends repeated fields), then the record's other fields.
// Decoders that do not merge repeated occurrences of an embedded message
// (protobufjs keeps the last) read it whole.
class StateAssembly {
 public:
  // Takes the record apart; false when it does not parse.
  bool Record(absl::string_view record) {
    google::protobuf::io::CodedInputStream input(
        reinterpret_cast<const uint8_t*>(record.data()),
        static_cast<int>(record.size()));
    while (static_cast<size_t>(input.CurrentPosition()) < record.size()) {
      const int start = input.CurrentPosition();
      const uint32_t tag = input.ReadTag();
      uint32_t size = 0;
      if (tag == kStateTag) {
        if (!input.ReadVarint32(&size) ||
            size > record.size() - static_cast<size_t>(input.CurrentPosition())) {
          return false;
        }
        bytes_.append(record.data() + input.CurrentPosition(), size);
        input.Skip(static_cast<int>(size));
      } else {
        if (tag == 0 || !WireFormatLite::SkipField(&input, tag)) return false;
        rest_.append(record.data() + start,
                     static_cast<size_t>(input.CurrentPosition() - start));
      }
    }
    return true;
  }

  void Part(absl::string_view part) { bytes_.append(part.data(), part.size()); }

  // The answer: the state's tag and length go into the room left before
  // it, the bytes move up to them (no second buffer), the rest follows.
  std::string Finish() && {
    using google::protobuf::io::CodedOutputStream;
    uint8_t head[kHeadRoom];
    uint8_t* end = CodedOutputStream::WriteTagToArray(kStateTag, head);
    end = CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(bytes_.size() - kHeadRoom), end);
    const size_t used = static_cast<size_t>(end - head);
    bytes_.replace(kHeadRoom - used, used, reinterpret_cast<char*>(head), used);
    bytes_.erase(0, kHeadRoom - used);
    bytes_.append(rest_);
    return std::move(bytes_);
  }

 private:
  // The tag (one byte) and a length of up to five.
  static constexpr size_t kHeadRoom = 6;
  std::string bytes_ = std::string(kHeadRoom, '\0');
  std::string rest_;
};

absl::Status CorruptState(absl::string_view dyad) {
  return absl::DataLossError(
      absl::StrCat("stored relationship state of ", dyad, " is corrupt"));
}

}  // namespace

absl::StatusOr<std::string> AssembleRelationship(
    absl::string_view dyad, absl::string_view record,
    const std::vector<std::string>& parts) {
  StateAssembly assembly;
  if (!assembly.Record(record)) return CorruptState(dyad);
  for (const std::string& part : parts) assembly.Part(part);
  return std::move(assembly).Finish();
}

absl::StatusOr<std::string> ReadStoredRelationship(const storage::EventLog& log,
                                                   absl::string_view dyad) {
  // One scan, one snapshot: the record ("THA-UN") first, then its entries
  // ("THA-UN\0..."), which sort before any longer dyad ("THA-UNHRC");
  // assembled as they come.
  const std::string parts_prefix = RelationshipPartsPrefix(dyad);
  StateAssembly assembly;
  bool found = false;
  bool parsed = false;
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kRelationships, dyad, "",
      storage::Direction::kForward,
      [&](absl::string_view key, absl::string_view value) {
        if (key == dyad) {
          found = true;
          parsed = assembly.Record(value);
          return parsed;
        }
        if (!found || !absl::StartsWith(key, parts_prefix)) return false;
        assembly.Part(value);
        return true;
      }));
  if (!found) return absl::NotFoundError(absl::StrCat(dyad, " has no state"));
  if (!parsed) return CorruptState(dyad);
  return std::move(assembly).Finish();
}

absl::StatusOr<v1::GetRelationshipResponse> ParseStoredResponse(
    absl::string_view bytes, absl::string_view dyad) {
  v1::GetRelationshipResponse stored;
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      stored.state().dyad() != dyad) {
    return CorruptState(dyad);
  }
  return stored;
}

absl::StatusOr<v1::RelationshipState> ParseStoredRelationship(
    absl::string_view bytes, absl::string_view dyad) {
  ASSIGN_OR_RETURN(v1::GetRelationshipResponse stored,
                   ParseStoredResponse(bytes, dyad));
  return std::move(*stored.mutable_state());
}

}  // namespace annals::services
