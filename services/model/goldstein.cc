#include "services/model/goldstein.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace annals::services {
namespace {

// One row of the CAMEO 1.1b3 Goldstein scale, in tenths.
struct CameoScore {
  absl::string_view code;
  int tenths;
};

// The root codes, their 3-digit codes, and the 4-digit codes whose value
// differs from their parent's (every other 4-digit code has its parent's
// value, which the fallback finds).
constexpr CameoScore kCameoScale[] = {
    // 01 Make public statement
    {"01", 0}, {"010", 0}, {"011", -1}, {"012", -4}, {"013", 4}, {"014", 0},
    {"015", 0}, {"016", 34}, {"017", 0}, {"018", 34}, {"019", 34},
    // 02 Appeal
    {"02", 30}, {"020", 30}, {"021", 34}, {"022", 34}, {"023", 34},
    {"024", -3}, {"025", -3}, {"026", 40}, {"027", 40}, {"028", 40},
    // 03 Express intent to cooperate
    {"03", 40}, {"030", 40}, {"031", 52}, {"032", 45}, {"033", 52},
    {"0334", 60}, {"034", 70}, {"035", 70}, {"036", 40}, {"037", 50},
    {"038", 70}, {"039", 50},
    // 04 Consult
    {"04", 10}, {"040", 10}, {"041", 10}, {"042", 19}, {"043", 28},
    {"044", 25}, {"045", 50}, {"046", 70},
    // 05 Engage in diplomatic cooperation
    {"05", 35}, {"050", 35}, {"051", 34}, {"052", 35}, {"053", 38},
    {"054", 60}, {"055", 70}, {"056", 70}, {"057", 80},
    // 06 Engage in material cooperation
    {"06", 60}, {"060", 60}, {"061", 64}, {"062", 74}, {"063", 74},
    {"064", 70},
    // 07 Provide aid
    {"07", 70}, {"070", 70}, {"071", 74}, {"072", 83}, {"073", 74},
    {"074", 85}, {"075", 70},
    // 08 Yield
    {"08", 50}, {"080", 50}, {"081", 50}, {"082", 50}, {"083", 50},
    {"084", 70}, {"085", 70}, {"086", 90}, {"087", 90}, {"0874", 100},
    // 09 Investigate
    {"09", -20}, {"090", -20}, {"091", -20}, {"092", -20}, {"093", -20},
    {"094", -20},
    // 10 Demand
    {"10", -50}, {"100", -50}, {"101", -50}, {"102", -50}, {"103", -50},
    {"104", -50}, {"105", -50}, {"106", -50}, {"107", -50}, {"108", -50},
    {"109", -50},
    // 11 Disapprove
    {"11", -20}, {"110", -20}, {"111", -20}, {"112", -20}, {"113", -20},
    {"114", -20}, {"115", -20},
    // 12 Reject
    {"12", -40}, {"120", -40}, {"121", -40}, {"122", -40}, {"123", -40},
    {"124", -50}, {"125", -50}, {"126", -50}, {"127", -50}, {"128", -50},
    // 13 Threaten
    {"13", -60}, {"130", -44}, {"131", -58}, {"132", -58}, {"133", -58},
    {"134", -58}, {"135", -58}, {"136", -70}, {"137", -70}, {"138", -70},
    {"139", -70},
    // 14 Protest
    {"14", -65}, {"140", -65}, {"141", -65}, {"142", -65}, {"143", -65},
    {"144", -75}, {"145", -75},
    // 15 Exhibit force posture
    {"15", -72}, {"150", -72}, {"151", -72}, {"152", -72}, {"153", -72},
    {"154", -72},
    // 16 Reduce relations
    {"16", -40}, {"160", -40}, {"161", -40}, {"162", -56}, {"163", -65},
    {"164", -70}, {"165", -70}, {"166", -80},
    // 17 Coerce
    {"17", -70}, {"170", -70}, {"171", -92}, {"172", -50}, {"173", -50},
    {"174", -50}, {"175", -90},
    // 18 Assault
    {"18", -90}, {"180", -90}, {"181", -90}, {"182", -95}, {"1821", -90},
    {"1822", -90}, {"1823", -100}, {"183", -100}, {"184", -80}, {"185", -80},
    {"186", -100},
    // 19 Fight
    {"19", -100}, {"190", -100}, {"191", -95}, {"192", -95}, {"193", -100},
    {"194", -100}, {"195", -100}, {"196", -95},
    // 20 Use unconventional mass violence
    {"20", -100}, {"200", -100}, {"201", -95}, {"202", -100}, {"203", -100},
    {"204", -100},
};

const absl::flat_hash_map<absl::string_view, int>& CameoTable() {
  static const auto* const table = [] {
    auto* t = new absl::flat_hash_map<absl::string_view, int>();
    for (const CameoScore& row : kCameoScale) t->emplace(row.code, row.tenths);
    return t;
  }();
  return *table;
}

int Lookup(absl::string_view code) {
  const auto& table = CameoTable();
  auto it = table.find(code);
  return it == table.end() ? kNoGoldstein : it->second;
}

int MeetingDefault(const v1::Meeting& m) {
  if (m.type() == v1::Meeting::TYPE_SESSION) return 0;
  switch (m.outcome()) {
    case v1::Meeting::OUTCOME_AGREEMENT:
      return 60;
    case v1::Meeting::OUTCOME_PROGRESS:
    case v1::Meeting::OUTCOME_PLANNED:
      return 40;
    case v1::Meeting::OUTCOME_NO_AGREEMENT:
      return 10;
    case v1::Meeting::OUTCOME_COLLAPSED:
      return -30;
    default:
      return 25;
  }
}

int ResolutionDefault(const v1::ResolutionAction& r) {
  switch (r.action()) {
    case v1::ResolutionAction::ACTION_TABLED:
    case v1::ResolutionAction::ACTION_CO_SPONSORED:
    case v1::ResolutionAction::ACTION_ADOPTED:
      return -20;
    case v1::ResolutionAction::ACTION_DECLINED_TO_TABLE:
      return 10;
    default:
      return 0;
  }
}

int StatementDefault(const v1::Statement& s) {
  switch (s.stance()) {
    case v1::Statement::STANCE_SUPPORTIVE:
      return 30;
    case v1::Statement::STANCE_CONCILIATORY:
      return 20;
    case v1::Statement::STANCE_CRITICAL:
      return -20;
    case v1::Statement::STANCE_HOSTILE:
      return -50;
    default:
      return 0;
  }
}

int SanctionDefault(const v1::Sanction& s) {
  switch (s.action()) {
    case v1::Sanction::ACTION_IMPOSED:
      return -80;
    case v1::Sanction::ACTION_EXTENDED:
      return -40;
    case v1::Sanction::ACTION_EASED:
      return 50;
    case v1::Sanction::ACTION_LIFTED:
      return 70;
    default:
      return 0;
  }
}

int MilitaryDefault(const v1::MilitaryAction& m) {
  switch (m.type()) {
    case v1::MilitaryAction::TYPE_WEAPONS_TEST:
      return -70;
    case v1::MilitaryAction::TYPE_EXERCISE:
      return -60;
    case v1::MilitaryAction::TYPE_USE_OF_FORCE:
      return -100;
    default:
      return -72;
  }
}

int HumanitarianDefault(const v1::HumanitarianDevelopment& h) {
  switch (h.type()) {
    case v1::HumanitarianDevelopment::TYPE_RETURN:
    case v1::HumanitarianDevelopment::TYPE_FAMILY_REUNION:
      return 70;
    case v1::HumanitarianDevelopment::TYPE_AID:
      return 74;
    case v1::HumanitarianDevelopment::TYPE_REPORT:
      return -20;
    default:
      return 30;
  }
}

int PolicyChangeDefault(const v1::PolicyChange& p) {
  switch (p.direction()) {
    case v1::PolicyChange::DIRECTION_SOFTENING:
      return 50;
    case v1::PolicyChange::DIRECTION_HARDENING:
      return -40;
    default:
      return 0;
  }
}

}  // namespace

int CameoGoldsteinTenths(absl::string_view cameo_code) {
  if (cameo_code.size() < 2 || cameo_code.size() > 4) return kNoGoldstein;
  for (char c : cameo_code) {
    if (c < '0' || c > '9') return kNoGoldstein;
  }
  // The code itself, then its 3-digit parent, then its 2-digit root.
  for (size_t length = cameo_code.size(); length >= 2; --length) {
    const int tenths = Lookup(cameo_code.substr(0, length));
    if (tenths != kNoGoldstein) return tenths;
  }
  return kNoGoldstein;
}

int DefaultGoldsteinTenths(const v1::Event& event) {
  switch (event.what_case()) {
    case v1::Event::kMeeting:
      return MeetingDefault(event.meeting());
    case v1::Event::kAgreement:
      return 80;
    case v1::Event::kResolution:
      return ResolutionDefault(event.resolution());
    case v1::Event::kStatement:
      return StatementDefault(event.statement());
    case v1::Event::kSanction:
      return SanctionDefault(event.sanction());
    case v1::Event::kMilitary:
      return MilitaryDefault(event.military());
    case v1::Event::kHumanitarian:
      return HumanitarianDefault(event.humanitarian());
    case v1::Event::kPolicyChange:
      return PolicyChangeDefault(event.policy_change());
    case v1::Event::kCorrection:
    case v1::Event::WHAT_NOT_SET:
      return 0;
  }
  return 0;
}

int GoldsteinTenths(const v1::Event& event) {
  const int from_code = CameoGoldsteinTenths(event.cameo_code());
  const int tenths =
      from_code != kNoGoldstein ? from_code : DefaultGoldsteinTenths(event);
  return std::clamp(tenths, kMinGoldsteinTenths, kMaxGoldsteinTenths);
}

}  // namespace annals::services
