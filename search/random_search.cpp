// Random search: candidates drawn uniformly from the space, each from its own seed.
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include "search/builtin.h"

namespace zerolm {

namespace {

class RandomSearch : public Strategy {
 public:
  using Strategy::Strategy;
  std::string name() const override { return "random"; }
  bool learns() const override { return false; }

  std::vector<Candidate> propose(std::size_t max) override {
    std::vector<Candidate> out;
    while (out.size() < max) {
      Rng rng(derive_seed(settings_.seed, next_index_));
      Arch a;
      std::string enc;
      if (!sample_admissible(rng, a, enc)) break;
      out.push_back(take(enc));
    }
    return out;
  }
  void observe(const std::vector<Outcome>&) override {}

  void save(std::ostream& out) const override {
    boost::archive::binary_oarchive ar(out);
    ar << next_index_ << seeds_used_;
  }
  void load(std::istream& in) override {
    boost::archive::binary_iarchive ar(in);
    ar >> next_index_ >> seeds_used_;
  }
};

}  // namespace

std::unique_ptr<Strategy> make_random(const SearchSettings& s) {
  return std::make_unique<RandomSearch>(s);
}

}  // namespace zerolm
