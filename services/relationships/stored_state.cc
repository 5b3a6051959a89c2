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

std::string RelationshipRecordOf(v1::RelationshipState* state,
                                 const v1::GoldsteinIndex& index) {
  google::protobuf::RepeatedPtrField<v1::GoldsteinMonth> months;
  google::protobuf::RepeatedPtrField<v1::ResolutionRecord> resolutions;
  months.Swap(state->mutable_goldstein_monthly());
  resolutions.Swap(state->mutable_resolutions());
  v1::GetRelationshipResponse record;
  record.set_allocated_state(state);
  *record.mutable_index() = index;
  std::string bytes = SerializeDeterministic(record);
  static_cast<void>(record.release_state());  // still `state`'s owner
  months.Swap(state->mutable_goldstein_monthly());
  resolutions.Swap(state->mutable_resolutions());
  return bytes;
}

namespace {

// Appends `part` as a GetRelationshipResponse.state field (field 1,
// length-delimited).
void AppendPart(std::string* bytes, absl::string_view part) {
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  // The tag and length into a small array, then the part: a
  // StringOutputStream would zero the string's spare capacity on every
  // call (a few MB per state of ~50 parts).
  uint8_t head[10];  // two varint32s
  uint8_t* end = CodedOutputStream::WriteTagToArray(
      WireFormatLite::MakeTag(v1::GetRelationshipResponse::kStateFieldNumber,
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED),
      head);
  end = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(part.size()), end);
  bytes->append(reinterpret_cast<const char*>(head),
                static_cast<size_t>(end - head));
  bytes->append(part.data(), part.size());
}

}  // namespace

std::string AssembleRelationship(absl::string_view record,
                                 const std::vector<std::string>& parts) {
  std::string bytes(record);
  for (const std::string& part : parts) AppendPart(&bytes, part);
  return bytes;
}

absl::StatusOr<std::string> ReadStoredRelationship(const storage::EventLog& log,
                                                   absl::string_view dyad) {
  // One scan, one snapshot: the record ("THA-UN") first, then its entries
  // ("THA-UN\0..."), which sort before any longer dyad ("THA-UNHRC");
  // assembled as they come.
  const std::string parts_prefix = RelationshipPartsPrefix(dyad);
  std::string bytes;
  bool found = false;
  RETURN_IF_ERROR(log.ScanProjection(
      ProjectionFamily::kRelationships, dyad, "",
      storage::Direction::kForward,
      [&](absl::string_view key, absl::string_view value) {
        if (key == dyad) {
          bytes.append(value.data(), value.size());
          found = true;
          return true;
        }
        if (!found || !absl::StartsWith(key, parts_prefix)) return false;
        AppendPart(&bytes, value);
        return true;
      }));
  if (!found) return absl::NotFoundError(absl::StrCat(dyad, " has no state"));
  return bytes;
}

absl::StatusOr<v1::GetRelationshipResponse> ParseStoredResponse(
    absl::string_view bytes, absl::string_view dyad) {
  v1::GetRelationshipResponse stored;
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      stored.state().dyad() != dyad) {
    return absl::DataLossError(
        absl::StrCat("stored relationship state of ", dyad, " is corrupt"));
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
