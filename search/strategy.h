// Search strategies over architectures of a space: they propose generations of candidates and
// learn from their scores. No MPI, no LibTorch: the driver evaluates and transports.
//
// Determinism contract: candidate i draws its randomness from (run seed, i) only, and results are
// observed a whole generation at a time in candidate order, so the same seed gives the same
// candidates whatever the number of workers, the order they finish in, or a resume in between.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "spaces/plan.h"
#include "spaces/space.h"

namespace zerolm {

struct Candidate {
  std::uint64_t index = 0;  // global proposal order, from 0
  std::string encoding;     // canonical
};

struct Outcome {
  std::uint64_t index = 0;
  std::string encoding;
  bool ok = false;   // false: the evaluation failed (its score is meaningless)
  double score = 0;  // the first objective's value
  std::int64_t params = 0;
  // Every objective's value, in the order of SearchSettings::maximize (multi-objective searches;
  // empty for a single objective, whose value is `score`).
  std::vector<double> values;
};

// A budget on the shapes, checked before any model is built: the backbone's parameter count under
// `profile` within [min_params, max_params], its forward FLOPs per token (flops_per_token at
// sequence length 128, the `flops` proxy) within [min_flops, max_flops]; 0 leaves a side open.
// What a strategy may propose, and what a sample may hold.
struct ParamRange {
  Profile profile = Profile::Spec;
  std::int64_t min_params = 0;
  std::int64_t max_params = 0;
  double min_flops = 0;
  double max_flops = 0;
  bool bounded() const {
    return min_params > 0 || max_params > 0 || min_flops > 0 || max_flops > 0;
  }
  bool contains(const Arch& a) const;
};

// Up to m architectures of `space` within `range`: uniform over the space, or, when the range is
// bounded, with the depth drawn uniformly first (uniform sampling lands almost always at the
// greatest depth, where the small models are not). Gives up after 1000 * m draws; `draws`
// receives how many were made.
std::vector<Arch> sample_in_range(const Space& space, const ParamRange& range, int m, Rng& rng,
                                  long* draws = nullptr);

struct SearchSettings {
  const Space* space = nullptr;
  Profile profile = Profile::Spec;  // shapes for the parameter-count constraint
  std::uint64_t seed = 0;
  std::int64_t min_params = 0;  // 0: none
  std::int64_t max_params = 0;  // 0: none
  double min_flops = 0;         // 0: none
  double max_flops = 0;         // 0: none
  // The objectives' senses (true: maximise), one per objective; empty or one entry: a single
  // objective, the outcomes' `score` (maximised). Two or more: Outcome::values holds them.
  std::vector<bool> maximize;
  int population = 100;            // evolution: P
  int sample = 25;                 // evolution: tournament size S
  std::vector<std::string> seeds;  // canonical encodings proposed first, in order (a seed file)
  ParamRange range() const { return {profile, min_params, max_params, min_flops, max_flops}; }
  std::size_t objectives() const { return std::max<std::size_t>(1, maximize.size()); }
};

class Strategy {
 public:
  explicit Strategy(SearchSettings s) : settings_(std::move(s)) {}
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // Whether observe() changes later proposals. A strategy that does not learn proposes the same
  // candidates however they are cut into generations, so they can be large.
  virtual bool learns() const { return true; }

  // The next generation: at most `max` new candidates (never proposed before, within the
  // parameter constraint), numbered from next_index(). Fewer, or none, when the space runs out.
  virtual std::vector<Candidate> propose(std::size_t max) = 0;
  // The outcomes of the last generation, in candidate order.
  virtual void observe(const std::vector<Outcome>& outcomes) = 0;

  // Checkpoint state (counters, population); the set of proposed encodings is not part of it
  // (rebuild it with mark_proposed from the evaluation log).
  virtual void save(std::ostream& out) const = 0;
  virtual void load(std::istream& in) = 0;

  std::uint64_t next_index() const { return next_index_; }
  void mark_proposed(const std::string& encoding) { proposed_.insert(encoding); }
  std::size_t proposed_count() const { return proposed_.size(); }
  const SearchSettings& settings() const { return settings_; }

 protected:
  // Whether `a` may be proposed: new, and within the parameter constraint.
  bool admissible(const Arch& a, const std::string& encoding) const;
  // The next unused seed architecture if any is left (admissible ones only), else a uniformly
  // sampled admissible architecture; false after many tries.
  bool sample_admissible(Rng& rng, Arch& out, std::string& encoding);
  // A single-field mutation of `parent` that is admissible, from up to 100 tries; false if none.
  bool admissible_mutant(const Arch& parent, Rng& rng, Arch& child, std::string& encoding) const;
  Candidate take(const std::string& encoding);  // numbers and records a proposal

  // A generation of a strategy that mutates parents (evolution, nsga2, lts): random architectures
  // while the first `population` members are still missing (`members` of them observed so far,
  // before `evolving`, and again whenever there is no parent), then a single-field mutation of
  // the parent that `pick_parent` chooses with the candidate's own generator (a random
  // architecture where no admissible mutant exists). The strategies differ only in that choice.
  std::vector<Candidate> propose_mutants(std::size_t max, std::size_t members, bool evolving,
                                         bool have_parents,
                                         const std::function<Arch(Rng&)>& pick_parent);

  SearchSettings settings_;
  std::uint64_t next_index_ = 0;
  std::uint64_t seeds_used_ = 0;  // part of the checkpoint state
  std::unordered_set<std::string> proposed_;
};

using StrategyFactory = std::unique_ptr<Strategy> (*)(const SearchSettings&);

// The explicit list of strategies: random, evolution, nsga2, lts.
const std::vector<std::string>& strategy_names();
std::unique_ptr<Strategy> make_strategy(std::string_view name, const SearchSettings& settings);

// The best `k` outcomes that succeeded, best first (ties: the earlier candidate first).
std::vector<Outcome> top_k(const std::vector<Outcome>& outcomes, std::size_t k);

}  // namespace zerolm
