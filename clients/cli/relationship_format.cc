#include "clients/cli/relationship_format.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "clients/cli/event_format.h"
#include "proto/control_characters.h"

namespace annals {
namespace {

// Longest summary printed inside a multi-line rendering, in bytes.
constexpr size_t kSummaryBytes = 110;
// Separator between the items of one line.
constexpr absl::string_view kSep = "; ";

std::string FormatDate(const v1::Date& date) {
  v1::Occurred occurred;
  *occurred.mutable_start() = date;
  return FormatOccurred(occurred);
}

// An enum value's name as words: "LEVEL_SENIOR_OFFICIALS" -> "senior
// officials". The prefix up to the first '_' names the enum and goes; the
// UNSPECIFIED value becomes "".
std::string Words(absl::string_view enum_name) {
  const size_t underscore = enum_name.find('_');
  absl::string_view rest = underscore == absl::string_view::npos
                               ? enum_name
                               : enum_name.substr(underscore + 1);
  if (rest == "UNSPECIFIED") return "";
  std::string words = absl::AsciiStrToLower(rest);
  std::replace(words.begin(), words.end(), '_', ' ');
  return words;
}

// `text` cut to at most kSummaryBytes (on a UTF-8 character boundary), with
// "..." when it was cut.
std::string Abbreviate(absl::string_view text) {
  if (text.size() <= kSummaryBytes) return std::string(text);
  size_t end = kSummaryBytes;
  // Continuation bytes are 10xxxxxx: back up to the start of a character.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return absl::StrCat(absl::StripTrailingAsciiWhitespace(text.substr(0, end)),
                      "...");
}

// "2002-09 meeting jpn-prk-2002-09-koizumi (+4.0): Prime Minister ..."
std::string FormatRef(const v1::EventRef& ref) {
  return absl::StrCat(FormatOccurred(ref.occurred()), " ", ref.kind(), " ",
                      ref.event_id(), " (",
                      FormatTenths(ref.goldstein_tenths()),
                      "): ", Abbreviate(ref.summary()));
}

// "agreement 4, meeting 8, resolution 30".
std::string FormatCounts(
    const google::protobuf::RepeatedPtrField<v1::KindCount>& counts) {
  return absl::StrJoin(counts, ", ",
                       [](std::string* out, const v1::KindCount& count) {
                         absl::StrAppend(out, count.kind(), " ", count.count());
                       });
}

// Appends "label: codes" to `parts` when `codes` is not empty.
void AppendCodes(absl::string_view label,
                 const google::protobuf::RepeatedPtrField<std::string>& codes,
                 std::vector<std::string>* parts) {
  if (codes.empty()) return;
  parts->push_back(absl::StrCat(label, " ", absl::StrJoin(codes, ", ")));
}

// "2019-02 Hanoi, leaders summit, third place, no agreement: Donald Trump,
// Kim Jong Un (usa-prk-2019-02-hanoi-summit)".
std::string FormatMeeting(const v1::MeetingRecord& meeting) {
  std::vector<std::string> parts;
  if (!meeting.place().empty()) parts.push_back(meeting.place());
  std::string kind = Words(v1::Meeting::Level_Name(meeting.level()));
  const std::string type = Words(v1::Meeting::Type_Name(meeting.type()));
  if (!type.empty()) kind = kind.empty() ? type : absl::StrCat(kind, " ", type);
  if (!kind.empty()) parts.push_back(kind);
  const std::string format = Words(v1::Meeting::Format_Name(meeting.format()));
  if (!format.empty()) parts.push_back(format);
  const std::string outcome =
      Words(v1::Meeting::Outcome_Name(meeting.outcome()));
  if (!outcome.empty()) parts.push_back(outcome);
  std::string out = FormatOccurred(meeting.event().occurred());
  if (!parts.empty()) absl::StrAppend(&out, " ", absl::StrJoin(parts, ", "));
  if (!meeting.participants().empty()) {
    absl::StrAppend(&out, ": ", absl::StrJoin(meeting.participants(), ", "));
  }
  absl::StrAppend(&out, " (", meeting.event().event_id(), ")");
  return out;
}

// "2014-05 Stockholm Agreement [JPN, PRK]; suspended by 2016-02 ..."
std::string FormatAgreement(const v1::AgreementRecord& agreement) {
  std::string out = absl::StrCat(FormatOccurred(agreement.event().occurred()),
                                 " ", agreement.title());
  if (!agreement.parties().empty()) {
    absl::StrAppend(&out, " [", absl::StrJoin(agreement.parties(), ", "), "]");
  }
  if (agreement.has_suspended_by()) {
    const v1::EventRef& by = agreement.suspended_by();
    absl::StrAppend(&out, kSep, "suspended by ", by.kind(), " ", by.event_id(),
                    " of ", FormatOccurred(by.occurred()));
  }
  return out;
}

// "UNHRC 2019: no decision recorded; declined to table JPN (1 action)".
std::string FormatResolution(const v1::ResolutionRecord& record) {
  std::vector<std::string> parts;
  const std::string decision =
      Words(v1::ResolutionAction::Action_Name(record.decision()));
  if (decision.empty()) {
    parts.push_back("no decision recorded");
  } else {
    std::string how = decision;
    if (record.adoption() == v1::ResolutionAction::ADOPTION_RECORDED_VOTE) {
      absl::StrAppend(&how, " in a recorded vote ", record.votes().yes(),
                      " yes, ", record.votes().no(), " no, ",
                      record.votes().abstain(), " abstaining");
    } else if (record.adoption() ==
               v1::ResolutionAction::ADOPTION_WITHOUT_VOTE) {
      absl::StrAppend(&how, " without a vote");
    }
    if (record.has_decided_by()) {
      absl::StrAppend(&how, " (",
                      FormatOccurred(record.decided_by().occurred()), ")");
    }
    parts.push_back(how);
  }
  AppendCodes("tabled by", record.tabled_by(), &parts);
  AppendCodes("co-sponsored by", record.co_sponsored_by(), &parts);
  AppendCodes("declined to table:", record.declined_to_table(), &parts);
  // Sponsors that neither tabled nor co-sponsored in an event of their own
  // (named only in some action's `sponsors`).
  google::protobuf::RepeatedPtrField<std::string> other_sponsors;
  for (const std::string& sponsor : record.sponsors()) {
    const auto& tabled = record.tabled_by();
    const auto& co = record.co_sponsored_by();
    if (std::find(tabled.begin(), tabled.end(), sponsor) == tabled.end() &&
        std::find(co.begin(), co.end(), sponsor) == co.end()) {
      *other_sponsors.Add() = sponsor;
    }
  }
  AppendCodes("sponsors", other_sponsors, &parts);
  AppendCodes("symbols", record.symbols(), &parts);
  const int64_t n = record.action_count();
  return absl::StrCat(record.body(), " ", record.year(), ": ",
                      absl::StrJoin(parts, std::string(kSep)), " (", n,
                      n == 1 ? " action)" : " actions)");
}

// "JPN → PRK: port entry ban, imposed 2006-10 (Foreign Exchange Act)".
std::string FormatSanction(const v1::SanctionMeasure& sanction) {
  std::string out = absl::StrCat(
      sanction.imposer(), " → ", sanction.target(), ": ", sanction.measure(),
      ", ", Words(v1::Sanction::Action_Name(sanction.last_action())), " ",
      FormatOccurred(sanction.last_event().occurred()));
  if (!sanction.legal_basis().empty()) {
    absl::StrAppend(&out, " (", sanction.legal_basis(), ")");
  }
  return out;
}

// "2019-04-18 PRK, DPRK Foreign Ministry via KCNA (hostile): "quote""; the
// summary stands in for a missing quote.
std::string FormatStatement(const v1::StatementRecord& statement) {
  std::string who = absl::StrJoin(statement.source(), ",");
  if (!statement.speaker().empty())
    absl::StrAppend(&who, ", ", statement.speaker());
  if (!statement.on_behalf_of().empty()) {
    absl::StrAppend(&who, " for ", statement.on_behalf_of());
  }
  if (!statement.channel().empty()) {
    absl::StrAppend(&who, " via ", statement.channel());
  }
  const std::string stance =
      Words(v1::Statement::Stance_Name(statement.stance()));
  if (!stance.empty()) absl::StrAppend(&who, " (", stance, ")");
  const std::string said =
      statement.quote().empty()
          ? Abbreviate(statement.event().summary())
          : absl::StrCat("\"", Abbreviate(statement.quote()), "\"");
  return absl::StrCat(FormatOccurred(statement.event().occurred()), " ", who,
                      ": ", said);
}

// "Diplomatic Bluebook 2019: softening (2019-04)".
std::string FormatPolicy(const v1::PolicyRecord& policy) {
  return absl::StrCat(
      policy.policy(), ": ",
      Words(v1::PolicyChange::Direction_Name(policy.direction())), " (",
      FormatOccurred(policy.latest().occurred()), ")");
}

// "2018-11 -6.0 (1)": a month of the series with its mean score and count;
// "2018 (no month) ..." for the events of 2018 not placed in a month.
std::string FormatMonth(const v1::GoldsteinMonth& month) {
  v1::Date date;
  date.set_year(month.year());
  date.set_month(month.month());
  const int64_t n = month.event_count();
  const int64_t sum = month.goldstein_sum_tenths();
  // Rounded half away from zero, as GoldsteinIndex.mean_tenths is.
  const int64_t mean = n == 0 ? 0
                              : (sum >= 0 ? (2 * sum + n) / (2 * n)
                                          : -((-2 * sum + n) / (2 * n)));
  return absl::StrCat(FormatDate(date), month.month() == 0 ? " (no month) " : " ",
                      FormatTenths(mean), " (", n, ")");
}

// The first month of the twelve-month window that ends with year-month.
v1::Date WindowStart(int year, int month) {
  const int index = year * 12 + (month - 1) - 11;
  v1::Date date;
  date.set_year(index / 12);
  date.set_month(index % 12 + 1);
  return date;
}

}  // namespace

std::string FormatTenths(int64_t tenths) {
  const char* sign = tenths > 0 ? "+" : (tenths < 0 ? "-" : "");
  const uint64_t magnitude =
      static_cast<uint64_t>(tenths < 0 ? -tenths : tenths);
  return absl::StrCat(sign, magnitude / 10, ".", magnitude % 10);
}

std::string FormatIndex(const v1::GoldsteinIndex& index) {
  if (index.end_year() == 0) return "none (no events)";
  v1::Date end;
  end.set_year(index.end_year());
  end.set_month(index.end_month());
  const int64_t n = index.event_count();
  std::string out = absl::StrCat(
      FormatTenths(index.mean_tenths()), " over ",
      FormatDate(WindowStart(index.end_year(), index.end_month())), "..",
      FormatDate(end), " (", n, n == 1 ? " event" : " events");
  if (const int64_t u = index.unplaced_count(); u > 0) {
    absl::StrAppend(&out, "; ", u, u == 1 ? " event" : " events",
                    " of its years not dated to one month, left out");
  }
  return out + ")";
}

std::string FormatRelationship(const v1::RelationshipState& state,
                               const v1::GoldsteinIndex& index, int months) {
  if (state.event_count() == 0) {
    return EscapeControlCharacters(absl::StrCat(state.dyad(), ": no events"));
  }
  std::vector<std::string> lines;
  lines.push_back(
      absl::StrCat(state.dyad(), ": ", state.event_count(),
                   state.event_count() == 1 ? " event (" : " events (",
                   FormatCounts(state.counts()), ")"));
  lines.push_back(
      absl::StrCat("first event:  ", FormatRef(state.first_event())));
  lines.push_back(
      absl::StrCat("last event:   ", FormatRef(state.last_event())));
  lines.push_back(absl::StrCat(
      "last meeting: ",
      state.has_last_meeting() ? FormatMeeting(state.last_meeting()) : "none"));
  lines.push_back(
      absl::StrCat("leaders' meetings: ", state.leaders_meeting_count()));
  if (!state.agreements().empty()) {
    lines.push_back("agreements:");
    for (const v1::AgreementRecord& agreement : state.agreements()) {
      lines.push_back(absl::StrCat("  ", FormatAgreement(agreement)));
    }
  }
  if (!state.resolutions().empty()) {
    lines.push_back("resolutions:");
    for (const v1::ResolutionRecord& record : state.resolutions()) {
      lines.push_back(absl::StrCat("  ", FormatResolution(record)));
    }
  }
  std::vector<std::string> in_force;
  std::vector<std::string> ended;
  for (const v1::SanctionMeasure& sanction : state.sanctions()) {
    (sanction.in_force() ? in_force : ended)
        .push_back(absl::StrCat("  ", FormatSanction(sanction)));
  }
  if (!in_force.empty()) {
    lines.push_back("sanctions in force:");
    lines.insert(lines.end(), in_force.begin(), in_force.end());
  }
  if (!ended.empty()) {
    lines.push_back("sanctions eased or lifted:");
    lines.insert(lines.end(), ended.begin(), ended.end());
  }
  if (!state.recent_statements().empty()) {
    lines.push_back("recent statements:");
    for (const v1::StatementRecord& statement : state.recent_statements()) {
      lines.push_back(absl::StrCat("  ", FormatStatement(statement)));
    }
  }
  if (!state.policies().empty()) {
    lines.push_back("policies:");
    for (const v1::PolicyRecord& policy : state.policies()) {
      lines.push_back(absl::StrCat("  ", FormatPolicy(policy)));
    }
  }
  if (!state.tag_counts().empty()) {
    lines.push_back(absl::StrCat(
        "tags: ", absl::StrJoin(state.tag_counts(), ", ",
                                [](std::string* out, const v1::TagCount& t) {
                                  absl::StrAppend(out, t.tag(), " (",
                                                  t.count(), ")");
                                })));
  } else if (!state.tags().empty()) {  // a server without tag counts
    lines.push_back(absl::StrCat("tags: ", absl::StrJoin(state.tags(), ", ")));
  }
  lines.push_back(absl::StrCat("index: ", FormatIndex(index)));
  const int size = state.goldstein_monthly_size();
  if (months > 0 && size > 0) {
    std::vector<std::string> recent;
    for (int i = std::max(0, size - months); i < size; ++i) {
      recent.push_back(FormatMonth(state.goldstein_monthly(i)));
    }
    lines.push_back(absl::StrCat("monthly: ", absl::StrJoin(recent, ", ")));
  }
  return EscapeControlCharacters(absl::StrJoin(lines, "\n"));
}

std::string FormatRelationshipSummary(const v1::RelationshipSummary& summary) {
  std::string out =
      absl::StrCat(summary.dyad(), ": ", summary.event_count(),
                   summary.event_count() == 1 ? " event" : " events");
  if (summary.has_first_event() && summary.has_last_event()) {
    const std::string first = FormatOccurred(summary.first_event().occurred());
    const std::string last = FormatOccurred(summary.last_event().occurred());
    absl::StrAppend(&out, " ", first);
    if (last != first) absl::StrAppend(&out, "..", last);
  }
  absl::StrAppend(&out, ", index ", FormatIndex(summary.index()));
  if (summary.has_last_meeting()) {
    const v1::MeetingRecord& meeting = summary.last_meeting();
    absl::StrAppend(&out, ", last meeting ",
                    FormatOccurred(meeting.event().occurred()));
    if (!meeting.place().empty()) absl::StrAppend(&out, " ", meeting.place());
    const std::string level = Words(v1::Meeting::Level_Name(meeting.level()));
    if (!level.empty()) absl::StrAppend(&out, " (", level, ")");
  }
  return EscapeControlCharacters(out, /*keep_newline_and_tab=*/false);
}

std::string FormatTimelineEntry(const v1::TimelineEntry& entry) {
  const v1::Event& event = entry.event();
  std::string actors = absl::StrJoin(event.source(), ",");
  if (event.target_size() > 0) {
    absl::StrAppend(&actors, ">", absl::StrJoin(event.target(), ","));
  }
  std::string out = absl::StrCat(entry.overlapping() ? "~#" : "#",
                                 entry.position(), " ", entry.stream(),
                                 " ", FormatOccurred(event.occurred()), " ",
                                 KindName(event), " ", actors, " ", event.id(),
                                 " (", FormatTenths(entry.goldstein_tenths()),
                                 "): ", event.summary());
  if (entry.amended_at() != 0) {
    absl::StrAppend(&out, " [amended at ", entry.amended_at(), "]");
  }
  return EscapeControlCharacters(out, /*keep_newline_and_tab=*/false);
}

std::string FormatRebuildReport(const v1::RebuildProjectionsResponse& report) {
  std::string out =
      absl::StrCat(report.events(), " events replayed, ", report.keys(),
                   " projection entries recomputed: ");
  if (report.matched()) {
    absl::StrAppend(&out, "matched what was stored");
    return out;
  }
  absl::StrAppend(&out, "differed (", report.missing(), " missing, ",
                  report.unexpected(), " unexpected, ", report.different(),
                  " different; first: ", report.first_difference(), ")",
                  report.repaired() ? ", repaired" : ", not repaired");
  return out;
}

}  // namespace annals
