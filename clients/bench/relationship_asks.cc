#include "clients/bench/relationship_asks.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace annals::bench {
namespace {

v1::Date RandomDate(std::mt19937_64& rng) {
  v1::Date date;
  date.set_year(1990 + static_cast<int>(rng() % 36));
  date.set_month(1 + static_cast<int>(rng() % 12));
  date.set_day(1 + static_cast<int>(rng() % 28));
  return date;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListDyads(Client& client) {
  std::vector<std::string> dyads;
  v1::ListRelationshipsRequest request;
  request.set_page_size(1000);
  for (;;) {
    absl::StatusOr<v1::ListRelationshipsResponse> page =
        client.ListRelationships(request);
    if (!page.ok()) return page.status();
    for (const v1::RelationshipSummary& r : page->relationships()) {
      dyads.push_back(r.dyad());
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  if (dyads.empty()) {
    return absl::FailedPreconditionError(
        "the log has no relationships: run --scenario generate first");
  }
  return dyads;
}

absl::StatusOr<RelationshipAsks> RelationshipAsks::Prepare(
    Client& client, const std::string& as_of, const std::string& dyad) {
  RelationshipAsks asks;
  if (as_of != "none" && as_of != "position" && as_of != "date" &&
      as_of != "mixed") {
    return absl::InvalidArgumentError(
        "--as-of must be none, position, date or mixed");
  }
  asks.as_of_ = as_of;
  if (dyad.empty()) {
    absl::StatusOr<std::vector<std::string>> dyads = ListDyads(client);
    if (!dyads.ok()) return dyads.status();
    asks.dyads_ = *std::move(dyads);
  } else {
    asks.dyads_ = {dyad};
    asks.fixed_ = true;
  }
  v1::GetRelationshipRequest first;
  first.set_dyad(asks.dyads_.front());
  absl::StatusOr<v1::GetRelationshipResponse> head =
      client.GetRelationship(first);
  if (!head.ok()) return head.status();
  asks.log_head_ = std::max<uint64_t>(1, head->head());
  return asks;
}

std::string RelationshipAsks::Variant() const {
  std::string variant =
      absl::StrCat("as_of=", as_of_, " dyads=", dyads_.size());
  if (fixed_) absl::StrAppend(&variant, " dyad=", dyads_.front());
  return variant;
}

v1::GetRelationshipRequest RelationshipAsks::Make(std::mt19937_64& rng,
                                                  uint64_t i) const {
  v1::GetRelationshipRequest request;
  request.set_dyad(PickFrom(dyads_, rng));
  const int axis = as_of_ == "mixed"      ? static_cast<int>(i % 3)
                   : as_of_ == "position" ? 1
                   : as_of_ == "date"     ? 2
                                          : 0;
  if (axis == 1) request.set_as_of_position(1 + rng() % log_head_);
  if (axis == 2) *request.mutable_as_of_date() = RandomDate(rng);
  return request;
}

std::string RelationshipAsks::HttpPath(
    const v1::GetRelationshipRequest& request) {
  // Dyads are actor codes and a '-': nothing to escape.
  std::string path = absl::StrCat("/v1/relationships/", request.dyad());
  if (request.has_as_of_position()) {
    absl::StrAppend(&path, "?asOfPosition=", request.as_of_position());
  } else if (request.has_as_of_date()) {
    absl::StrAppendFormat(
        &path, "?asOfDate=%04d-%02d-%02d", request.as_of_date().year(),
        request.as_of_date().month(), request.as_of_date().day());
  }
  return path;
}

}  // namespace annals::bench
