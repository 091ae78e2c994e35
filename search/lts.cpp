// Pareto-front evolution in the manner of LiteTransformerSearch (Javaheripi et al. 2022): every
// successful candidate is kept in an archive, and a child is a single-field mutation of a parent
// drawn uniformly from the archive's current Pareto front. After an initial population of P
// random architectures, children are proposed a generation at a time from the same front
// (generation-synchronous), which keeps the run independent of the number of workers.
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include <algorithm>

#include "search/builtin.h"
#include "search/multi_objective.h"

namespace zerolm {

namespace {

class Lts : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "lts"; }

  std::vector<Candidate> propose(std::size_t max) override {
    return propose_mutants(max, archive_.size(), evolving_, !front_.empty(), [this](Rng& rng) {
      return settings_.space->parse(archive_[front_[rng.below(front_.size())]].encoding);
    });
  }

  void observe(const std::vector<Outcome>& outcomes) override {
    // The front of the archive is the front of the old front and the newcomers (whatever an old
    // front member dominates stays dominated), which keeps each update small.
    std::vector<std::size_t> candidates = front_;
    for (const Outcome& o : outcomes) {
      if (!o.ok) continue;  // failed or over budget: no values to rank by
      Point p = objective_point(settings_, o);
      if (!usable(p, o)) continue;
      candidates.push_back(archive_.size());
      archive_.push_back({o.index, o.encoding, std::move(p)});
    }
    update_front(candidates);
    if (archive_.size() >= std::size_t(settings_.population)) evolving_ = true;
  }

  void save(std::ostream& out) const override {
    boost::archive::binary_oarchive ar(out);
    ar << next_index_ << seeds_used_ << evolving_ << archive_;
  }
  void load(std::istream& in) override {
    boost::archive::binary_iarchive ar(in);
    ar >> next_index_ >> seeds_used_ >> evolving_ >> archive_;
    std::vector<std::size_t> all(archive_.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    update_front(all);  // a function of the archive, so not part of the state
  }

 private:
  // front_ = the non-dominated members among `candidates` (archive positions, ascending).
  void update_front(const std::vector<std::size_t>& candidates) {
    std::vector<Point> pts;
    for (std::size_t i : candidates) pts.push_back(archive_[i].point);
    std::vector<std::size_t> front;
    for (std::size_t k : pareto_front(pts)) front.push_back(candidates[k]);
    std::sort(front.begin(), front.end());
    front_ = std::move(front);
  }

  std::vector<ScoredMember> archive_;  // every successful candidate, in candidate order
  bool evolving_ = false;
  std::vector<std::size_t> front_;  // archive positions of its Pareto front, ascending
};

}  // namespace

std::unique_ptr<Strategy> make_lts(const SearchSettings& s) {
  return std::make_unique<Lts>(s);
}

}  // namespace zerolm
