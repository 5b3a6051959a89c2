// The read side of the relationship projection: GetRelationship,
// ListRelationships and QueryTimeline (proto/annals/v1/query.proto) over
// the entries the RelationshipProjector keeps (storage/format.h).
//
// Every method validates its request completely (INVALID_ARGUMENT naming
// each offending field) before reading. Reads never wait for the writer.
#ifndef ANNALS_SERVICES_RELATIONSHIP_QUERIES_H_
#define ANNALS_SERVICES_RELATIONSHIP_QUERIES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/query.pb.h"
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

class RelationshipQueries {
 public:
  // `log` must outlive this and keep a RelationshipProjector. Thread-safe.
  explicit RelationshipQueries(const storage::EventLog* log) : log_(log) {}

  absl::StatusOr<v1::GetRelationshipResponse> GetRelationship(
      const v1::GetRelationshipRequest& request) const;
  // GetRelationship's response serialized, which is what the service
  // sends: for the current state, the stored bytes and the head, without
  // parsing the state (services/relationship_projector.h).
  absl::StatusOr<std::string> SerializedRelationship(
      const v1::GetRelationshipRequest& request) const;
  absl::StatusOr<v1::ListRelationshipsResponse> ListRelationships(
      const v1::ListRelationshipsRequest& request) const;
  absl::StatusOr<v1::QueryTimelineResponse> QueryTimeline(
      const v1::QueryTimelineRequest& request) const;

 private:
  const storage::EventLog* const log_;
};

}  // namespace annals::services

#endif  // ANNALS_SERVICES_RELATIONSHIP_QUERIES_H_
