#include "clients/cli/relationship_commands.h"

#include <algorithm>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clients/cli/backup_command.h"
#include "clients/cli/cli_common.h"
#include "clients/cli/relationship_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/date_text.h"
#include "proto/rpc_status.h"

ABSL_FLAG(std::string, as_of, "",
          "relationship: the state as of this occurred date (YYYY, YYYY-MM or "
          "YYYY-MM-DD): what had certainly happened by its end, as known "
          "now.");
ABSL_FLAG(std::string, as_of_position, "",
          "relationship: the state as the log knew it at this position (for "
          "audits).");
ABSL_FLAG(std::string, order, "activity",
          "relationships: 'activity' (most recent last event first) or "
          "'index' (most cooperative first).");
ABSL_FLAG(bool, ascending, false,
          "relationships: reverse the order (least recent or most "
          "conflictual first).");
ABSL_FLAG(std::string, text, "",
          "timeline: only events whose summary contains this text (ASCII "
          "case ignored).");
ABSL_FLAG(bool, descending, false, "timeline: most recent first.");
ABSL_FLAG(bool, overlapping, false,
          "timeline: also the events whose date only overlaps --from..--to "
          "(\"2002\" for September 2002), marked '~'.");
ABSL_FLAG(bool, check, false,
          "admin rebuild: only compare the stored projections with the log; "
          "repair nothing.");

namespace annals {
namespace {

// The most items one page may hold (query.proto: page_size 1 ... 1000).
constexpr uint64_t kMaxPageSize = 1000;

std::vector<std::string> Strings(const std::vector<char*>& args) {
  return std::vector<std::string>(args.begin(), args.end());
}

// The page size for the next page when `printed` of `limit` (0: all) items
// were printed.
int32_t PageSize(uint64_t limit, uint64_t printed) {
  return static_cast<int32_t>(
      limit == 0 ? kMaxPageSize : std::min(kMaxPageSize, limit - printed));
}

}  // namespace

absl::StatusOr<std::string> DyadOf(const std::vector<std::string>& args) {
  if (args.size() == 2) {
    return absl::AsciiStrToUpper(absl::StrCat(args[0], "-", args[1]));
  }
  if (args.size() == 1 &&
      std::count(args[0].begin(), args[0].end(), '-') == 1 &&
      args[0].front() != '-' && args[0].back() != '-') {
    return absl::AsciiStrToUpper(args[0]);
  }
  return absl::InvalidArgumentError(
      "a dyad is two actor codes, 'JPN PRK' or 'JPN-PRK'");
}

absl::StatusOr<v1::GetRelationshipRequest> MakeGetRelationshipRequest(
    const std::vector<std::string>& args, absl::string_view as_of,
    absl::string_view as_of_position) {
  absl::StatusOr<std::string> dyad = DyadOf(args);
  if (!dyad.ok()) return dyad.status();
  if (!as_of.empty() && !as_of_position.empty()) {
    return absl::InvalidArgumentError(
        "give at most one of --as-of and --as-of-position");
  }
  v1::GetRelationshipRequest request;
  request.set_dyad(*dyad);
  if (!as_of.empty()) {
    absl::StatusOr<v1::Date> date = ParseDateText("--as-of", as_of);
    if (!date.ok()) return date.status();
    *request.mutable_as_of_date() = *date;
  } else if (!as_of_position.empty()) {
    uint64_t position = 0;
    if (!absl::SimpleAtoi(as_of_position, &position)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--as-of-position must be a log position (0 or more), got '",
          as_of_position, "'"));
    }
    request.set_as_of_position(position);
  }
  return request;
}

absl::StatusOr<v1::ListRelationshipsRequest> MakeListRelationshipsRequest(
    const std::vector<std::string>& args, absl::string_view order,
    bool ascending, absl::string_view actor) {
  if (!args.empty()) {
    return absl::InvalidArgumentError(
        "relationships takes no positional arguments (use --actor A)");
  }
  v1::ListRelationshipsRequest request;
  if (order.empty() || order == "activity") {
    request.set_order_by(
        v1::ListRelationshipsRequest::ORDER_BY_RECENT_ACTIVITY);
  } else if (order == "index") {
    request.set_order_by(v1::ListRelationshipsRequest::ORDER_BY_INDEX);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--order must be 'activity' or 'index', got '", order, "'"));
  }
  request.set_ascending(ascending);
  request.set_actor(absl::AsciiStrToUpper(actor));
  return request;
}

absl::StatusOr<v1::QueryTimelineRequest> MakeQueryTimelineRequest(
    const std::vector<std::string>& args, const TimelineFilters& filters) {
  v1::QueryTimelineRequest request;
  if (args.size() == 1 && args[0].find('-') == std::string::npos) {
    request.set_actor(absl::AsciiStrToUpper(args[0]));
  } else if (!args.empty()) {
    absl::StatusOr<std::string> dyad = DyadOf(args);
    if (!dyad.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "timeline takes an actor ('PRK') or a dyad ('JPN PRK', 'JPN-PRK'): ",
          dyad.status().message()));
    }
    request.set_dyad(*dyad);
  }
  if (!filters.from.empty()) {
    absl::StatusOr<v1::Date> from = ParseDateText("--from", filters.from);
    if (!from.ok()) return from.status();
    *request.mutable_from() = *from;
  }
  if (!filters.to.empty()) {
    absl::StatusOr<v1::Date> to = ParseDateText("--to", filters.to);
    if (!to.ok()) return to.status();
    *request.mutable_to() = *to;
  }
  for (std::string& kind : SplitLists(filters.kinds)) {
    request.add_kinds(std::move(kind));
  }
  for (std::string& tag : SplitLists(filters.tags)) {
    request.add_tags(std::move(tag));
  }
  request.set_text(filters.text);
  request.set_descending(filters.descending);
  request.set_include_overlapping(filters.overlapping);
  return request;
}

int PrintRelationship(Client& client, const v1::GetRelationshipRequest& request,
                      bool json, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::GetRelationshipResponse> response =
      client.GetRelationship(request);
  if (!response.ok()) return ServerError(err, response.status());
  if (json) {
    out << ToJson(*response) << "\n";
  } else {
    out << FormatRelationship(response->state(), response->index()) << "\n";
    if (response->uncertain_event_count() > 0) {
      const int64_t n = response->uncertain_event_count();
      out << "not counted: " << n << (n == 1 ? " event" : " events")
          << " that may have happened by then (dated only to a month or a "
             "year, or a range, that ends later)\n";
    }
    out << "(log head " << response->head() << ")\n";
  }
  return 0;
}

// Fetches page after page with `fetch(request)`, following
// next_page_token, and prints `format(item)` for each of `items(page)`
// until `limit` items (0: all); prints `when_empty` (unless empty) when
// there was none. A page may be empty while more follow: it goes on until
// the token is empty.
template <typename Request, typename Fetch, typename Items, typename Format>
int PrintPages(Request request, uint64_t limit, Fetch fetch, Items items,
               Format format, absl::string_view when_empty, std::ostream& out,
               std::ostream& err) {
  uint64_t printed = 0;
  while (limit == 0 || printed < limit) {
    request.set_page_size(PageSize(limit, printed));
    auto response = fetch(request);
    if (!response.ok()) return ServerError(err, response.status());
    for (const auto& item : items(*response)) {
      if (limit != 0 && printed == limit) break;
      out << format(item) << "\n";
      ++printed;
    }
    if (response->next_page_token().empty()) break;
    if (response->next_page_token() == request.page_token()) {
      return ServerError(
          err,
          absl::InternalError("the server returned the same page token twice"));
    }
    request.set_page_token(response->next_page_token());
  }
  if (printed == 0 && !when_empty.empty()) out << when_empty << "\n";
  return 0;
}

int PrintRelationships(Client& client, v1::ListRelationshipsRequest request,
                       uint64_t limit, bool json, std::ostream& out,
                       std::ostream& err) {
  return PrintPages(
      std::move(request), limit,
      [&client](const v1::ListRelationshipsRequest& r) {
        return client.ListRelationships(r);
      },
      [](const v1::ListRelationshipsResponse& page) -> const auto& {
        return page.relationships();
      },
      [json](const v1::RelationshipSummary& summary) {
        return json ? ToJson(summary) : FormatRelationshipSummary(summary);
      },
      json ? "" : "no relationships", out, err);
}

int PrintTimeline(Client& client, v1::QueryTimelineRequest request,
                  uint64_t limit, bool json, std::ostream& out,
                  std::ostream& err) {
  return PrintPages(
      std::move(request), limit,
      [&client](const v1::QueryTimelineRequest& r) {
        return client.QueryTimeline(r);
      },
      [](const v1::QueryTimelineResponse& page) -> const auto& {
        return page.entries();
      },
      [json](const v1::TimelineEntry& entry) {
        return json ? ToJson(entry) : FormatTimelineEntry(entry);
      },
      json ? "" : "no events", out, err);
}

int RunRebuild(Client& client, bool check, bool json, std::ostream& out,
               std::ostream& err) {
  v1::RebuildProjectionsRequest request;
  request.set_repair(!check);
  absl::StatusOr<v1::RebuildProjectionsResponse> report =
      client.RebuildProjections(request);
  if (!report.ok()) return ServerError(err, report.status());
  out << (json ? ToJson(*report) : FormatRebuildReport(*report)) << "\n";
  if (report->matched() || report->repaired()) return 0;
  err << "annals: the stored projections differ from the log"
      << (check ? "; run 'annals admin rebuild' without --check to repair them"
                : " and were not repaired")
      << "\n";
  return 1;
}

int RelationshipCommand(Client& client, const std::vector<char*>& args,
                        const CommonFlags& flags) {
  absl::StatusOr<v1::GetRelationshipRequest> request =
      MakeGetRelationshipRequest(Strings(args), absl::GetFlag(FLAGS_as_of),
                                 absl::GetFlag(FLAGS_as_of_position));
  if (!request.ok()) {
    return UsageError(
        std::cerr, absl::StrCat("relationship: ", request.status().message()));
  }
  return PrintRelationship(client, *request, flags.json, std::cout, std::cerr);
}

int RelationshipsCommand(Client& client, const std::vector<char*>& args,
                         const CommonFlags& flags) {
  absl::StatusOr<v1::ListRelationshipsRequest> request =
      MakeListRelationshipsRequest(Strings(args), absl::GetFlag(FLAGS_order),
                                   absl::GetFlag(FLAGS_ascending), flags.actor);
  if (!request.ok()) {
    return UsageError(
        std::cerr, absl::StrCat("relationships: ", request.status().message()));
  }
  return PrintRelationships(client, *std::move(request), flags.limit,
                            flags.json, std::cout, std::cerr);
}

int TimelineCommand(Client& client, const std::vector<char*>& args,
                    const CommonFlags& flags) {
  TimelineFilters filters;
  filters.from = flags.from;
  filters.to = flags.to;
  filters.kinds = flags.kinds;
  filters.tags = flags.tags;
  filters.text = absl::GetFlag(FLAGS_text);
  filters.descending = absl::GetFlag(FLAGS_descending);
  filters.overlapping = absl::GetFlag(FLAGS_overlapping);
  absl::StatusOr<v1::QueryTimelineRequest> request =
      MakeQueryTimelineRequest(Strings(args), filters);
  if (!request.ok()) {
    return UsageError(std::cerr,
                      absl::StrCat("timeline: ", request.status().message()));
  }
  return PrintTimeline(client, *std::move(request), flags.limit, flags.json,
                       std::cout, std::cerr);
}

int AdminCommand(Client& client, const std::vector<char*>& args,
                 const CommonFlags& flags) {
  if (!args.empty() && absl::string_view(args[0]) == "backup") {
    return AdminBackupCommand(
        client, std::vector<char*>(args.begin() + 1, args.end()), flags.to,
        flags.json, std::cout, std::cerr);
  }
  if (args.size() != 1 || absl::string_view(args[0]) != "rebuild") {
    return UsageError(std::cerr,
                      "admin takes one subcommand: rebuild [--check], "
                      "backup --to DIR, backups DIR, or token create NAME "
                      "ROLE");
  }
  return RunRebuild(client, absl::GetFlag(FLAGS_check), flags.json, std::cout,
                    std::cerr);
}

void JoinRepeatedListFlags(std::initializer_list<absl::string_view> names,
                           int* argc, char** argv,
                           std::vector<std::string>* storage) {
  std::vector<std::string>& kept = *storage;
  kept.clear();
  // For each name: where its joined flag goes in `kept`, and the values.
  struct Joined {
    absl::string_view name;
    size_t index = 0;
    std::vector<std::string> values;
  };
  std::vector<Joined> joined;
  for (absl::string_view name : names) joined.push_back({name, 0, {}});
  int i = 0;
  for (; i < *argc; ++i) {
    const absl::string_view arg = argv[i];
    if (i > 0 && arg == "--") break;
    absl::string_view flag = arg;
    if (i == 0 || !absl::ConsumePrefix(&flag, "-")) {
      kept.emplace_back(arg);
      continue;
    }
    absl::ConsumePrefix(&flag, "-");
    const size_t equals = flag.find('=');
    const absl::string_view name = flag.substr(0, equals);
    auto it = std::find_if(joined.begin(), joined.end(),
                           [&](const Joined& j) { return j.name == name; });
    // Not a list flag, or "--kind" with no value left: abseil reports it.
    if (it == joined.end() ||
        (equals == absl::string_view::npos && i + 1 >= *argc)) {
      kept.emplace_back(arg);
      continue;
    }
    if (it->values.empty()) {
      it->index = kept.size();
      kept.emplace_back();  // filled in below
    }
    if (equals != absl::string_view::npos) {
      it->values.emplace_back(flag.substr(equals + 1));
    } else {
      it->values.emplace_back(argv[++i]);
    }
  }
  for (; i < *argc; ++i) kept.emplace_back(argv[i]);
  for (const Joined& j : joined) {
    if (j.values.empty()) continue;
    kept[j.index] =
        absl::StrCat("--", j.name, "=", absl::StrJoin(j.values, ","));
  }
  *argc = static_cast<int>(kept.size());
  for (int k = 0; k < *argc; ++k) argv[k] = kept[k].data();
}

}  // namespace annals
