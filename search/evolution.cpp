// Regularized (aging) evolution, Real et al. 2019: keep a population of the P most recent
// architectures; a child is a single-field mutation of the best of S members drawn at random;
// each child joins the population and the oldest member leaves. Children are proposed a
// generation at a time from the same population (generation-synchronous), which keeps the run
// independent of the number of workers.
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/string.hpp>
#include <deque>

#include "search/builtin.h"

namespace zerolm {

namespace {

struct Member {
  std::uint64_t index;
  std::string encoding;
  double score;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar& index& encoding& score;
  }
};

class Evolution : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "evolution"; }

  std::vector<Candidate> propose(std::size_t max) override {
    return propose_mutants(max, population_.size(), evolving_, !population_.empty(),
                           [this](Rng& rng) { return tournament_winner(rng); });
  }

  void observe(const std::vector<Outcome>& outcomes) override {
    const std::size_t P = std::size_t(settings_.population);
    for (const Outcome& o : outcomes) {
      if (!o.ok) continue;
      population_.push_back({o.index, o.encoding, o.score});
      if (population_.size() > P) population_.pop_front();  // aging: the oldest leaves
    }
    if (population_.size() >= P) evolving_ = true;
  }

  void save(std::ostream& out) const override {
    boost::archive::binary_oarchive ar(out);
    ar << next_index_ << seeds_used_ << evolving_ << population_;
  }
  void load(std::istream& in) override {
    boost::archive::binary_iarchive ar(in);
    ar >> next_index_ >> seeds_used_ >> evolving_ >> population_;
  }

 private:
  // The best of `sample` members drawn at random (ties: the earlier candidate).
  Arch tournament_winner(Rng& rng) const {
    const Member* parent = nullptr;
    for (int s = 0; s < settings_.sample; ++s) {
      const Member& m = population_[rng.below(population_.size())];
      if (!parent || m.score > parent->score ||
          (m.score == parent->score && m.index < parent->index))
        parent = &m;
    }
    return settings_.space->parse(parent->encoding);
  }

  std::deque<Member> population_;
  bool evolving_ = false;
};

}  // namespace

std::unique_ptr<Strategy> make_evolution(const SearchSettings& s) {
  return std::make_unique<Evolution>(s);
}

}  // namespace zerolm
