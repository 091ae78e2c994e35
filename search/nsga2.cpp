// NSGA-II, Deb et al. 2002: a population of at most P members ranked by non-dominated sorting and,
// within a front, by crowding distance. A child is a single-field mutation of the winner of a
// binary tournament (lower front rank, then larger crowding distance, then the earlier
// candidate). After each generation the population and the generation's successful children are
// sorted into fronts and the best P kept: whole fronts in order, the last one cut by crowding
// distance. Children are proposed a generation at a time from the same population
// (generation-synchronous), which keeps the run independent of the number of workers.
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include <algorithm>

#include "search/builtin.h"
#include "search/multi_objective.h"

namespace zerolm {

namespace {

class Nsga2 : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "nsga2"; }

  std::vector<Candidate> propose(std::size_t max) override {
    return propose_mutants(
        max, population_.size(), evolving_, !population_.empty(),
        [this](Rng& rng) { return settings_.space->parse(population_[tournament(rng)].encoding); });
  }

  void observe(const std::vector<Outcome>& outcomes) override {
    std::vector<ScoredMember> merged = population_;
    for (const Outcome& o : outcomes) {
      if (!o.ok) continue;  // failed or over budget: no values to rank by
      Point p = objective_point(settings_, o);
      if (usable(p, o)) merged.push_back({o.index, o.encoding, std::move(p)});
    }
    population_ = select(merged, std::size_t(settings_.population));
    if (population_.size() >= std::size_t(settings_.population)) evolving_ = true;
    rank_population();
  }

  void save(std::ostream& out) const override {
    boost::archive::binary_oarchive ar(out);
    ar << next_index_ << seeds_used_ << evolving_ << population_;
  }
  void load(std::istream& in) override {
    boost::archive::binary_iarchive ar(in);
    ar >> next_index_ >> seeds_used_ >> evolving_ >> population_;
    rank_population();  // a function of the population, so not part of the state
  }

 private:
  static std::vector<Point> points_of(const std::vector<ScoredMember>& members) {
    std::vector<Point> pts;
    for (const ScoredMember& m : members) pts.push_back(m.point);
    return pts;
  }

  // The best P of `merged`: whole fronts in order, the last one cut by crowding distance
  // (descending, ties: the earlier candidate); ordered by candidate index.
  static std::vector<ScoredMember> select(const std::vector<ScoredMember>& merged, std::size_t P) {
    const std::vector<Point> pts = points_of(merged);
    std::vector<std::size_t> kept;
    for (const auto& front : non_dominated_sort(pts)) {
      if (kept.size() >= P) break;
      if (kept.size() + front.size() <= P) {
        kept.insert(kept.end(), front.begin(), front.end());
        continue;
      }
      const std::vector<double> cd = crowding_distance(pts, front);
      std::vector<std::size_t> order(front.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return cd[a] != cd[b] ? cd[a] > cd[b] : merged[front[a]].index < merged[front[b]].index;
      });
      for (std::size_t k = 0; kept.size() < P; ++k) kept.push_back(front[order[k]]);
    }
    std::vector<ScoredMember> out;
    for (std::size_t i : kept) out.push_back(merged[i]);
    std::sort(out.begin(), out.end(),
              [](const ScoredMember& a, const ScoredMember& b) { return a.index < b.index; });
    return out;
  }

  // Front rank and crowding distance (within its front) of every member, for the tournaments.
  void rank_population() {
    const std::vector<Point> pts = points_of(population_);
    rank_.assign(pts.size(), 0);
    crowding_.assign(pts.size(), 0.0);
    const auto fronts = non_dominated_sort(pts);
    for (std::size_t r = 0; r < fronts.size(); ++r) {
      const std::vector<double> cd = crowding_distance(pts, fronts[r]);
      for (std::size_t k = 0; k < fronts[r].size(); ++k) {
        rank_[fronts[r][k]] = r;
        crowding_[fronts[r][k]] = cd[k];
      }
    }
  }

  std::size_t tournament(Rng& rng) const {
    const std::size_t a = rng.below(population_.size()), b = rng.below(population_.size());
    if (rank_[a] != rank_[b]) return rank_[a] < rank_[b] ? a : b;
    if (crowding_[a] != crowding_[b]) return crowding_[a] > crowding_[b] ? a : b;
    return population_[a].index <= population_[b].index ? a : b;
  }

  std::vector<ScoredMember> population_;  // ordered by candidate index
  bool evolving_ = false;
  std::vector<std::size_t> rank_;  // front of each member, 0 = non-dominated
  std::vector<double> crowding_;
};

}  // namespace

std::unique_ptr<Strategy> make_nsga2(const SearchSettings& s) {
  return std::make_unique<Nsga2>(s);
}

}  // namespace zerolm
