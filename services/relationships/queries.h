// The read side of the relationship projection: GetRelationship,
// ListRelationships and QueryTimeline (proto/annals/v1/query.proto) over
// the entries the RelationshipProjector keeps (storage/format.h).
//
// Every method validates its request completely (INVALID_ARGUMENT naming
// each offending field) before reading. Reads never wait for the writer.
#ifndef ANNALS_SERVICES_RELATIONSHIPS_QUERIES_H_
#define ANNALS_SERVICES_RELATIONSHIPS_QUERIES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/query.pb.h"
#include "services/relationships/answers.h"
#include "storage/event_log.h"

namespace annals::services {

// Most items a page may hold, and the default.
inline constexpr int kMaxPageSize = 1000;
inline constexpr int kDefaultPageSize = 50;
// Most index entries one list or timeline call examines: a selective
// filter returns a short (even empty) page with a token rather than
// scanning without bound.
inline constexpr int kMaxExaminedPerPage = 5000;

// The canonical form of `dyad` ("PRK-JPN" -> "JPN-PRK"): two different
// known actor codes joined by '-'. INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> CanonicalDyad(absl::string_view dyad,
                                          absl::string_view field);

// GetRelationship's response serialized: `state` then `rest` (protobuf
// merges concatenated messages). For the current state, `state` is the
// stored state without the head, assembled but not parsed
// (services/relationships/projector.h), shared with RelationshipAnswers
// when it keeps it, and `rest` the head; otherwise `state` is the whole
// response.
struct SerializedResponse {
  std::shared_ptr<const std::string> state;
  std::string rest;
};

class RelationshipQueries {
 public:
  // `log` must outlive this and keep a RelationshipProjector. With
  // `answers` (that projector's, RelationshipProjector::answers; must
  // outlive this), the current state's answers are kept there. Thread-safe.
  explicit RelationshipQueries(const storage::EventLog* log,
                               const RelationshipAnswers* answers = nullptr)
      : log_(log), answers_(answers) {}

  absl::StatusOr<v1::GetRelationshipResponse> GetRelationship(
      const v1::GetRelationshipRequest& request) const;
  // GetRelationship's response serialized, which is what the service
  // sends.
  absl::StatusOr<SerializedResponse> SerializedRelationship(
      const v1::GetRelationshipRequest& request) const;
  absl::StatusOr<v1::ListRelationshipsResponse> ListRelationships(
      const v1::ListRelationshipsRequest& request) const;
  absl::StatusOr<v1::QueryTimelineResponse> QueryTimeline(
      const v1::QueryTimelineRequest& request) const;

 private:
  const storage::EventLog* const log_;
  const RelationshipAnswers* const answers_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIPS_QUERIES_H_
