// Validation of events. See services/model/validation.h and the rules
// documented in proto/annals/v1/event.proto; append requests are checked in
// append_request.cc, and fields named and values quoted as in
// validation_paths.h.
//
// Every check appends at most one violation per field, named by its path in
// the request, and goes on: the writer sees every problem at once. Checks
// that depend on a part being valid (precision against the date, end against
// start, the primary dyad) run only when that part passed, so that one
// mistake is reported once.
#include "services/model/validation.h"

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/model/actors.h"
#include "services/model/validation_paths.h"

namespace annals::services {
namespace {

using ::google::protobuf::EnumDescriptor;
using ::google::protobuf::RepeatedPtrField;
using validation_internal::Add;
using validation_internal::CheckIdForm;
using validation_internal::Field;
using validation_internal::Index;
using validation_internal::Quote;
using validation_internal::Violations;

// Largest summary, in bytes.
constexpr size_t kMaxSummaryBytes = 4096;
// Largest tag, in characters.
constexpr size_t kMaxTagLength = 64;

// ---------------------------------------------------------------------------
// Required text

bool IsBlank(absl::string_view s) {
  return absl::StripAsciiWhitespace(s).empty();
}

// A required text field: present and not only whitespace.
bool RequireText(absl::string_view value, const std::string& field,
                 absl::string_view what, Violations* out) {
  if (value.empty()) {
    Add(out, field, absl::StrCat("required: ", what));
    return false;
  }
  if (IsBlank(value)) {
    Add(out, field, absl::StrCat("required: ", what, "; got only whitespace"));
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Enums

// "TYPE_SUMMIT, TYPE_VISIT, TYPE_TALKS": the values other than 0.
std::string EnumChoices(const EnumDescriptor* desc) {
  std::vector<std::string> names;
  for (int i = 0; i < desc->value_count(); ++i) {
    if (desc->value(i)->number() != 0) names.push_back(desc->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

// Proto3 keeps enum numbers it does not know; those are rejected. When
// `required`, 0 (the UNSPECIFIED value) is rejected too. True when `value`
// is a defined value (and not 0 when required).
bool CheckEnum(int value, const EnumDescriptor* desc, bool required,
               const std::string& field, Violations* out) {
  if (desc->FindValueByNumber(value) == nullptr) {
    Add(out, field,
        absl::StrCat("unknown value ", value, "; expected one of ",
                     EnumChoices(desc)));
    return false;
  }
  if (required && value == 0) {
    Add(out, field, absl::StrCat("required: one of ", EnumChoices(desc)));
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Ids (their form: validation_paths.h) and actor codes

bool CheckId(absl::string_view value, const std::string& field,
             Violations* out) {
  if (value.empty()) {
    Add(out, field,
        "required: 1 to 128 characters from [A-Za-z0-9._:-], e.g. a UUID");
    return false;
  }
  return CheckIdForm(value, field, out);
}

// One actor code; true when known.
bool CheckActor(absl::string_view code, const std::string& field,
                Violations* out) {
  if (IsKnownActor(code)) return true;
  if (code.empty()) {
    Add(out, field,
        "must be a known ISO 3166-1 alpha-3 or organisation code, got an "
        "empty string");
    return false;
  }
  std::string description = absl::StrCat(
      "must be a known ISO 3166-1 alpha-3 or organisation code, got ",
      Quote(code));
  const std::string upper = absl::AsciiStrToUpper(code);
  if (upper != code && IsKnownActor(upper)) {
    absl::StrAppend(&description, " (codes are upper-case: ", Quote(upper),
                    ")");
  }
  Add(out, field, std::move(description));
  return false;
}

// A list of actor codes: each known, no repeats and, when `exclude` is
// given, none also in it (`exclude_field` names it: "events[0].source").
void CheckActorList(const RepeatedPtrField<std::string>& codes,
                    const std::string& field, Violations* out,
                    const RepeatedPtrField<std::string>* exclude = nullptr,
                    absl::string_view exclude_field = "") {
  absl::flat_hash_map<absl::string_view, int> seen;
  for (int i = 0; i < codes.size(); ++i) {
    const std::string& code = codes[i];
    const std::string element = Index(field, i);
    if (!CheckActor(code, element, out)) continue;
    auto [it, inserted] = seen.try_emplace(code, i);
    if (!inserted) {
      Add(out, element,
          absl::StrCat(Quote(code), " repeats ", Index(field, it->second),
                       "; list each actor once"));
      continue;
    }
    if (exclude != nullptr) {
      for (int j = 0; j < exclude->size(); ++j) {
        if ((*exclude)[j] == code) {
          Add(out, element,
              absl::StrCat(Quote(code), " is also ", Index(exclude_field, j),
                           "; an actor cannot be both source and target"));
          break;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Dates

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

v1::DatePrecision DerivePrecision(const v1::Date& date) {
  if (date.day() != 0) return v1::DATE_PRECISION_DAY;
  if (date.month() != 0) return v1::DATE_PRECISION_MONTH;
  return v1::DATE_PRECISION_YEAR;
}

// "2002", "2002-09" or "2002-09-17".
std::string FormatDate(const v1::Date& date) {
  std::string s = absl::StrCat(date.year());
  if (date.month() != 0) {
    absl::StrAppend(&s, "-", date.month() < 10 ? "0" : "", date.month());
  }
  if (date.day() != 0) {
    absl::StrAppend(&s, "-", date.day() < 10 ? "0" : "", date.day());
  }
  return s;
}

// The date rules of `Date`; true when valid.
bool CheckDate(const v1::Date& date, const std::string& path, Violations* out) {
  bool ok = true;
  const bool year_ok = date.year() >= 1 && date.year() <= 9999;
  if (!year_ok) {
    Add(out, Field(path, "year"),
        absl::StrCat("must be 1 through 9999, got ", date.year()));
    ok = false;
  }
  const bool month_ok = date.month() >= 0 && date.month() <= 12;
  if (!month_ok) {
    Add(out, Field(path, "month"),
        absl::StrCat("must be 1 through 12, or 0 when only the year is known, "
                     "got ",
                     date.month()));
    ok = false;
  }
  if (date.day() != 0) {
    const std::string day = Field(path, "day");
    if (date.day() < 0) {
      Add(out, day,
          absl::StrCat("must be 1 through the last day of the month, or 0 "
                       "when the day is not known, got ",
                       date.day()));
      ok = false;
    } else if (date.month() == 0) {
      Add(out, day,
          absl::StrCat("a day requires a month: set month, or leave day 0, "
                       "got day ",
                       date.day(), " with month 0"));
      ok = false;
    } else if (month_ok) {
      // With an invalid year (already reported) February may have 29 days.
      const int last = DaysInMonth(year_ok ? date.year() : 2000, date.month());
      if (date.day() > last) {
        v1::Date month_only;
        month_only.set_year(date.year());
        month_only.set_month(date.month());
        Add(out, day,
            absl::StrCat("must be 1 through ", last, " for ",
                         year_ok ? FormatDate(month_only)
                                 : absl::StrCat("month ", date.month()),
                         ", got ", date.day()));
        ok = false;
      }
    } else if (date.day() > 31) {
      Add(out, day,
          absl::StrCat("must be 1 through 31, got ", date.day()));
      ok = false;
    }
  }
  return ok;
}

void CheckOccurred(const v1::Event& event, const std::string& path,
                   Violations* out) {
  const std::string occurred = Field(path, "occurred");
  if (!event.has_occurred()) {
    Add(out, occurred,
        "required: when the event happened (start.year at least)");
    return;
  }
  const v1::Occurred& o = event.occurred();
  const std::string start_field = Field(occurred, "start");
  bool start_ok = false;
  if (!o.has_start()) {
    Add(out, start_field, "required: the first (or only) day, year at least");
  } else {
    start_ok = CheckDate(o.start(), start_field, out);
  }

  const std::string precision_field = Field(occurred, "precision");
  const bool precision_ok =
      CheckEnum(o.precision(), v1::DatePrecision_descriptor(),
                /*required=*/false, precision_field, out);
  if (start_ok && precision_ok &&
      o.precision() != v1::DATE_PRECISION_UNSPECIFIED &&
      o.precision() != DerivePrecision(o.start())) {
    Add(out, precision_field,
        absl::StrCat(v1::DatePrecision_Name(o.precision()),
                     " does not agree with start ", FormatDate(o.start()),
                     ", which has precision ",
                     v1::DatePrecision_Name(DerivePrecision(o.start())),
                     "; leave it unspecified to have it derived"));
  }

  if (o.has_end()) {
    const std::string end_field = Field(occurred, "end");
    const bool end_ok = CheckDate(o.end(), end_field, out);
    if (start_ok && end_ok) {
      const v1::DatePrecision start_precision = DerivePrecision(o.start());
      const v1::DatePrecision end_precision = DerivePrecision(o.end());
      if (end_precision != start_precision) {
        Add(out, end_field,
            absl::StrCat("must have the same precision as start (",
                         v1::DatePrecision_Name(start_precision), ", ",
                         FormatDate(o.start()), "), got ",
                         v1::DatePrecision_Name(end_precision), " (",
                         FormatDate(o.end()), ")"));
      } else if (std::make_tuple(o.end().year(), o.end().month(),
                                 o.end().day()) <
                 std::make_tuple(o.start().year(), o.start().month(),
                                 o.start().day())) {
        Add(out, end_field,
            absl::StrCat("must not be before start: end ", FormatDate(o.end()),
                         " is before start ", FormatDate(o.start())));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Summary, CAMEO code, tags, sources

void CheckCameoCode(absl::string_view code, const std::string& field,
                    Violations* out) {
  if (code.empty()) return;
  bool digits = code.size() >= 2 && code.size() <= 4;
  for (char c : code) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    Add(out, field,
        absl::StrCat("must be empty or 2 to 4 digits (leading zeros "
                     "significant, e.g. \"036\"), got ",
                     Quote(code)));
  }
}

void CheckTags(const RepeatedPtrField<std::string>& tags,
               const std::string& field, Violations* out) {
  absl::flat_hash_map<absl::string_view, int> seen;
  for (int i = 0; i < tags.size(); ++i) {
    const std::string& tag = tags[i];
    const std::string element = Index(field, i);
    bool ok = !tag.empty() && tag.size() <= kMaxTagLength;
    for (char c : tag) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    }
    if (!ok) {
      Add(out, element,
          absl::StrCat("must be 1 to 64 lower-case characters from [a-z0-9-] "
                       "(e.g. \"human-rights\"), got ",
                       Quote(tag)));
      continue;
    }
    auto [it, inserted] = seen.try_emplace(tag, i);
    if (!inserted) {
      Add(out, element,
          absl::StrCat(Quote(tag), " repeats ", Index(field, it->second),
                       "; list each tag once"));
    }
  }
}

// Empty when `url` is an absolute http(s) URL with a host; else what is
// wrong with it.
std::string UrlProblem(absl::string_view url) {
  absl::string_view rest;
  if (absl::StartsWithIgnoreCase(url, "http://")) {
    rest = url.substr(7);
  } else if (absl::StartsWithIgnoreCase(url, "https://")) {
    rest = url.substr(8);
  } else {
    return "must be an absolute URL starting with http:// or https://";
  }
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return "must not contain spaces or control characters";
    }
  }
  absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
  absl::string_view host = authority;
  absl::string_view port;
  bool has_port = false;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == absl::string_view::npos) return "has a malformed IPv6 host";
    absl::string_view after = host.substr(close + 1);
    host = host.substr(0, close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "has a malformed IPv6 host";
      has_port = true;
      port = after.substr(1);
    }
    if (host.size() <= 2) return "must have a host";
  } else {
    const size_t colon = host.rfind(':');
    if (colon != absl::string_view::npos) {
      has_port = true;
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
  }
  if (host.empty()) return "must have a host";
  if (has_port && !port.empty()) {
    bool digits = port.size() <= 5;
    for (char c : port) digits = digits && c >= '0' && c <= '9';
    if (!digits) return "has an invalid port";
  }
  return "";
}

void CheckSources(const RepeatedPtrField<v1::Source>& sources,
                  const std::string& field, Violations* out) {
  if (sources.empty()) {
    Add(out, field,
        "at least one source is required: where the event is known from "
        "(publisher and title)");
    return;
  }
  for (int i = 0; i < sources.size(); ++i) {
    const v1::Source& source = sources[i];
    const std::string element = Index(field, i);
    RequireText(source.publisher(), Field(element, "publisher"),
                "who published it, e.g. \"The Japan Times\"", out);
    RequireText(source.title(), Field(element, "title"),
                "the title of the article or document", out);
    if (!source.url().empty()) {
      const std::string problem = UrlProblem(source.url());
      if (!problem.empty()) {
        Add(out, Field(element, "url"),
            absl::StrCat(problem, "; got ", Quote(source.url())));
      }
    }
    if (source.has_published()) {
      CheckDate(source.published(), Field(element, "published"), out);
    }
  }
}

// ---------------------------------------------------------------------------
// The kinds

void CheckNonBlankEntries(const RepeatedPtrField<std::string>& entries,
                          const std::string& field, absl::string_view what,
                          Violations* out) {
  for (int i = 0; i < entries.size(); ++i) {
    if (IsBlank(entries[i])) {
      Add(out, Index(field, i),
          absl::StrCat("must not be empty: ", what));
    }
  }
}

void CheckMeeting(const v1::Meeting& m, const std::string& path,
                  Violations* out) {
  CheckEnum(m.type(), v1::Meeting::Type_descriptor(), /*required=*/true,
            Field(path, "type"), out);
  CheckEnum(m.level(), v1::Meeting::Level_descriptor(), /*required=*/true,
            Field(path, "level"), out);
  CheckEnum(m.format(), v1::Meeting::Format_descriptor(), /*required=*/false,
            Field(path, "format"), out);
  CheckEnum(m.outcome(), v1::Meeting::Outcome_descriptor(),
            /*required=*/false, Field(path, "outcome"), out);
  CheckNonBlankEntries(m.participants(), Field(path, "participants"),
                       "one participant's name per entry", out);
}

// A session (Meeting.TYPE_SESSION) is one of a body: its sources are
// organisations.
void CheckSessionSources(const v1::Event& event, absl::string_view path,
                         Violations* out) {
  if (event.meeting().type() != v1::Meeting::TYPE_SESSION) return;
  for (int i = 0; i < event.source_size(); ++i) {
    if (IsCountryCode(event.source(i))) {
      Add(out, Index(Field(path, "source"), i),
          absl::StrCat("a session (meeting.type TYPE_SESSION) is one of an "
                       "international body: sources must be organisation "
                       "codes, got the country ",
                       Quote(event.source(i))));
    }
  }
}

void CheckAgreement(const v1::Agreement& a, const std::string& path,
                    Violations* out) {
  RequireText(a.title(), Field(path, "title"),
              "the agreement's title, e.g. \"Japan-DPRK Pyongyang "
              "Declaration\"",
              out);
  CheckActorList(a.parties(), Field(path, "parties"), out);
  CheckNonBlankEntries(a.commitments(), Field(path, "commitments"),
                       "one commitment per entry", out);
}

void CheckResolution(const v1::ResolutionAction& r, const std::string& path,
                     Violations* out) {
  using R = v1::ResolutionAction;
  const std::string body = Field(path, "body");
  if (r.body().empty()) {
    Add(out, body,
        "required: the organisation code of the body, e.g. \"UNHRC\", "
        "\"UNGA\", \"UNSC\"");
  } else if (!IsOrganisation(r.body())) {
    std::string description = absl::StrCat(
        "must be a known organisation code (UNHRC, UNGA, UNSC, UNCHR, ...), "
        "got ",
        Quote(r.body()));
    const std::string upper = absl::AsciiStrToUpper(r.body());
    if (upper != r.body() && IsOrganisation(upper)) {
      absl::StrAppend(&description, " (codes are upper-case: ", Quote(upper),
                      ")");
    }
    Add(out, body, std::move(description));
  }

  const bool action_ok = CheckEnum(r.action(), R::Action_descriptor(),
                                   /*required=*/true, Field(path, "action"),
                                   out);
  const std::string adoption = Field(path, "adoption");
  const bool adoption_ok = CheckEnum(r.adoption(), R::Adoption_descriptor(),
                                     /*required=*/false, adoption, out);
  const bool decided = r.action() == R::ACTION_ADOPTED ||
                       r.action() == R::ACTION_REJECTED ||
                       r.action() == R::ACTION_VETOED;
  if (action_ok && adoption_ok && r.adoption() != R::ADOPTION_UNSPECIFIED) {
    if (!decided) {
      Add(out, adoption,
          absl::StrCat("only allowed when action is ACTION_ADOPTED, "
                       "ACTION_REJECTED or ACTION_VETOED, got action ",
                       R::Action_Name(r.action())));
    } else if (r.adoption() == R::ADOPTION_WITHOUT_VOTE &&
               r.action() != R::ACTION_ADOPTED) {
      Add(out, adoption,
          absl::StrCat("ADOPTION_WITHOUT_VOTE is only possible for "
                       "ACTION_ADOPTED; ",
                       R::Action_Name(r.action()),
                       " is decided in a vote (ADOPTION_RECORDED_VOTE)"));
    }
  }

  const std::string votes = Field(path, "votes");
  if (r.adoption() == R::ADOPTION_RECORDED_VOTE) {
    if (!r.has_votes()) {
      Add(out, votes,
          "required when adoption is ADOPTION_RECORDED_VOTE: the yes, no and "
          "abstain counts");
    }
  } else if (r.has_votes() && adoption_ok) {
    Add(out, votes,
        absl::StrCat("only allowed when adoption is ADOPTION_RECORDED_VOTE, "
                     "got adoption ",
                     R::Adoption_Name(r.adoption())));
  }
  if (r.has_votes()) {
    const R::Votes& v = r.votes();
    bool counts_ok = true;
    for (const auto& [name, count] :
         {std::pair<absl::string_view, int32_t>{"yes", v.yes()},
          {"no", v.no()},
          {"abstain", v.abstain()}}) {
      if (count < 0) {
        Add(out, Field(votes, name),
            absl::StrCat("must not be negative, got ", count));
        counts_ok = false;
      }
    }
    if (counts_ok && r.adoption() == R::ADOPTION_RECORDED_VOTE &&
        v.yes() == 0 && v.no() == 0 && v.abstain() == 0) {
      Add(out, votes,
          "a recorded vote counts at least one vote; all counts are 0");
    }
  }
  CheckActorList(r.sponsors(), Field(path, "sponsors"), out);
}

void CheckStatement(const v1::Statement& s, const std::string& path,
                    Violations* out) {
  RequireText(s.speaker(), Field(path, "speaker"),
              "who spoke, e.g. \"DPRK Foreign Ministry spokesperson\"", out);
  if (!s.on_behalf_of().empty()) {
    CheckActor(s.on_behalf_of(), Field(path, "on_behalf_of"), out);
  }
  CheckEnum(s.stance(), v1::Statement::Stance_descriptor(), /*required=*/true,
            Field(path, "stance"), out);
}

void CheckSanction(const v1::Sanction& s, const std::string& path,
                   Violations* out) {
  CheckEnum(s.action(), v1::Sanction::Action_descriptor(), /*required=*/true,
            Field(path, "action"), out);
  const std::string measures = Field(path, "measures");
  if (s.measures().empty()) {
    Add(out, measures,
        "at least one measure is required, e.g. \"port entry ban\"");
  }
  CheckNonBlankEntries(s.measures(), measures, "one measure per entry", out);
}

void CheckMilitary(const v1::MilitaryAction& m, const std::string& path,
                   Violations* out) {
  CheckEnum(m.type(), v1::MilitaryAction::Type_descriptor(),
            /*required=*/true, Field(path, "type"), out);
}

void CheckHumanitarian(const v1::HumanitarianDevelopment& h,
                       const std::string& path, Violations* out) {
  CheckEnum(h.type(), v1::HumanitarianDevelopment::Type_descriptor(),
            /*required=*/true, Field(path, "type"), out);
  if (h.people() < 0) {
    Add(out, Field(path, "people"),
        absl::StrCat("must not be negative (0 when unknown), got ",
                     h.people()));
  }
}

void CheckPolicyChange(const v1::PolicyChange& p, const std::string& path,
                       Violations* out) {
  RequireText(p.policy(), Field(path, "policy"),
              "the policy concerned, e.g. \"Diplomatic Bluebook 2019\"", out);
  CheckEnum(p.direction(), v1::PolicyChange::Direction_descriptor(),
            /*required=*/true, Field(path, "direction"), out);
}

// What ValidateEventImpl knows when it checks a correction's `amended`.
struct AmendedContext {
  absl::string_view corrects_event_id;
};

void ValidateEventImpl(const v1::Event& event, absl::string_view path,
                       const AmendedContext* amended, Violations* out);

void CheckCorrection(const v1::Event& event, const std::string& path,
                     Violations* out) {
  using C = v1::Correction;
  const C& c = event.correction();
  const std::string corrects = Field(path, "corrects_event_id");
  if (c.corrects_event_id().empty()) {
    Add(out, corrects, "required: the id of the event corrected");
  } else if (CheckIdForm(c.corrects_event_id(), corrects, out) &&
             c.corrects_event_id() == event.id()) {
    Add(out, corrects,
        absl::StrCat("must name another event, not the correction's own id ",
                     Quote(event.id())));
  }
  CheckEnum(c.action(), C::Action_descriptor(), /*required=*/true,
            Field(path, "action"), out);
  RequireText(c.reason(), Field(path, "reason"),
              "why the correction was made", out);

  const std::string amended = Field(path, "amended");
  if (c.action() == C::ACTION_RETRACT) {
    if (c.has_amended()) {
      Add(out, amended,
          "not allowed for ACTION_RETRACT: a retraction has no amended event");
    }
    return;
  }
  if (c.action() == C::ACTION_AMEND && !c.has_amended()) {
    Add(out, amended,
        "required for ACTION_AMEND: the complete corrected event");
    return;
  }
  // AMEND, or an action that is already reported: check what was sent.
  if (c.has_amended()) {
    const AmendedContext context{c.corrects_event_id()};
    ValidateEventImpl(c.amended(), amended, &context, out);
  }
}

void ValidateEventImpl(const v1::Event& event, absl::string_view path,
                       const AmendedContext* amended, Violations* out) {
  const std::string id = Field(path, "id");
  if (amended == nullptr) {
    CheckId(event.id(), id, out);
  } else if (!event.id().empty() &&
             event.id() != amended->corrects_event_id) {
    Add(out, id,
        absl::StrCat("must be empty or equal to corrects_event_id ",
                     Quote(amended->corrects_event_id), ", got ",
                     Quote(event.id())));
  }

  switch (event.what_case()) {
    case v1::Event::kMeeting:
      CheckMeeting(event.meeting(), Field(path, "meeting"), out);
      CheckSessionSources(event, path, out);
      break;
    case v1::Event::kAgreement:
      CheckAgreement(event.agreement(), Field(path, "agreement"), out);
      break;
    case v1::Event::kResolution:
      CheckResolution(event.resolution(), Field(path, "resolution"), out);
      break;
    case v1::Event::kStatement:
      CheckStatement(event.statement(), Field(path, "statement"), out);
      break;
    case v1::Event::kSanction:
      CheckSanction(event.sanction(), Field(path, "sanction"), out);
      break;
    case v1::Event::kMilitary:
      CheckMilitary(event.military(), Field(path, "military"), out);
      break;
    case v1::Event::kHumanitarian:
      CheckHumanitarian(event.humanitarian(), Field(path, "humanitarian"),
                        out);
      break;
    case v1::Event::kPolicyChange:
      CheckPolicyChange(event.policy_change(), Field(path, "policy_change"),
                        out);
      break;
    case v1::Event::kCorrection:
      if (amended != nullptr) {
        Add(out, Field(path, "correction"),
            "an amended event must not itself be a correction");
      } else {
        CheckCorrection(event, Field(path, "correction"), out);
      }
      break;
    case v1::Event::WHAT_NOT_SET:
      Add(out, Field(path, "what"),
          "exactly one of meeting, agreement, resolution, statement, "
          "sanction, military, humanitarian, policy_change, correction is "
          "required");
      break;
  }

  const std::string source = Field(path, "source");
  if (event.source().empty()) {
    Add(out, source,
        "at least one actor is required: an ISO 3166-1 alpha-3 or "
        "organisation code, e.g. \"JPN\"");
  }
  CheckActorList(event.source(), source, out);
  CheckActorList(event.target(), Field(path, "target"), out, &event.source(),
                 source);

  CheckOccurred(event, std::string(path), out);
  CheckCameoCode(event.cameo_code(), Field(path, "cameo_code"), out);

  const std::string summary = Field(path, "summary");
  if (RequireText(event.summary(), summary,
                  "one or two sentences on what happened", out) &&
      event.summary().size() > kMaxSummaryBytes) {
    Add(out, summary,
        absl::StrCat("must be at most ", kMaxSummaryBytes, " bytes, got ",
                     event.summary().size()));
  }
  CheckTags(event.tags(), Field(path, "tags"), out);
  CheckSources(event.sources(), Field(path, "sources"), out);
}

void NormalizeOccurred(v1::Occurred* occurred) {
  if (occurred->precision() == v1::DATE_PRECISION_UNSPECIFIED) {
    occurred->set_precision(DerivePrecision(occurred->start()));
  }
}

}  // namespace

void ValidateEvent(const v1::Event& event, absl::string_view path,
                   std::vector<rpc::FieldViolation>* out) {
  ValidateEventImpl(event, path, /*amended=*/nullptr, out);
}

bool ValidateDate(const v1::Date& date, absl::string_view path,
                  std::vector<rpc::FieldViolation>* out) {
  return CheckDate(date, std::string(path), out);
}

void NormalizeEvent(v1::Event* event) {
  if (event->has_occurred()) NormalizeOccurred(event->mutable_occurred());
  if (event->has_correction() && event->correction().has_amended() &&
      event->correction().amended().has_occurred()) {
    NormalizeOccurred(
        event->mutable_correction()->mutable_amended()->mutable_occurred());
  }
}

}  // namespace annals::services
