// The annals CLI commands over the Relationships and Admin services:
//
//   annals relationship A B | A-B [--as-of DATE | --as-of-position N]
//   annals relationships [--order activity|index] [--ascending] [--actor A]
//                        [--limit N]
//   annals timeline [A B | A-B | A] [--from DATE] [--to DATE] [--kind K]...
//                   [--tag T]... [--text S] [--descending] [--limit N]
//   annals admin rebuild [--check]
//   annals admin backup --to DIR (backup_command.h)
//
// The command functions return the process exit code, like every command
// of annals_main.cc: 0 success; 1 the server answered with an error (one
// line "CODE: message" on `err`); 2 the command line is wrong ("annals:
// message" on `err`). With `json`, every response item is one line of
// canonical protobuf JSON on `out`.
//
// The flags that only these commands take (--as-of, --order, --check, ...)
// are defined in relationship_commands.cc; the ones annals_main.cc defines
// for several commands reach them as `CommonFlags`.
#ifndef ANNALS_CLIENTS_CLI_RELATIONSHIP_COMMANDS_H_
#define ANNALS_CLIENTS_CLI_RELATIONSHIP_COMMANDS_H_

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"
#include "annals/v1/query.pb.h"
#include "clients/cpp/client.h"

namespace annals {

// The flags of annals_main.cc these commands read.
struct CommonFlags {
  bool json = false;
  // Most items to print; 0 means all.
  uint64_t limit = 0;
  // timeline: the occurred range ("2018", "2019-06", "2019-06-12"); "" is
  // open.
  std::string from;
  std::string to;
  // timeline: only these kinds / tags (each entry may be a comma list).
  std::vector<std::string> kinds;
  std::vector<std::string> tags;
  // relationships: only the dyads of this actor.
  std::string actor;
};

// The commands, with their positional arguments (after the command name).
int RelationshipCommand(Client& client, const std::vector<char*>& args,
                        const CommonFlags& flags);
int RelationshipsCommand(Client& client, const std::vector<char*>& args,
                         const CommonFlags& flags);
int TimelineCommand(Client& client, const std::vector<char*>& args,
                    const CommonFlags& flags);
int AdminCommand(Client& client, const std::vector<char*>& args,
                 const CommonFlags& flags);

// --- The parts of the commands, testable without flags or a server. ---

// The dyad named by positional arguments: "A B" or "A-B" -> "A-B" in
// upper case ("jpn prk" is "JPN-PRK"; the server checks the codes and sorts
// them). INVALID_ARGUMENT for
// any other number of arguments or a single one without exactly one '-'.
absl::StatusOr<std::string> DyadOf(const std::vector<std::string>& args);

// `annals relationship`: the dyad from `args`; `as_of` a date flag value
// and `as_of_position` a position, both "" when not given (at most one may
// be given).
absl::StatusOr<v1::GetRelationshipRequest> MakeGetRelationshipRequest(
    const std::vector<std::string>& args, absl::string_view as_of,
    absl::string_view as_of_position);

// `annals relationships`: `order` is "activity" (or "") or "index".
absl::StatusOr<v1::ListRelationshipsRequest> MakeListRelationshipsRequest(
    const std::vector<std::string>& args, absl::string_view order,
    bool ascending, absl::string_view actor);

// The timeline filters besides the positional arguments.
struct TimelineFilters {
  std::string from;
  std::string to;
  std::vector<std::string> kinds;  // entries may be comma lists
  std::vector<std::string> tags;   // entries may be comma lists
  std::string text;
  bool descending = false;
  bool overlapping = false;  // also events that only overlap from..to
};

// `annals timeline`: no argument is the whole log; one is an actor ("PRK"),
// or a dyad when it has a '-' ("JPN-PRK"); two are a dyad.
absl::StatusOr<v1::QueryTimelineRequest> MakeQueryTimelineRequest(
    const std::vector<std::string>& args, const TimelineFilters& filters);

// Calls the service and prints the answer: the state (or its JSON), every
// relationship / timeline entry of every page until `limit` were printed
// (0: all; pages are followed through `next_page_token`, also past empty
// pages), or the rebuild report. Returns the exit code.
int PrintRelationship(Client& client, const v1::GetRelationshipRequest& request,
                      bool json, std::ostream& out, std::ostream& err);
int PrintRelationships(Client& client, v1::ListRelationshipsRequest request,
                       uint64_t limit, bool json, std::ostream& out,
                       std::ostream& err);
int PrintTimeline(Client& client, v1::QueryTimelineRequest request,
                  uint64_t limit, bool json, std::ostream& out,
                  std::ostream& err);
// Repairs unless `check`, with the Client's rebuild deadline. Exit 0 when the
// projections matched or were repaired; 1 with a line on `err` when they differ
// and were not repaired.
int RunRebuild(Client& client, bool check, bool json, std::ostream& out,
               std::ostream& err);

// Joins repeated list flags: every "--NAME V", "--NAME=V" (or one dash) of
// argv[1..argc) for NAME in `names` is removed and one "--NAME=V1,V2" takes
// the place of the first, so that `--kind a --kind b` means "a,b" (abseil
// keeps only the last value of a repeated flag). Arguments after "--" are
// left alone. Rewrites argv and *argc in place (never more arguments than
// before); `storage` owns the rewritten arguments and must outlive argv's use.
void JoinRepeatedListFlags(std::initializer_list<absl::string_view> names,
                           int* argc, char** argv,
                           std::vector<std::string>* storage);

}  // namespace annals

#endif  // ANNALS_CLIENTS_CLI_RELATIONSHIP_COMMANDS_H_
