#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "farm/messages.h"
#include "rundir/run_dir.h"
#include "search/strategy.h"

namespace zerolm {
namespace {

SearchSettings settings(const std::string& space = "flexibert-bench", std::uint64_t seed = 1) {
  SearchSettings s;
  s.space = &find_space(space);
  s.seed = seed;
  s.population = 20;
  s.sample = 5;
  return s;
}

// A deterministic stand-in score: prefers wide, deep models with many FFN layers.
double fake_score(const std::string& enc) {
  const Arch a = parse_encoding(enc);
  double s = 0;
  for (const Layer& l : a.layers)
    s += l.hidden / 128.0 + l.num_ff + (l.op == OpKind::DSC ? 0.5 : 0);
  return s;
}

// Runs a strategy to `budget` evaluations in generations of `gen`.
std::vector<Outcome> drive(Strategy& st, std::size_t budget, std::size_t gen) {
  std::vector<Outcome> all;
  while (all.size() < budget) {
    const auto cands = st.propose(std::min(gen, budget - all.size()));
    if (cands.empty()) break;
    std::vector<Outcome> outs;
    for (const Candidate& c : cands)
      outs.push_back({c.index, c.encoding, true, fake_score(c.encoding), 0, {}});
    st.observe(outs);
    all.insert(all.end(), outs.begin(), outs.end());
  }
  return all;
}

TEST(Strategies, SameSeedSameCandidatesOtherSeedOthers) {
  for (const std::string name : {"random", "evolution"}) {
    auto a = make_strategy(name, settings()), b = make_strategy(name, settings()),
         c = make_strategy(name, settings("flexibert-bench", 2));
    const auto ra = drive(*a, 200, 16), rb = drive(*b, 200, 16), rc = drive(*c, 200, 16);
    ASSERT_EQ(ra.size(), 200u);
    for (std::size_t i = 0; i < ra.size(); ++i) {
      EXPECT_EQ(ra[i].encoding, rb[i].encoding) << name << " " << i;
      EXPECT_EQ(ra[i].index, i);
    }
    EXPECT_NE(ra[0].encoding, rc[0].encoding);
  }
}

TEST(Strategies, NeverProposeAnArchitectureTwice) {
  for (const std::string name : {"random", "evolution"}) {
    auto st = make_strategy(name, settings());
    std::set<std::string> seen;
    for (const Outcome& o : drive(*st, 500, 32))
      EXPECT_TRUE(seen.insert(o.encoding).second) << name;
  }
}

TEST(Strategies, StopWhenNoAdmissibleArchitectureIsFound) {
  // Under a tight parameter bound few of flexibert-small's 63,756 architectures fit; random search
  // proposes what it finds and stops once 1000 draws in a row find nothing new, instead of hanging.
  auto s = settings("flexibert-small");
  std::vector<std::int64_t> sizes;
  Rng rng(5);
  for (int i = 0; i < 20000; ++i)
    sizes.push_back(count_params(make_plan(s.space->sample(rng), Profile::Spec)));
  std::nth_element(sizes.begin(), sizes.begin() + 200, sizes.end());
  s.max_params = sizes[200];  // about 1% of the space (some 640 architectures) fits
  auto st = make_strategy("random", s);
  const auto all = drive(*st, 100000, 1000);
  EXPECT_GT(all.size(), 100u);
  EXPECT_LT(all.size(), 1000u);
  for (const Outcome& o : all)
    EXPECT_LE(count_params(make_plan(parse_encoding(o.encoding), Profile::Spec)), s.max_params);
}

TEST(Strategies, ParameterConstraintHonouredByBoth) {
  for (const std::string name : {"random", "evolution"}) {
    auto s = settings();
    s.min_params = 6000000;
    s.max_params = 9000000;
    auto st = make_strategy(name, s);
    for (const Outcome& o : drive(*st, 300, 32)) {
      const auto n = count_params(make_plan(parse_encoding(o.encoding), Profile::Spec));
      EXPECT_GE(n, 6000000) << name << " " << o.encoding;
      EXPECT_LE(n, 9000000) << name << " " << o.encoding;
    }
  }
}

TEST(Strategies, EvolutionImprovesOnRandomSearch) {
  auto evo = make_strategy("evolution", settings());
  auto rnd = make_strategy("random", settings());
  const auto e = top_k(drive(*evo, 400, 16), 10), r = top_k(drive(*rnd, 400, 16), 10);
  double se = 0, sr = 0;
  for (int i = 0; i < 10; ++i) {
    se += e[i].score;
    sr += r[i].score;
  }
  EXPECT_GT(se, sr);
  // The best possible fake score in flexibert-bench is 4 layers x (2 + 3 + 0.5) = 22.
  EXPECT_DOUBLE_EQ(e[0].score, 22.0);
}

TEST(Strategies, EvolutionStartsWithPopulationOfRandomThenMutates) {
  auto st = make_strategy("evolution", settings());
  const auto all = drive(*st, 60, 10);
  // After P = 20 random members, each child differs from some population member in one field.
  const Space& space = find_space("flexibert-bench");
  std::set<std::string> earlier;
  for (int i = 0; i < 20; ++i) earlier.insert(all[i].encoding);
  for (std::size_t i = 20; i < all.size(); ++i) {
    const Arch child = space.parse(all[i].encoding);
    bool one_step = false;
    for (const std::string& e : earlier) {
      const Arch p = space.parse(e);
      int diff = int(p.layers.size() != child.layers.size());
      for (std::size_t k = 0; k < std::min(p.layers.size(), child.layers.size()); ++k)
        diff += p.layers[k] != child.layers[k];
      one_step =
          one_step || (p.layers.size() == child.layers.size() ? diff >= 1 && diff <= 4 : diff == 1);
    }
    EXPECT_TRUE(one_step) << all[i].encoding;
    earlier.insert(all[i].encoding);
  }
}

TEST(Strategies, SaveLoadContinuesExactly) {
  for (const std::string name : {"random", "evolution"}) {
    auto a = make_strategy(name, settings());
    const auto first = drive(*a, 100, 20);
    std::stringstream state;
    a->save(state);
    auto b = make_strategy(name, settings());
    b->load(state);
    for (const Outcome& o : first) b->mark_proposed(o.encoding);
    const auto next_a = drive(*a, 100, 20), next_b = drive(*b, 100, 20);
    ASSERT_EQ(next_a.size(), next_b.size());
    for (std::size_t i = 0; i < next_a.size(); ++i) {
      EXPECT_EQ(next_a[i].encoding, next_b[i].encoding) << name;
      EXPECT_EQ(next_a[i].index, next_b[i].index) << name;
    }
  }
}

TEST(Strategies, SeedArchitecturesComeFirst) {
  auto s = settings();
  s.seeds = {"H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1",
             "H256|LT-DFT-h4-ff1024x3|LT-DFT-h4-ff1024x3"};
  auto st = make_strategy("evolution", s);
  const auto all = drive(*st, 30, 8);
  EXPECT_EQ(all[0].encoding, s.seeds[0]);
  EXPECT_EQ(all[1].encoding, s.seeds[1]);
}

TEST(Strategies, TopKBestFirstTiesByIndexFailuresLeftOut) {
  const std::vector<Outcome> o = {{0, "a", true, 1.0, 0, {}},
                                  {1, "b", false, 9.0, 0, {}},
                                  {2, "c", true, 3.0, 0, {}},
                                  {3, "d", true, 3.0, 0, {}}};
  const auto t = top_k(o, 3);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].encoding, "c");
  EXPECT_EQ(t[1].encoding, "d");
  EXPECT_EQ(t[2].encoding, "a");
  EXPECT_THROW(make_strategy("annealing", settings()), InputError);
}

TEST(Messages, RoundTrip) {
  WorkMessage w{{{7, "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"}, {8, "x"}}};
  const WorkMessage w2 = unpack_work(pack(w));
  ASSERT_EQ(w2.candidates.size(), 2u);
  EXPECT_EQ(w2.candidates[0].index, 7u);
  EXPECT_EQ(w2.candidates[1].encoding, "x");
  ResultMessage r;
  r.stop_requested = true;
  Record rec;
  rec.index = 3;
  rec.encoding = "e";
  rec.status = Status::Failed;
  rec.score = 0.1 + 0.2;
  rec.parts = {1.5, 2.5};
  rec.reason = "out of memory, really";
  r.records = {rec};
  const ResultMessage r2 = unpack_results(pack(r));
  EXPECT_TRUE(r2.stop_requested);
  ASSERT_EQ(r2.records.size(), 1u);
  EXPECT_EQ(r2.records[0].score, 0.1 + 0.2);
  EXPECT_EQ(r2.records[0].parts, rec.parts);
  EXPECT_EQ(r2.records[0].status, Status::Failed);
  EXPECT_EQ(r2.records[0].reason, rec.reason);
}

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "zerolm_rundir_" + std::to_string(::getpid());
    std::filesystem::remove_all(path_);
  }
  void TearDown() override { std::filesystem::remove_all(path_); }
  std::string path_;
};

TEST_F(RunDirTest, LogRoundTripsScoresExactlyAndSkipsPreempted) {
  RunDir d(path_);
  const RunLock lock = d.create(false);
  d.open_log({"zerolm_attn", "zerolm_ffn"});
  Record a;
  a.index = 0;
  a.encoding = "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1";
  a.score = 1.0 / 3.0;
  a.parts = {0.1, 0.7};
  a.params = 42;
  a.device = "cpu";
  Record b = a;
  b.index = 1;
  b.status = Status::Failed;
  b.reason = "out of memory: 9, \"big\"";
  Record c = a;
  c.index = 2;
  c.status = Status::Preempted;
  for (const Record& r : {a, b, c}) d.append(r);
  d.close_log();
  const auto log = d.read_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log.at(0).score, 1.0 / 3.0);  // exact: resumed runs rank as uninterrupted ones
  EXPECT_EQ(log.at(0).parts, a.parts);
  EXPECT_EQ(log.at(1).status, Status::Failed);
  EXPECT_EQ(log.at(1).reason, b.reason);
}

TEST_F(RunDirTest, ExistingRunIsNotOverwrittenWithoutForce) {
  RunDir d(path_);
  d.create(false).release();
  d.write_config(SearchConfig{});
  EXPECT_THROW((void)d.create(false), InputError);
  EXPECT_NO_THROW(d.create(true).release());
  EXPECT_FALSE(d.has_run());
}

TEST_F(RunDirTest, CorruptedCheckpointIsRefused) {
  RunDir d(path_);
  const RunLock lock = d.create(false);
  Checkpoint c;
  c.config_hash = "abc";
  c.strategy_state = std::string("\0\1\2state", 8);
  c.generation = {{5, "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"}};
  c.finished = 5;
  d.write_checkpoint(c);
  const Checkpoint back = d.read_checkpoint();
  EXPECT_EQ(back.config_hash, "abc");
  EXPECT_EQ(back.strategy_state, c.strategy_state);
  EXPECT_EQ(back.generation[0].index, 5u);
  // Flip one byte of the payload.
  std::fstream f(d.file("checkpoint.bin"), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-3, std::ios::end);
  f.put('X');
  f.close();
  try {
    d.read_checkpoint();
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupted checkpoint (checksum mismatch)"),
              std::string::npos)
        << e.what();
  }
}

TEST(SearchConfigTest, JsonRoundTripAndHashCoversTheSearchOnly) {
  SearchConfig c;
  c.space = "flexibert";
  c.seed_archs = {"H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"};
  const SearchConfig back = SearchConfig::from_json(c.to_json(), "test");
  EXPECT_EQ(back.hash(), c.hash());
  EXPECT_EQ(back.seed_archs, c.seed_archs);
  SearchConfig more = c;
  more.evaluations = 5000;
  more.device = "cuda:1";
  EXPECT_EQ(more.hash(), c.hash());
  SearchConfig other = c;
  other.population = 50;
  EXPECT_NE(other.hash(), c.hash());
  EXPECT_THROW(SearchConfig::from_json("{\"space\": 1}", "x.json"), InputError);
}

}  // namespace
}  // namespace zerolm
