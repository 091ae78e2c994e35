#include "search/strategy.h"

#include <algorithm>

namespace zerolm {

namespace {
constexpr int kTries = 1000;  // draws before a space is taken as exhausted
}

bool Strategy::admissible(const Arch& a, const std::string& encoding) const {
  if (proposed_.count(encoding)) return false;
  if (settings_.min_params <= 0 && settings_.max_params <= 0) return true;
  const std::int64_t n = count_params(make_plan(a, settings_.profile));
  return (settings_.min_params <= 0 || n >= settings_.min_params) &&
         (settings_.max_params <= 0 || n <= settings_.max_params);
}

bool Strategy::sample_admissible(Rng& rng, Arch& out, std::string& encoding) {
  while (seeds_used_ < settings_.seeds.size()) {
    encoding = settings_.seeds[seeds_used_++];
    out = settings_.space->parse(encoding);
    if (admissible(out, encoding)) return true;
  }
  for (int t = 0; t < kTries; ++t) {
    out = settings_.space->sample(rng);
    encoding = encode(out);
    if (admissible(out, encoding)) return true;
  }
  return false;
}

Candidate Strategy::take(const std::string& encoding) {
  proposed_.insert(encoding);
  return Candidate{next_index_++, encoding};
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
