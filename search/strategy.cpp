#include "search/strategy.h"

#include <algorithm>

namespace zerolm {

namespace {
constexpr int kTries = 1000;  // draws before a space is taken as exhausted
}

bool ParamRange::contains(const Arch& a) const {
  if (!bounded()) return true;
  const ModelPlan plan = make_plan(a, profile, false);
  if (min_params > 0 || max_params > 0) {
    const std::int64_t n = count_params(plan);
    if ((min_params > 0 && n < min_params) || (max_params > 0 && n > max_params)) return false;
  }
  if (min_flops > 0 || max_flops > 0) {
    const double f = flops_per_token(plan, 128);
    if ((min_flops > 0 && f < min_flops) || (max_flops > 0 && f > max_flops)) return false;
  }
  return true;
}

std::vector<Arch> sample_in_range(const Space& space, const ParamRange& range, int m, Rng& rng,
                                  long* draws) {
  std::vector<Arch> out;
  const auto& depths = space.spec().depths;
  long tries = 0;
  for (; int(out.size()) < m && tries < 1000L * m; ++tries) {
    Arch a = range.bounded() ? space.sample_at_depth(rng, depths[rng.below(depths.size())])
                             : space.sample(rng);
    if (range.contains(a)) out.push_back(std::move(a));
  }
  if (draws) *draws = tries;
  return out;
}

bool Strategy::admissible(const Arch& a, const std::string& encoding) const {
  return !proposed_.count(encoding) && settings_.range().contains(a);
}

bool Strategy::sample_admissible(Rng& rng, Arch& out, std::string& encoding) {
  while (seeds_used_ < settings_.seeds.size()) {
    encoding = settings_.seeds[seeds_used_++];
    out = settings_.space->parse(encoding);
    if (admissible(out, encoding)) return true;
  }
  // Under a budget every other draw takes the depth first, as sample_in_range does: a uniform
  // draw lands almost always at the greatest depth, where a small budget admits nothing (a llama
  // under 200M). The uniform draws keep finding what a budget admits at every depth where
  // depth-first draws would waste their tries on depths it admits nothing at.
  const ParamRange range = settings_.range();
  const auto& depths = settings_.space->spec().depths;
  for (int t = 0; t < kTries; ++t) {
    out = range.bounded() && !depths.empty() && t % 2 == 0
              ? settings_.space->sample_at_depth(rng, depths[rng.below(depths.size())])
              : settings_.space->sample(rng);
    encoding = encode(out);
    if (admissible(out, encoding)) return true;
  }
  return false;
}

bool Strategy::admissible_mutant(const Arch& parent, Rng& rng, Arch& child,
                                 std::string& encoding) const {
  for (int t = 0; t < 100; ++t) {
    child = settings_.space->mutate(parent, rng);
    encoding = encode(child);
    if (admissible(child, encoding)) return true;
  }
  return false;
}

Candidate Strategy::take(const std::string& encoding) {
  proposed_.insert(encoding);
  return Candidate{next_index_++, encoding};
}

std::vector<Candidate> Strategy::propose_mutants(std::size_t max, std::size_t members,
                                                 bool evolving, bool have_parents,
                                                 const std::function<Arch(Rng&)>& pick_parent) {
  std::vector<Candidate> out;
  const std::size_t P = std::size_t(settings_.population);
  while (out.size() < max) {
    Rng rng(derive_seed(settings_.seed, next_index_));
    Arch a;
    std::string enc;
    // Fill the initial population with random architectures (again where some failed).
    const bool initial = members + out.size() < P && !evolving;
    if (initial || !have_parents) {
      if (!sample_admissible(rng, a, enc)) break;
    } else if (!admissible_mutant(pick_parent(rng), rng, a, enc) &&
               !sample_admissible(rng, a, enc)) {
      break;
    }
    out.push_back(take(enc));
  }
  return out;
}

std::vector<Outcome> top_k(const std::vector<Outcome>& outcomes, std::size_t k) {
  std::vector<Outcome> ok;
  for (const Outcome& o : outcomes)
    if (o.ok) ok.push_back(o);
  auto better = [](const Outcome& a, const Outcome& b) {
    return a.score != b.score ? a.score > b.score : a.index < b.index;
  };
  const std::size_t n = std::min(k, ok.size());
  std::partial_sort(ok.begin(), ok.begin() + n, ok.end(), better);
  ok.resize(n);
  return ok;
}

}  // namespace zerolm
