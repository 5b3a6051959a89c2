// annals: the command-line client of annalsd.
//
//   annals [--server HOST:PORT] [--tls-ca FILE] [--token-file FILE] [--json]
//          COMMAND [ARGS]
//
// Exit codes: 0 success; 1 the server answered with an error (printed as one
// line "CODE: message"); 2 the command line or the input is wrong.
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/cli/cli_common.h"
#include "clients/cpp/client.h"
#include "clients/cli/connection_flags.h"
#include "clients/cli/dashed_flags.h"
#include "clients/cli/program_help.h"
#include "clients/cli/event_format.h"
#include "clients/cli/info_command.h"
#include "clients/cli/audit_commands.h"
#include "clients/cli/backup_command.h"
#include "clients/cli/relationship_commands.h"
#include "clients/cli/token_command.h"
#include "clients/cli/watch_command.h"
#include "google/protobuf/util/json_util.h"
#include "proto/control_characters.h"
#include "proto/rpc_status.h"

ABSL_FLAG(std::string, server, "",
          "annalsd address HOST:PORT (default: $ANNALS_SERVER, else "
          "localhost:7465).");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline of each call.");
ABSL_FLAG(bool, json, false,
          "Print JSON Lines (canonical protobuf JSON) instead of text.");
ABSL_FLAG(std::string, stream, "",
          "append: the stream to append to (default: the events' primary "
          "dyad). read: the stream to read.");
ABSL_FLAG(std::string, expect, "any",
          "append: expected stream version: any, none, exists, or a number.");
ABSL_FLAG(bool, all, false, "read: read the whole log.");
ABSL_FLAG(std::string, from, "",
          "read: first position (--all) or stream version (--stream); 0 or "
          "none means the start (or the end with --backward). timeline: "
          "first occurred date, YYYY, YYYY-MM or YYYY-MM-DD. watch: a "
          "position, start or now.");
ABSL_FLAG(std::string, to, "",
          "timeline: last occurred date (inclusive at its precision), YYYY, "
          "YYYY-MM or YYYY-MM-DD. admin backup: the directory on the "
          "server's host to back up into.");
ABSL_FLAG(std::vector<std::string>, kind, {},
          "timeline, watch: only events of these kinds (meeting, resolution, "
          "...); repeat the flag or give a comma list.");
ABSL_FLAG(std::vector<std::string>, tag, {},
          "timeline, watch: only events with at least one of these tags; "
          "repeat the flag or give a comma list.");
ABSL_FLAG(std::string, actor, "",
          "relationships: only the dyads of this actor. watch: only events "
          "of this actor.");
ABSL_FLAG(uint64_t, limit, 0,
          "read, relationships, timeline, watch: most items to print; 0 means "
          "all.");
ABSL_FLAG(bool, backward, false, "read: read from the end towards the start.");

namespace annals {
namespace {

constexpr char kUsage[] =
    "annals: the command-line client of annalsd.\n"
    "\n"
    "  annals [--server HOST:PORT] [--json] COMMAND [ARGS]\n"
    "\n"
    "Over TLS: --tls-ca FILE (the CA that signed annalsd's certificate),\n"
    "with --tls-cert FILE --tls-key FILE for mutual TLS, --tls-server-name\n"
    "NAME to check another name in annalsd's certificate. A bearer token:\n"
    "--token-file FILE (its first line) or --token TOKEN. Defaults:\n"
    "$ANNALS_TLS_CA, $ANNALS_TLS_CERT, $ANNALS_TLS_KEY, $ANNALS_TOKEN.\n"
    "Read your writes on another replica of a cluster: --min-position N\n"
    "(served once that server's log holds position N).\n"
    "\n"
    "Commands:\n"
    "  append [--stream S] [--expect any|none|exists|N] [FILE|-]\n"
    "      Append the events in FILE (or stdin): JSON Lines, or JSON objects\n"
    "      one after another, in protobuf's canonical JSON of annals.v1.Event.\n"
    "      All of them in one atomic append. Prints the assigned positions.\n"
    "      While the server asks to retry (too many append bytes in flight)\n"
    "      it waits, within --timeout.\n"
    "  import [--stream S] FILE|-\n"
    "      Append each event of FILE on its own, to its own stream (its\n"
    "      primary dyad, or S), in file order, pipelined on one append\n"
    "      session. Events already recorded count as such, so importing the\n"
    "      same file twice changes nothing. Stops at the first event that\n"
    "      fails; events after it may be recorded already.\n"
    "  read --all [--from P] [--limit N] [--backward]\n"
    "  read --stream S [--from V] [--limit N] [--backward]\n"
    "      Print recorded events of the whole log or of one stream.\n"
    "  get ID\n"
    "      Print the event with that id.\n"
    "  health\n"
    "      Print the server's serving status; exit 0 only when SERVING.\n"
    "  info\n"
    "      Print the server's version, commit, start time, head, durability\n"
    "      and whether appends can succeed.\n"
    "  relationship A B [--as-of DATE | --as-of-position P]\n"
    "      The state of the relationship of A and B (also A-B): now, as of an\n"
    "      occurred DATE (YYYY, YYYY-MM or YYYY-MM-DD: what had certainly\n"
    "      happened by its end), or as the log knew it at position P.\n"
    "  relationships [--order activity|index] [--ascending] [--actor A]\n"
    "                [--limit N]\n"
    "      The dyads with events, most recent activity (or index) first.\n"
    "  timeline [A B | A-B | A] [--from DATE] [--to DATE] [--kind K]...\n"
    "           [--tag T]... [--text S] [--descending] [--overlapping]\n"
    "           [--limit N]\n"
    "      The events of a dyad, of an actor or of the whole log, corrections\n"
    "      applied, by occurred date; those dated within --from..--to (with\n"
    "      --overlapping also those that only overlap it, marked ~). --kind\n"
    "      and --tag repeat or take lists.\n"
    "  admin rebuild [--check]\n"
    "      Recompute every projection from the log and compare; repair unless\n"
    "      --check. Exit 1 when --check finds differences.\n"
    "  admin backup --to DIR\n"
    "      Make annalsd take an online backup of its log into DIR, an\n"
    "      absolute path on the server's host (incremental when DIR holds\n"
    "      backups), with its signed tree head in DIR/tree-heads/ID.json.\n"
    "      Restore with annalsd --restore-from DIR.\n"
    "  admin backups DIR\n"
    "      List the backups in DIR (no server: run it where DIR is).\n"
    "  admin token create NAME ROLE\n"
    "      Make a bearer token (no server needed). ROLE: reader, writer,\n"
    "      auditor or admin. Prints the token (shown only this once) and the\n"
    "      line \"NAME ROLE SHA256\" to add to annalsd's --auth-tokens file.\n"
    "  watch [--stream S] [--dyad A-B] [--actor A] [--kind K]... [--tag T]...\n"
    "        [--from N|start|now] [--limit N]\n"
    "      Print events as they are recorded: from position N, the start or\n"
    "      now (default), then live. Reconnects from the last position seen.\n"
    "  watch-relationship A B\n"
    "      Print the state of the relationship of A and B, then again after\n"
    "      every change.\n"
    "  export [--to FILE]\n"
    "      Write the whole log exactly as stored, with a signed tree head at\n"
    "      the end (JSON Lines; see proto/annals/v1/audit.proto).\n"
    "  verify FILE --public-key KEY\n"
    "      Check an export offline: hash chain, Merkle root, signature.\n"
    "  audit --state FILE [--public-key KEY]\n"
    "      Check that the log extends the tree head saved in FILE\n"
    "      (consistency proof), then save the new head there.\n"
    "  replay FILE (--to-position P | --to-date D) [--public-key KEY]\n"
    "      Relationship states from an export, without a server.\n"
    "  public-key\n"
    "      Print the server's tree-head signing key (PEM).\n"
    "\n"
    "Flags may be written with dashes or underscores. On error the exit code\n"
    "is 1 (the server refused: one line 'CODE: message' naming the fields)\n"
    "or 2 (bad command line or input).";

int UsageError(absl::string_view message) {
  return ::annals::UsageError(std::cerr, message);
}

int ServerError(const absl::Status& status) {
  return ::annals::ServerError(std::cerr, status);
}

std::string ReadAllInput(std::istream& in) {
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The events of file `name` ("-": stdin). INVALID_ARGUMENT naming the file
// (and the line) when it cannot be read or parsed.
absl::StatusOr<std::vector<v1::Event>> ReadEvents(const std::string& name) {
  std::string input;
  if (name == "-") {
    input = ReadAllInput(std::cin);
  } else {
    std::ifstream file(name);
    if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read ", name));
    input = ReadAllInput(file);
  }
  absl::StatusOr<std::vector<v1::Event>> events = ParseEvents(input);
  if (!events.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name == "-" ? "stdin" : name, ": ", events.status().message()));
  }
  return events;
}

int Append(Client& client, const std::vector<char*>& args) {
  if (args.size() > 1) return UsageError("append takes at most one FILE");
  const std::string name = args.empty() ? "-" : args[0];
  absl::StatusOr<std::vector<v1::Event>> events = ReadEvents(name);
  if (!events.ok()) return UsageError(std::string(events.status().message()));
  if (events->empty()) return UsageError(absl::StrCat(name, ": no events"));

  v1::AppendRequest request;
  request.set_stream(absl::GetFlag(FLAGS_stream));
  absl::Status expect = SetExpectedVersion(absl::GetFlag(FLAGS_expect), &request);
  if (!expect.ok()) return UsageError(std::string(expect.message()));
  for (v1::Event& event : *events) request.add_events()->Swap(&event);

  // A server busy with other appends asks to retry: wait for room within
  // --timeout.
  absl::StatusOr<v1::AppendResponse> response =
      client.AppendWhenAdmitted(request, absl::GetFlag(FLAGS_timeout));
  if (!response.ok()) return ServerError(response.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(*response) << "\n";
  } else {
    std::cout << FormatAppendResponse(*response) << "\n";
  }
  return 0;
}

// Appends every event of FILE on its own, to its primary dyad's stream, in
// file order, pipelined on one append session (up to 64 in flight, so that
// they share commit groups). Idempotent: events already recorded with the
// same content are counted as such, so importing twice changes nothing.
int Import(Client& client, const std::vector<char*>& args) {
  if (args.size() != 1) return UsageError("import takes exactly one FILE (or -)");
  const std::string name = args[0];
  absl::StatusOr<std::vector<v1::Event>> events = ReadEvents(name);
  if (!events.ok()) return UsageError(std::string(events.status().message()));
  const size_t count = events->size();
  std::vector<std::string> ids;
  ids.reserve(count);
  absl::Mutex mu;
  std::vector<absl::StatusOr<v1::AppendResponse>> results(
      count, absl::UnknownError("not answered"));
  std::unique_ptr<AppendSession> session = client.OpenAppendSession(64);
  for (size_t i = 0; i < count; ++i) {
    ids.push_back((*events)[i].id());
    v1::AppendRequest request;
    request.set_stream(absl::GetFlag(FLAGS_stream));
    request.add_events()->Swap(&(*events)[i]);
    session->Append(std::move(request),
                    [&mu, &results, i](absl::StatusOr<v1::AppendResponse> r) {
                      absl::MutexLock lock(&mu);
                      results[i] = std::move(r);
                    });
  }
  const absl::Status finished = session->Finish();
  size_t added = 0;
  size_t already = 0;
  absl::MutexLock lock(&mu);
  for (size_t i = 0; i < count; ++i) {
    if (!results[i].ok()) {
      std::cerr << "event " << i + 1 << " of " << name << " (" << ids[i]
                << "): ";
      return ServerError(results[i].status());
    }
    ++(results[i]->already_recorded() ? already : added);
  }
  if (!finished.ok()) return ServerError(finished);
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << "{\"imported\":" << added << ",\"alreadyRecorded\":" << already
              << "}\n";
  } else {
    std::cout << "imported " << added << " new events, " << already
              << " already recorded, from " << name << "\n";
  }
  return 0;
}

int Read(Client& client, const std::vector<char*>& args) {
  if (!args.empty()) return UsageError("read takes no positional arguments");
  const bool all = absl::GetFlag(FLAGS_all);
  const std::string stream = absl::GetFlag(FLAGS_stream);
  if (all == !stream.empty()) {
    return UsageError("read needs exactly one of --all or --stream S");
  }
  const uint64_t limit = absl::GetFlag(FLAGS_limit);
  const v1::Direction direction = absl::GetFlag(FLAGS_backward)
                                      ? v1::DIRECTION_BACKWARD
                                      : v1::DIRECTION_FORWARD;
  const bool json = absl::GetFlag(FLAGS_json);
  uint64_t from = 0;
  const std::string from_flag = absl::GetFlag(FLAGS_from);
  if (!from_flag.empty() && !absl::SimpleAtoi(from_flag, &from)) {
    return UsageError(absl::StrCat(
        "read: --from must be a position or stream version, got '", from_flag,
        "'"));
  }
  uint64_t printed = 0;
  // Page through until the end, or until --limit events were printed.
  while (limit == 0 || printed < limit) {
    const uint32_t page = static_cast<uint32_t>(
        limit == 0 ? 1000 : std::min<uint64_t>(1000, limit - printed));
    google::protobuf::RepeatedPtrField<v1::RecordedEvent> events;
    bool end = false;
    if (all) {
      v1::ReadAllRequest request;
      request.set_from_position(from);
      request.set_direction(direction);
      request.set_limit(page);
      absl::StatusOr<v1::ReadAllResponse> response = client.ReadAll(request);
      if (!response.ok()) return ServerError(response.status());
      events.Swap(response->mutable_events());
      from = response->next_position();
      end = response->end_of_log();
    } else {
      v1::ReadStreamRequest request;
      request.set_stream(stream);
      request.set_from_version(from);
      request.set_direction(direction);
      request.set_limit(page);
      absl::StatusOr<v1::ReadStreamResponse> response =
          client.ReadStream(request);
      if (!response.ok()) return ServerError(response.status());
      events.Swap(response->mutable_events());
      from = response->next_version();
      end = response->end_of_stream();
    }
    for (const v1::RecordedEvent& event : events) {
      std::cout << (json ? ToJson(event) : FormatEventLine(event)) << "\n";
    }
    printed += events.size();
    if (end || events.empty()) break;
  }
  if (printed == 0 && !json) {
    std::cout << (all ? "no events" : absl::StrCat("no events in stream ", stream))
              << "\n";
  }
  return 0;
}

int Get(Client& client, const std::vector<char*>& args) {
  if (args.size() != 1) return UsageError("get takes exactly one event ID");
  absl::StatusOr<v1::GetEventResponse> got =
      client.GetEventWithCorrections(args[0]);
  if (!got.ok()) return ServerError(got.status());
  const bool json = absl::GetFlag(FLAGS_json);
  std::cout << (json ? ToJson(got->event()) : FormatEventDetail(got->event()))
            << "\n";
  // Corrections never rewrite history: the event stays as recorded, and
  // its corrections follow (JSON: one RecordedEvent per line).
  for (const v1::RecordedEvent& correction : got->corrections()) {
    if (json) {
      std::cout << ToJson(correction) << "\n";
    } else {
      std::cout << EscapeControlCharacters(
                       absl::StrCat(
                           "corrected at position ", correction.position(),
                           " (",
                           v1::Correction::Action_Name(
                               correction.event().correction().action()),
                           ", id ", correction.event().id(), "): ",
                           correction.event().correction().reason()),
                       /*keep_newline_and_tab=*/false)
                << "\n";
    }
  }
  return 0;
}

int Health(Client& client, const std::vector<char*>& args) {
  if (!args.empty()) return UsageError("health takes no arguments");
  absl::StatusOr<std::string> status = client.Health();
  if (!status.ok()) return ServerError(status.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << "{\"status\":\"" << *status << "\"}\n";
  } else {
    std::cout << *status << "\n";
  }
  return *status == "SERVING" ? 0 : 1;
}

struct Command {
  const char* name;
  std::function<int(Client&, const std::vector<char*>&)> run;
};

// A command of relationship_commands.h, given the flags of this file it reads.
std::function<int(Client&, const std::vector<char*>&)> WithCommonFlags(
    int (*run)(Client&, const std::vector<char*>&, const CommonFlags&)) {
  return [run](Client& client, const std::vector<char*>& args) {
    CommonFlags flags;
    flags.json = absl::GetFlag(FLAGS_json);
    flags.limit = absl::GetFlag(FLAGS_limit);
    flags.from = absl::GetFlag(FLAGS_from);
    flags.to = absl::GetFlag(FLAGS_to);
    flags.kinds = absl::GetFlag(FLAGS_kind);
    flags.tags = absl::GetFlag(FLAGS_tag);
    flags.actor = absl::GetFlag(FLAGS_actor);
    return run(client, args, flags);
  };
}

// A command of watch_command.h, given the flags of this file it reads.
std::function<int(Client&, const std::vector<char*>&)> WithWatchFlags(
    int (*run)(Client&, const std::vector<char*>&, const WatchFlags&)) {
  return [run](Client& client, const std::vector<char*>& args) {
    WatchFlags flags;
    flags.json = absl::GetFlag(FLAGS_json);
    flags.limit = absl::GetFlag(FLAGS_limit);
    flags.from = absl::GetFlag(FLAGS_from);
    flags.stream = absl::GetFlag(FLAGS_stream);
    flags.actor = absl::GetFlag(FLAGS_actor);
    flags.kinds = absl::GetFlag(FLAGS_kind);
    flags.tags = absl::GetFlag(FLAGS_tag);
    return run(client, args, flags);
  };
}

int Main(int argc, char** argv) {
  // The flags of every file of the CLI (the commands define their own).
  if (std::optional<int> answered = AnswerHelpOrVersion(
          argc, argv, "annals", kUsage, [](absl::string_view file) {
            return absl::StrContains(file, "clients/");
          })) {
    return *answered;
  }
  absl::SetProgramUsageMessage(kUsage);
  // --help lists the flags of every file of the CLI (the commands define
  // their own), not only this one's.
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "clients/");
  };
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<std::string> storage = UnderscoreFlagNames(argc, argv);
  std::vector<std::string> joined;
  JoinRepeatedListFlags({"kind", "tag"}, &argc, argv, &joined);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return UsageError("missing COMMAND");

  const std::vector<Command> commands = {
      {"append", Append}, {"import", Import}, {"read", Read},
      {"get", Get},       {"health", Health},
      {"relationship", WithCommonFlags(RelationshipCommand)},
      {"relationships", WithCommonFlags(RelationshipsCommand)},
      {"timeline", WithCommonFlags(TimelineCommand)},
      {"admin", WithCommonFlags(AdminCommand)},
      {"watch", WithWatchFlags(WatchCommand)},
      {"watch-relationship", WithWatchFlags(WatchRelationshipCommand)},
      {"export", WithCommonFlags(ExportCommand)},
      {"verify", WithCommonFlags(VerifyCommand)},
      {"audit", WithCommonFlags(AuditCommand)},
      {"replay", WithCommonFlags(ReplayCommand)},
      {"public-key", WithCommonFlags(PublicKeyCommand)},
      {"info", WithCommonFlags(InfoCommand)}};
  const std::string name = positional[1];
  const std::vector<char*> args(positional.begin() + 2, positional.end());
  // Beside `admin rebuild`, but without a server: no client to make.
  if (name == "admin" && !args.empty() &&
      absl::string_view(args[0]) == "token") {
    return AdminTokenCommand(std::vector<char*>(args.begin() + 1, args.end()),
                             absl::GetFlag(FLAGS_json), std::cout, std::cerr);
  }
  if (name == "admin" && !args.empty() &&
      absl::string_view(args[0]) == "backups") {
    return AdminBackupsCommand(std::vector<char*>(args.begin() + 1, args.end()),
                               absl::GetFlag(FLAGS_json), std::cout, std::cerr);
  }
  for (const Command& command : commands) {
    if (name != command.name) continue;
    ClientOptions options;
    options.server = absl::GetFlag(FLAGS_server).empty()
                         ? DefaultServerAddress()
                         : absl::GetFlag(FLAGS_server);
    options.deadline = absl::GetFlag(FLAGS_timeout);
    const absl::Status flags = ApplyConnectionFlags(&options);
    if (!flags.ok()) return UsageError(flags.message());
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
    if (!client.ok()) return UsageError(ConnectionFlagError(client.status()));
    return command.run(**client, args);
  }
  return UsageError(absl::StrCat("unknown command '", name, "'"));
}

}  // namespace
}  // namespace annals

int main(int argc, char** argv) { return annals::Main(argc, argv); }
