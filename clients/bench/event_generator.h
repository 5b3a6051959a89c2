// A deterministic generator of realistic diplomatic events for benchmarks:
// about 200 dyads among some 40 real actor codes, every kind, dates over
// 1990-2025 at day, month and year precision (a few as ranges), tags from a
// small vocabulary, and sizes like the seed timeline's events (about 400 to
// 800 bytes serialized). A small fraction of events are corrections (amend
// or retract) of the event just before them.
//
// Event n depends only on the options and n, so that any number of writers
// can produce disjoint parts of the same log in any order:
//
//   bench::EventGenerator generator({.seed = 7});
//   v1::Event e = generator.Make(12345);
//
// A correction at n corrects event n - 1, which is in the same block of
// `block_size` events (never the first of a block) and never itself a
// correction. Append whole blocks in one call (or blocks in order) so that
// the corrected event is earlier in the batch or already in the log.
#ifndef ANNALS_CLIENTS_BENCH_EVENT_GENERATOR_H_
#define ANNALS_CLIENTS_BENCH_EVENT_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "annals/v1/event.pb.h"

namespace annals::bench {

struct GeneratorOptions {
  // Everything generated follows from the seed (and n).
  uint64_t seed = 1;
  // Distinct dyads (unordered actor pairs) the events are spread over. At
  // most the number of pairs of the actor list (40 * 39 / 2).
  int dyads = 200;
  // Event ids are "<id_prefix>-<n>"; empty: "gen<seed>".
  std::string id_prefix;
  // Corrections stay within aligned blocks of this many events (see above).
  // 1 or less: no corrections.
  int block_size = 500;
  // The fraction of events that are corrections (of the odd positions of a
  // block, twice this fraction are).
  double correction_fraction = 0.01;
};

// The actor codes the generator draws from (all known to annalsd).
const std::vector<std::string>& GeneratorActors();

// The kinds it produces, as the names of the fields of Event.what.
const std::vector<std::string>& GeneratorKinds();

// The tag vocabulary.
const std::vector<std::string>& GeneratorTags();

class EventGenerator {
 public:
  explicit EventGenerator(const GeneratorOptions& options);

  // The n-th event (n >= 0) of the generated log.
  v1::Event Make(uint64_t n) const;

  // The id of the n-th event.
  std::string Id(uint64_t n) const;

  // True when event n is a correction (of event n - 1).
  bool IsCorrection(uint64_t n) const;

  // The dyads drawn from, as "AAA-BBB" with the codes sorted.
  const std::vector<std::string>& dyads() const { return dyad_names_; }

  const GeneratorOptions& options() const { return options_; }

 private:
  // Event n as first written (never a correction).
  v1::Event MakePlain(uint64_t n) const;

  GeneratorOptions options_;
  std::vector<std::pair<int, int>> dyads_;  // indices into GeneratorActors()
  std::vector<std::string> dyad_names_;
};

}  // namespace annals::bench

#endif  // ANNALS_CLIENTS_BENCH_EVENT_GENERATOR_H_
