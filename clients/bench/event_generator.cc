#include "clients/bench/event_generator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace annals::bench {
namespace {

// SplitMix64: small, fast, and good enough to spread benchmark data.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0.
  int Uniform(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  // Uniform in [0, 1).
  double Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Real() < p; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Uniform(static_cast<int>(N))];
  }

 private:
  uint64_t state_;
};

// The generator's stream of numbers for event n: independent of every
// other event's.
Rng RngFor(uint64_t seed, uint64_t n, uint64_t salt) {
  Rng mix(seed * 0xD1B54A32D192ED03ull ^ (n + 1) * 0x9E3779B97F4A7C15ull ^ salt);
  return Rng(mix.Next());
}

constexpr const char* kActors[] = {
    "JPN", "PRK", "KOR", "USA", "CHN", "RUS", "FRA", "GBR", "DEU", "IND",
    "BRA", "ZAF", "AUS", "CAN", "MEX", "IDN", "TUR", "IRN", "EGY", "NGA",
    "ISR", "SAU", "UKR", "POL", "ITA", "ESP", "VNM", "PHL", "THA", "MYS",
    "PAK", "ARG", "SGP", "NZL", "MNG", "EU",  "UN",  "UNHRC", "UNGA", "ASEAN"};
constexpr int kNumActors = sizeof(kActors) / sizeof(kActors[0]);

constexpr const char* kKinds[] = {"meeting",  "agreement", "resolution",
                                  "statement", "sanction",  "military",
                                  "humanitarian", "policy_change"};
// Cumulative weights (percent) of the kinds above: meetings and statements
// dominate, as in the seed timeline.
constexpr int kKindCumulative[] = {30, 38, 46, 70, 78, 86, 93, 100};

constexpr const char* kTags[] = {
    "abductions", "nuclear",   "missiles",  "human-rights", "trade",
    "sanctions",  "security",  "energy",    "climate",      "refugees",
    "territory",  "fisheries", "investment", "pandemic",    "cyber",
    "maritime",   "un",        "summit"};

constexpr const char* kPublishers[] = {
    "The Japan Times", "Kyodo News", "Yonhap News Agency", "Reuters",
    "Associated Press", "The Diplomat", "NHK World", "Agence France-Presse",
    "Ministry of Foreign Affairs of Japan", "United Nations News",
    "The Korea Herald", "BBC News"};
constexpr const char* kTopics[] = {
    "regional security", "the nuclear issue", "trade and investment",
    "energy cooperation", "fisheries and maritime boundaries",
    "the abduction issue", "humanitarian access", "climate policy",
    "missile launches", "economic sanctions", "cyber security",
    "refugee flows", "territorial disputes", "pandemic response"};
constexpr const char* kPlaces[] = {
    "Tokyo", "Pyongyang", "Seoul", "Washington", "Beijing", "Moscow",
    "Singapore", "Hanoi", "Vladivostok", "Geneva", "New York", "Stockholm",
    "Ulaanbaatar", "Brussels", "Jakarta", "New Delhi"};
constexpr const char* kMonths[] = {"January", "February", "March",
                                   "April",   "May",      "June",
                                   "July",    "August",   "September",
                                   "October", "November", "December"};

std::string Slug(absl::string_view text) {
  std::string slug;
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      slug.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      slug.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

void SetOccurred(Rng& rng, v1::Event* event) {
  v1::Occurred* occurred = event->mutable_occurred();
  v1::Date* start = occurred->mutable_start();
  start->set_year(1990 + rng.Uniform(36));  // 1990-2025
  const double precision = rng.Real();
  if (precision < 0.15) return;  // year
  start->set_month(1 + rng.Uniform(12));
  if (precision < 0.40) return;  // month
  start->set_day(1 + rng.Uniform(25));
  if (rng.Chance(0.10)) {  // a range of a few days
    *occurred->mutable_end() = *start;
    occurred->mutable_end()->set_day(start->day() + 1 + rng.Uniform(3));
  }
}

std::string DateText(const v1::Date& date) {
  if (date.month() == 0) return absl::StrCat("in ", date.year());
  if (date.day() == 0) {
    return absl::StrCat("in ", kMonths[date.month() - 1], " ", date.year());
  }
  return absl::StrCat("on ", kMonths[date.month() - 1], " ", date.day(), ", ",
                      date.year());
}

}  // namespace

const std::vector<std::string>& GeneratorActors() {
  static const auto* actors =
      new std::vector<std::string>(std::begin(kActors), std::end(kActors));
  return *actors;
}

const std::vector<std::string>& GeneratorKinds() {
  static const auto* kinds =
      new std::vector<std::string>(std::begin(kKinds), std::end(kKinds));
  return *kinds;
}

const std::vector<std::string>& GeneratorTags() {
  static const auto* tags =
      new std::vector<std::string>(std::begin(kTags), std::end(kTags));
  return *tags;
}

EventGenerator::EventGenerator(const GeneratorOptions& options)
    : options_(options) {
  if (options_.id_prefix.empty()) {
    options_.id_prefix = absl::StrCat("gen", options_.seed);
  }
  std::vector<std::pair<int, int>> pairs;
  for (int a = 0; a < kNumActors; ++a) {
    for (int b = a + 1; b < kNumActors; ++b) pairs.emplace_back(a, b);
  }
  // A seeded Fisher-Yates shuffle, then the first `dyads`.
  Rng rng = RngFor(options_.seed, 0, 0xDADu);
  for (size_t i = pairs.size() - 1; i > 0; --i) {
    std::swap(pairs[i], pairs[static_cast<size_t>(rng.Uniform(static_cast<int>(i + 1)))]);
  }
  const size_t count = std::clamp<size_t>(
      static_cast<size_t>(std::max(1, options_.dyads)), 1, pairs.size());
  pairs.resize(count);
  dyads_ = std::move(pairs);
  for (const auto& [a, b] : dyads_) {
    const std::string x = kActors[a];
    const std::string y = kActors[b];
    dyad_names_.push_back(x < y ? absl::StrCat(x, "-", y) : absl::StrCat(y, "-", x));
  }
}

std::string EventGenerator::Id(uint64_t n) const {
  return absl::StrCat(options_.id_prefix, "-", n);
}

bool EventGenerator::IsCorrection(uint64_t n) const {
  const uint64_t block = static_cast<uint64_t>(std::max(1, options_.block_size));
  if (block < 2 || n % block % 2 == 0) return false;
  Rng rng = RngFor(options_.seed, n, 0xC0FFEEu);
  return rng.Chance(2 * options_.correction_fraction);
}

v1::Event EventGenerator::MakePlain(uint64_t n) const {
  Rng rng = RngFor(options_.seed, n, 0);
  v1::Event event;
  event.set_id(Id(n));

  // A skewed choice of dyad: the first dyads are much busier than the last.
  const double u = rng.Real();
  const auto& [a, b] = dyads_[static_cast<size_t>(u * u * static_cast<double>(dyads_.size()))];
  const bool forward = rng.Chance(0.5);
  const std::string actor = kActors[forward ? a : b];
  const std::string other = kActors[forward ? b : a];
  event.add_source(actor);
  event.add_target(other);
  SetOccurred(rng, &event);
  const std::string when = DateText(event.occurred().start());
  const std::string topic = rng.Pick(kTopics);
  const std::string place = rng.Pick(kPlaces);

  const int roll = rng.Uniform(100);
  int kind = 0;
  while (roll >= kKindCumulative[kind]) ++kind;
  std::string summary;
  std::string title;
  switch (kind) {
    case 0: {
      v1::Meeting* m = event.mutable_meeting();
      m->set_type(static_cast<v1::Meeting::Type>(1 + rng.Uniform(3)));
      m->set_level(static_cast<v1::Meeting::Level>(1 + rng.Uniform(4)));
      m->set_format(static_cast<v1::Meeting::Format>(1 + rng.Uniform(6)));
      m->set_place(place);
      m->set_outcome(static_cast<v1::Meeting::Outcome>(1 + rng.Uniform(5)));
      m->add_participants(absl::StrCat("Foreign Minister of ", actor));
      m->add_participants(absl::StrCat("Foreign Minister of ", other));
      event.set_cameo_code(rng.Chance(0.5) ? "042" : "043");
      summary = absl::StrCat(
          "Representatives of ", actor, " and ", other, " met in ", place, " ",
          when, " for talks on ", topic,
          " and agreed to continue the dialogue at working level; both sides "
          "described the discussions as frank and said they would meet again.");
      title = absl::StrCat(actor, " and ", other, " hold talks on ", topic);
      break;
    }
    case 1: {
      v1::Agreement* g = event.mutable_agreement();
      g->set_title(absl::StrCat(actor, "-", other, " Joint Declaration on ", topic));
      g->add_parties(actor);
      g->add_parties(other);
      g->add_commitments(absl::StrCat("Cooperate on ", topic));
      g->add_commitments("Hold regular consultations at ministerial level");
      event.set_cameo_code("057");
      summary = absl::StrCat(actor, " and ", other, " signed a joint declaration ",
                             when, " committing both to cooperate on ", topic,
                             " and to hold regular consultations.");
      title = absl::StrCat(actor, " and ", other, " sign declaration on ", topic);
      break;
    }
    case 2: {
      v1::ResolutionAction* r = event.mutable_resolution();
      constexpr const char* kBodies[] = {"UNHRC", "UNGA", "UNSC"};
      r->set_body(rng.Pick(kBodies));
      r->set_symbol(absl::StrCat("A/RES/", 40 + rng.Uniform(40), "/", 100 + rng.Uniform(200)));
      const int action = rng.Uniform(4);
      if (action == 0) {
        r->set_action(v1::ResolutionAction::ACTION_TABLED);
        r->add_sponsors(actor);
      } else if (action == 1) {
        r->set_action(v1::ResolutionAction::ACTION_DECLINED_TO_TABLE);
      } else {
        r->set_action(v1::ResolutionAction::ACTION_ADOPTED);
        if (action == 2) {
          r->set_adoption(v1::ResolutionAction::ADOPTION_WITHOUT_VOTE);
        } else {
          r->set_adoption(v1::ResolutionAction::ADOPTION_RECORDED_VOTE);
          r->mutable_votes()->set_yes(80 + rng.Uniform(60));
          r->mutable_votes()->set_no(5 + rng.Uniform(20));
          r->mutable_votes()->set_abstain(20 + rng.Uniform(40));
        }
      }
      r->set_title(absl::StrCat("Situation concerning ", topic, " involving ", other));
      summary = absl::StrCat("The ", r->body(), " considered a resolution on ",
                             topic, " concerning ", other, " ", when,
                             "; ", actor, " took part in the drafting.");
      title = absl::StrCat(r->body(), " resolution on ", topic);
      break;
    }
    case 3: {
      v1::Statement* s = event.mutable_statement();
      s->set_speaker(absl::StrCat("Foreign Ministry spokesperson of ", actor));
      s->set_on_behalf_of(actor);
      s->set_channel("press conference");
      s->set_stance(static_cast<v1::Statement::Stance>(1 + rng.Uniform(5)));
      s->set_quote(absl::StrCat("We urge ", other, " to address ", topic,
                                " through dialogue."));
      event.set_cameo_code(rng.Chance(0.5) ? "010" : "012");
      summary = absl::StrCat("A spokesperson of ", actor, " commented ", when,
                             " on the position of ", other, " on ", topic,
                             ", urging it to return to dialogue and to honour "
                             "its earlier commitments.");
      title = absl::StrCat(actor, " comments on ", other, " and ", topic);
      break;
    }
    case 4: {
      v1::Sanction* s = event.mutable_sanction();
      s->set_action(static_cast<v1::Sanction::Action>(1 + rng.Uniform(4)));
      s->add_measures("port entry ban");
      if (rng.Chance(0.5)) s->add_measures("asset freeze on listed entities");
      s->set_legal_basis("Foreign Exchange and Foreign Trade Act");
      event.set_cameo_code("163");
      summary = absl::StrCat(actor, " changed its sanctions against ", other, " ",
                             when, " over ", topic,
                             ", citing the lack of progress in talks.");
      title = absl::StrCat(actor, " sanctions on ", other);
      break;
    }
    case 5: {
      v1::MilitaryAction* m = event.mutable_military();
      m->set_type(static_cast<v1::MilitaryAction::Type>(1 + rng.Uniform(4)));
      m->set_system(rng.Chance(0.5) ? "short-range ballistic missile" : "naval patrol");
      event.set_cameo_code(rng.Chance(0.5) ? "150" : "154");
      summary = absl::StrCat(actor, " carried out a military activity near ", other,
                             " ", when, ", which ", other,
                             " condemned as a threat to regional security.");
      title = absl::StrCat(actor, " military activity alarms ", other);
      break;
    }
    case 6: {
      v1::HumanitarianDevelopment* h = event.mutable_humanitarian();
      h->set_type(static_cast<v1::HumanitarianDevelopment::Type>(1 + rng.Uniform(5)));
      h->set_people(rng.Uniform(500));
      event.set_cameo_code("0841");
      summary = absl::StrCat("A humanitarian development between ", actor, " and ",
                             other, " ", when, " concerned ", h->people(),
                             " people; aid organisations welcomed the step.");
      title = absl::StrCat("Humanitarian step between ", actor, " and ", other);
      break;
    }
    default: {
      v1::PolicyChange* p = event.mutable_policy_change();
      p->set_policy(absl::StrCat("Policy of ", actor, " on ", topic));
      p->set_direction(static_cast<v1::PolicyChange::Direction>(1 + rng.Uniform(3)));
      summary = absl::StrCat(actor, " revised its policy toward ", other, " on ",
                             topic, " ", when,
                             ", according to its annual diplomatic report.");
      title = absl::StrCat(actor, " revises policy on ", topic);
      break;
    }
  }
  event.set_summary(summary);

  const int tags = rng.Uniform(4);
  int first = rng.Uniform(static_cast<int>(std::size(kTags)));
  for (int t = 0; t < tags; ++t) {
    event.add_tags(kTags[(first + t * 5) % std::size(kTags)]);
  }

  const int sources = 1 + (rng.Chance(0.3) ? 1 : 0);
  for (int i = 0; i < sources; ++i) {
    v1::Source* source = event.add_sources();
    source->set_publisher(rng.Pick(kPublishers));
    source->set_title(title);
    if (rng.Chance(0.6)) {
      source->set_url(absl::StrCat("https://news.example.org/",
                                   event.occurred().start().year(), "/",
                                   Slug(title)));
    }
    v1::Date* published = source->mutable_published();
    *published = event.occurred().start();
    if (published->month() == 0) published->set_month(12);
    if (published->day() == 0) published->set_day(28);
  }
  return event;
}

v1::Event EventGenerator::Make(uint64_t n) const {
  if (!IsCorrection(n)) return MakePlain(n);
  v1::Event original = MakePlain(n - 1);
  Rng rng = RngFor(options_.seed, n, 0xC0DEu);
  v1::Event event;
  event.set_id(Id(n));
  *event.mutable_source() = original.source();
  *event.mutable_target() = original.target();
  *event.mutable_occurred() = original.occurred();
  *event.mutable_sources() = original.sources();
  v1::Correction* c = event.mutable_correction();
  c->set_corrects_event_id(original.id());
  if (rng.Chance(0.7)) {
    c->set_action(v1::Correction::ACTION_AMEND);
    c->set_reason("The date and summary were corrected from a later report.");
    v1::Event* amended = c->mutable_amended();
    *amended = original;
    amended->clear_id();
    v1::Date* start = amended->mutable_occurred()->mutable_start();
    start->set_year(std::min(2025, start->year() + 1));
    if (amended->occurred().has_end()) {
      amended->mutable_occurred()->mutable_end()->set_year(start->year());
    }
    amended->set_summary(absl::StrCat(original.summary(),
                                      " (Corrected after a later report.)"));
    event.set_summary(absl::StrCat("Correction of ", original.id(),
                                   ": date and summary amended."));
  } else {
    c->set_action(v1::Correction::ACTION_RETRACT);
    c->set_reason("The report was withdrawn by its publisher.");
    event.set_summary(absl::StrCat("Retraction of ", original.id(),
                                   ": the report was withdrawn."));
  }
  return event;
}

}  // namespace annals::bench
