// The pruning space of a checkpoint (no LibTorch): grid, encodings, sample/mutate/count, the
// importance order, parameter counts, and the fast msv scores against slicing the matrices, on
// LLaMA-shaped (grouped-query attention) and GPT-2-shaped checkpoints the tests write.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune.h"
#include "checkpoints/synthetic_checkpoint.h"
#include "proxy/checkpoint_scores.h"
#include "tests/testing.h"

namespace zerolm {
namespace {

namespace fs = std::filesystem;
using testing::expect_input_error;

// The tests' checkpoints, written once per process into one folder removed at exit.
class Checkpoints : public ::testing::Environment {
 public:
  static std::string root() {
    static const std::string r =
        ::testing::TempDir() + "zerolm_prune_" + std::to_string(::getpid());
    return r;
  }
  void TearDown() override { fs::remove_all(root()); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Checkpoints);

CheckpointConfig llama_config() {
  // hidden 64, 8 heads of 8, 2 key/value heads (4 query heads per group), intermediate 192.
  return make_checkpoint_config(CheckpointFamily::Llama, 64, 192, 8, 2, 4, 100, false);
}
CheckpointConfig gpt2_config() {
  // n_embd 48, 4 heads of 12, n_inner 4 x 48 = 192, 32 positions, tied head.
  return make_checkpoint_config(CheckpointFamily::Gpt2, 48, 192, 4, 4, 3, 100, true, 32);
}

const HfCheckpoint& synthetic(const std::string& name, const CheckpointConfig& config,
                              Dtype dtype) {
  static std::map<std::string, HfCheckpoint> opened;
  const auto it = opened.find(name);
  if (it != opened.end()) return it->second;
  const std::string dir = Checkpoints::root() + "/" + name;
  SyntheticOptions o;
  o.dtype = dtype;
  o.seed = 7;
  write_synthetic_checkpoint(dir, config, o);
  return opened.emplace(name, HfCheckpoint::open(dir)).first->second;
}
const HfCheckpoint& llama() {
  return synthetic("llama_f32", llama_config(), Dtype::F32);
}
const HfCheckpoint& llama_bf16() {
  return synthetic("llama_bf16", llama_config(), Dtype::BF16);
}
const HfCheckpoint& gpt2() {
  return synthetic("gpt2_f16", gpt2_config(), Dtype::F16);
}

// A checkpoint whose every weight is `value(name, flat index, shape as stored)`.
HfCheckpoint custom(const std::string& name, const CheckpointConfig& config,
                    const WeightValue& value) {
  const std::string dir = Checkpoints::root() + "/" + name;
  write_checkpoint_of(dir, config, value);
  return HfCheckpoint::open(dir);
}

double sum_squares(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return s;
}

// ZeroLM's msv on whole matrices, straight from the checkpoint (no pruning code involved).
PruneMsv msv_of_checkpoint(const HfCheckpoint& ck) {
  PruneMsv out;
  const auto cap = [](const Matrix& m) {
    return sum_squares(m.to_doubles()) / double(std::min(m.rows, m.cols));
  };
  for (int l = 0; l < ck.config().layers; ++l) {
    for (AttnMatrix w : {AttnMatrix::Q, AttnMatrix::K, AttnMatrix::V, AttnMatrix::O})
      out.attention += cap(ck.attention(l, w));
    if (ck.gated()) out.ffn += cap(ck.ffn(l, FfnMatrix::Gate));
    out.ffn += cap(ck.ffn(l, FfnMatrix::Up)) + cap(ck.ffn(l, FfnMatrix::Down));
  }
  return out;
}

void expect_rel(double got, double want, double rel, const std::string& what) {
  EXPECT_LE(std::abs(got - want), rel * std::abs(want)) << what << ": " << got << " vs " << want;
}

// ---- Grid, count, describe ----

TEST(PruneSpace, LlamaGrid) {
  const PruneSpace s(llama());
  ASSERT_EQ(s.layers(), 4);
  for (int l = 0; l < 4; ++l) {
    // 192 < 1024: multiples of 8. 7/8 -> 168, 3/4 -> 144, 5/8 -> 120, 1/2 -> 96.
    EXPECT_EQ(s.ffn_grid(l), (std::vector<std::int64_t>{192, 168, 144, 120, 96}));
    // 2 groups: 2, 1.75 -> 2, 1.5 -> 2, 1.25 -> 1, 1.
    EXPECT_EQ(s.kv_grid(l), (std::vector<std::int64_t>{2, 1}));
    EXPECT_EQ(s.shape(l).heads_per_group, 4);
    EXPECT_EQ(s.shape(l).head_dim, 8);
  }
  EXPECT_EQ(s.max_dropped(), 1);  // a quarter of 4
  // 10 choices per layer, at most one layer dropped: 10^4 + 4 x 10^3.
  EXPECT_EQ(s.count(), 14000.0);
  EXPECT_EQ(s.describe(),
            "prune space over a llama checkpoint, 4 layers; per layer: ff {192, 168, 144, 120, 96} "
            "x kv {2, 1}, or drop (at most 1 layers dropped)");
}

TEST(PruneSpace, Gpt2Grid) {
  const PruneSpace s(gpt2());
  ASSERT_EQ(s.layers(), 3);
  EXPECT_EQ(s.ffn_grid(0), (std::vector<std::int64_t>{192, 168, 144, 120, 96}));
  // 4 heads (one per group): 4, 3.5 -> 4, 3, 2.5 -> 3, 2.
  EXPECT_EQ(s.kv_grid(0), (std::vector<std::int64_t>{4, 3, 2}));
  EXPECT_EQ(s.max_dropped(), 0);  // a quarter of 3 rounds down
  EXPECT_EQ(s.count(), 15.0 * 15 * 15);
}

TEST(PruneSpace, WideFeedForwardUsesMultiplesOf64) {
  // LLaMA-3B-like intermediate 5504 (>= 1024: multiples of 64): 7/8 -> 4816 -> 4800,
  // 3/4 -> 4128 -> 4160, 5/8 -> 3440 -> 3456, 1/2 -> 2752.
  const HfCheckpoint& ck = synthetic(
      "wide", make_checkpoint_config(CheckpointFamily::Llama, 16, 5504, 2, 1, 1, 10, true),
      Dtype::BF16);
  const PruneSpace s(ck);
  EXPECT_EQ(s.ffn_grid(0), (std::vector<std::int64_t>{5504, 4800, 4160, 3456, 2752}));
  EXPECT_EQ(s.kv_grid(0), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(s.max_dropped(), 0);  // never every layer
  EXPECT_EQ(s.count(), 5.0);
  PruneGridOptions o;
  o.ffn_multiple = 1000;
  o.ffn_fractions = {1, 0.5, 0.01};
  // 2752 -> 3000; 55 -> at least one multiple, 1000.
  EXPECT_EQ(PruneSpace(ck, o).ffn_grid(0), (std::vector<std::int64_t>{5504, 3000, 1000}));
}

TEST(PruneSpace, OptionsOutOfRange) {
  PruneGridOptions o;
  o.ffn_fractions = {1, 1.5};
  expect_input_error([&] { PruneSpace(llama(), o); }, {"prune grid", "feed-forward", "(0, 1]"});
  o = {};
  o.kv_fractions = {};
  expect_input_error([&] { PruneSpace(llama(), o); }, {"prune grid", "key/value", "no fractions"});
  o = {};
  o.max_drop_fraction = -0.5;
  expect_input_error([&] { PruneSpace(llama(), o); }, {"prune grid", "max_drop_fraction"});
  o = {};
  o.ffn_multiple = -8;
  expect_input_error([&] { PruneSpace(llama(), o); }, {"prune grid", "multiple -8"});
}

TEST(PruneSpace, CountMatchesEnumeration) {
  // GPT-2 with drops up to every layer but one: 16 values per layer (15 pairs + drop), all but
  // the 1 + 3 choices that drop 3 or... enumerate every field combination and validate each.
  PruneGridOptions o;
  o.max_drop_fraction = 1;
  const PruneSpace s(gpt2(), o);
  ASSERT_EQ(s.max_dropped(), 2);
  std::vector<LayerChoice> fields = {{true, 0, 0}};
  for (std::int64_t f : s.ffn_grid(0))
    for (std::int64_t k : s.kv_grid(0)) fields.push_back({false, f, k});
  ASSERT_EQ(fields.size(), 16u);
  int valid = 0, invalid = 0;
  for (const LayerChoice& a : fields)
    for (const LayerChoice& b : fields)
      for (const LayerChoice& c : fields) {
        try {
          s.validate({a, b, c}, "enumerated");
          ++valid;
        } catch (const InputError&) {
          ++invalid;
        }
      }
  EXPECT_EQ(invalid, 1);  // all three dropped
  EXPECT_EQ(double(valid), s.count());
  EXPECT_EQ(s.count(), 16.0 * 16 * 16 - 1);
}

// ---- Encodings ----

TEST(PruneEncoding, RoundTrip) {
  const PruneSpace s(llama());
  EXPECT_EQ(s.encode(s.full()), "PRUNE|ff192-kv2|ff192-kv2|ff192-kv2|ff192-kv2");
  const std::string e = "PRUNE|ff96-kv1|drop|ff168-kv2|ff120-kv1";
  const PruneChoice c = s.parse(e);
  EXPECT_EQ(c, (PruneChoice{{false, 96, 1}, {true, 0, 0}, {false, 168, 2}, {false, 120, 1}}));
  EXPECT_EQ(s.encode(c), e);
  Rng rng(3);
  for (int i = 0; i < 500; ++i) {
    const PruneChoice x = s.sample(rng);
    EXPECT_EQ(s.parse(s.encode(x)), x);
    EXPECT_EQ(s.choice_of(s.keep(x)), x);
  }
}

TEST(PruneEncoding, BadEncodingsSayWhatIsAllowed) {
  const PruneSpace s(llama());
  const PruneSpace g(gpt2());
  const auto bad = [&](const PruneSpace& space, const std::string& e,
                       std::vector<std::string> parts) {
    parts.insert(parts.begin(), "encoding \"" + e + "\"");
    expect_input_error([&] { space.parse(e); }, parts);
  };
  bad(s, "LLAMA|ff192-kv2", {"expected PRUNE|<layer>|...", "one field per layer (4)"});
  bad(s, "", {"expected PRUNE|"});
  bad(s, "PRUNE|ff192-kv2", {"1 layer fields, expected 4"});
  bad(s, "PRUNE|ff192-kv2|ff192-kv2|ff192-kv2|ff192-kv2|", {"5 layer fields, expected 4"});
  bad(s, "PRUNE|ff192-kv2|ff100-kv2|ff192-kv2|ff192-kv2",
      {"layer 1: ff100: expected one of ff192, 168, 144, 120, 96"});
  bad(s, "PRUNE|ff192-kv2|ff192-kv2|ff192-kv3|ff192-kv2", {"layer 2: kv3: expected one of kv2, 1"});
  bad(s, "PRUNE|ff192-kv2|ff192kv2|ff192-kv2|ff192-kv2",
      {"layer 1: field \"ff192kv2\": expected ff<channels>-kv<groups> or drop"});
  bad(s, "PRUNE|ff0192-kv2|ff192-kv2|ff192-kv2|ff192-kv2", {"layer 0: field \"ff0192-kv2\""});
  bad(s, "PRUNE|ff192-kv2|ff192-kv|ff192-kv2|ff192-kv2", {"layer 1: field"});
  bad(s, "PRUNE|ff192-kv2|ff192-kv2|ff-192-kv2|ff192-kv2", {"layer 2: field"});
  bad(s, "PRUNE|ff192-kv2|ff192-kv2|ff192-kv2|Drop", {"layer 3: field \"Drop\""});
  bad(s, "PRUNE|drop|drop|ff192-kv2|ff192-kv2", {"2 layers dropped, expected at most 1 of 4"});
  bad(g, "PRUNE|ff192-kv4|drop|ff192-kv4",
      {"layer 1: drop: this space drops no layer (expected ff<channels>-kv<groups>)"});
  bad(g, "PRUNE|ff192-kv4|ff192-kv1|ff192-kv4", {"layer 1: kv1: expected one of kv4, 3, 2"});
  expect_input_error([&] { s.parse("PRUNE|ff192-kv2\n|x"); }, {"\\n"});
}

// ---- Sample, mutate ----

TEST(PruneSample, UniformWithinTheDropCap) {
  const PruneSpace s(llama());
  Rng rng(11);
  const int n = 28000;
  std::vector<int> drops(4, 0);
  std::map<std::int64_t, int> ff;
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    const PruneChoice c = s.sample(rng);
    s.validate(c, "sampled");
    for (int l = 0; l < 4; ++l) {
      drops[std::size_t(l)] += c[std::size_t(l)].dropped;
      if (!c[std::size_t(l)].dropped) ++ff[c[std::size_t(l)].ffn];
    }
    seen.insert(s.encode(c));
  }
  // Uniform over 14000 sub-networks: a layer is dropped in 10^3 of them (p = 1/14, 2000
  // expected, standard deviation 43).
  for (int d : drops) EXPECT_NEAR(d, 2000, 5 * 43) << d;
  for (std::int64_t f : s.ffn_grid(0)) EXPECT_NEAR(ff[f], (4 * n - 8000) / 5, 650) << f;
  // 28000 draws from 14000: about 14000 (1 - e^-2) = 12100 distinct.
  EXPECT_GT(seen.size(), 11500u);
}

TEST(PruneMutate, ChangesExactlyOneLayer) {
  PruneGridOptions o;
  o.max_drop_fraction = 0.5;
  for (const HfCheckpoint* ck : {&llama(), &gpt2()}) {
    const PruneSpace s(*ck, o);
    Rng rng(5);
    PruneChoice c = s.full();
    int dropped_seen = 0;
    for (int i = 0; i < 2000; ++i) {
      const PruneChoice m = s.mutate(c, rng);
      s.validate(m, s.encode(m));
      int changed = 0;
      for (std::size_t l = 0; l < c.size(); ++l) changed += c[l] != m[l];
      ASSERT_EQ(changed, 1) << s.encode(c) << " -> " << s.encode(m);
      int dropped = 0;
      for (const LayerChoice& lc : m) dropped += lc.dropped;
      ASSERT_LE(dropped, s.max_dropped());
      dropped_seen = std::max(dropped_seen, dropped);
      c = m;
    }
    EXPECT_EQ(dropped_seen, s.max_dropped());  // the walk reaches the cap
  }
  // A space with a single sub-network has nothing to change to.
  PruneGridOptions one;
  one.ffn_fractions = {1};
  one.kv_fractions = {1};
  one.max_drop_fraction = 0;
  const PruneSpace single(llama(), one);
  EXPECT_EQ(single.count(), 1.0);
  Rng rng(1);
  EXPECT_THROW(single.mutate(single.full(), rng), std::logic_error);
}

TEST(PruneUniform, EveryKeptLayerTheSameCountsCountedSampledAndMutated) {
  PruneGridOptions o;
  o.uniform = true;
  o.max_drop_fraction = 0.5;  // 4 layers: at most 2 dropped
  const PruneSpace s(llama(), o);
  ASSERT_EQ(s.max_dropped(), 2);
  // 5 x 2 shared count pairs (ff {192 168 144 120 96} x kv {2 1}) times the drop patterns of at
  // most 2 of 4 layers: 1 + 4 + 6 = 11.
  ASSERT_EQ(s.ffn_grid(0).size(), 5u);
  ASSERT_EQ(s.kv_grid(0).size(), 2u);
  EXPECT_EQ(s.count(), 10.0 * 11);
  // Enumerate every field combination: exactly count() of them are valid.
  std::vector<LayerChoice> fields = {{true, 0, 0}};
  for (std::int64_t f : s.ffn_grid(0))
    for (std::int64_t k : s.kv_grid(0)) fields.push_back({false, f, k});
  int valid = 0;
  for (const LayerChoice& a : fields)
    for (const LayerChoice& b : fields)
      for (const LayerChoice& c : fields)
        for (const LayerChoice& d : fields) try {
            s.validate({a, b, c, d}, "enumerated");
            ++valid;
          } catch (const InputError&) {
          }
  EXPECT_EQ(double(valid), s.count());
  expect_input_error(
      [&] { s.parse("PRUNE|ff192-kv2|ff96-kv2|drop|ff192-kv2"); },
      {"layer 1 keeps ff96-kv2, another kept layer ff192-kv2", "same counts in every kept layer"});
  EXPECT_NO_THROW(s.parse("PRUNE|ff96-kv1|drop|ff96-kv1|drop"));
  // Sampling is uniform over the 110 sub-networks: 22000 draws, 200 expected each.
  Rng rng(3);
  std::map<std::string, int> seen;
  for (int i = 0; i < 22000; ++i) {
    const PruneChoice c = s.sample(rng);
    s.validate(c, "sampled");
    ++seen[s.encode(c)];
  }
  EXPECT_EQ(seen.size(), 110u);
  for (const auto& [e, n] : seen) EXPECT_NEAR(n, 200, 5 * 14.1) << e;
  // A walk stays in the space, changes the shared counts or one layer's drop, and reaches both.
  PruneChoice c = s.full();
  int count_changes = 0, drop_changes = 0;
  for (int i = 0; i < 2000; ++i) {
    const PruneChoice m = s.mutate(c, rng);
    s.validate(m, s.encode(m));
    ASSERT_NE(s.encode(m), s.encode(c));
    int drops_changed = 0;
    for (std::size_t l = 0; l < c.size(); ++l) drops_changed += c[l].dropped != m[l].dropped;
    ASSERT_LE(drops_changed, 1);
    (drops_changed ? drop_changes : count_changes)++;
    c = m;
  }
  // 9 other count pairs against 2 to 4 drop toggles a step.
  EXPECT_GT(count_changes, 1000);
  EXPECT_GT(drop_changes, 300);
  // Its counts per layer are the general space's: the uniform sub-networks are among them.
  const PruneSpace general(llama(), PruneGridOptions{});
  EXPECT_NO_THROW(general.parse("PRUNE|ff96-kv1|ff96-kv1|ff96-kv1|drop"));
}

TEST(PruneUniform, RefusedForACheckpointWhoseLayersDiffer) {
  CheckpointConfig c = llama_config();
  c.per_layer = {{8, 2, 192}, {8, 2, 96}, {8, 2, 192}, {8, 2, 192}};
  const HfCheckpoint& ck = synthetic("llama_layers_differ", c, Dtype::F32);
  PruneGridOptions o;
  o.uniform = true;
  expect_input_error(
      [&] { PruneSpace s(ck, o); },
      {"prune grid: uniform: layer 1 (ff {96, 88, 72, 64, 48} x kv {2, 1}) has another "
       "shape than layer 0",
       "expected a checkpoint whose layers are alike"});
  EXPECT_NO_THROW(PruneSpace(ck, PruneGridOptions{}));
}

// ---- Importance order ----

TEST(PruneImportance, LargestChannelAndGroupFirst) {
  const CheckpointConfig c = llama_config();
  // Layer 0: gate row 7 and the k rows of group 1 ten times larger; layer 1: down column 150.
  const HfCheckpoint ck =
      custom("importance_llama", c,
             [&](const std::string& name, std::int64_t i, const std::vector<std::int64_t>& shape) {
               float v = synthetic_value(9, name, i);
               const std::int64_t r = i / shape.back(), col = i % shape.back();
               if (name == "model.layers.0.mlp.gate_proj.weight" && r == 7) v *= 10;
               if (name == "model.layers.0.self_attn.k_proj.weight" && r / 8 == 1) v *= 10;
               if (name == "model.layers.1.mlp.down_proj.weight" && col == 150) v *= 10;
               return v;
             });
  const PruneSpace s(ck);
  EXPECT_EQ(s.norms(0).ffn_order[0], 7);
  EXPECT_EQ(s.norms(0).kv_order, (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(s.norms(1).ffn_order[0], 150);
  // Every layer's order is by the norm the test computes itself from the matrices.
  for (int l = 0; l < 4; ++l) {
    std::vector<double> channel(192, 0.0);
    for (FfnMatrix w : {FfnMatrix::Gate, FfnMatrix::Up})
      for (int ch = 0; ch < 192; ++ch)
        channel[std::size_t(ch)] += sum_squares(ck.ffn(l, w).row(ch));
    for (int ch = 0; ch < 192; ++ch)
      channel[std::size_t(ch)] += sum_squares(ck.ffn(l, FfnMatrix::Down).column(ch));
    const auto& order = s.norms(l).ffn_order;
    ASSERT_EQ(order.size(), 192u);
    EXPECT_EQ(std::set<std::int64_t>(order.begin(), order.end()).size(), 192u);
    for (std::size_t i = 1; i < order.size(); ++i)
      EXPECT_GE(channel[std::size_t(order[i - 1])], channel[std::size_t(order[i])]);
  }
  // A sub-network keeping one group keeps group 1; half the channels of layer 0 include 7.
  const PruneKeep k = s.keep(s.parse("PRUNE|ff96-kv1|ff96-kv1|ff192-kv2|ff192-kv2"));
  EXPECT_EQ(k[0].kv_groups, (std::vector<std::int64_t>{1}));
  EXPECT_EQ(k[0].ffn_channels.size(), 96u);
  EXPECT_TRUE(std::is_sorted(k[0].ffn_channels.begin(), k[0].ffn_channels.end()));
  EXPECT_TRUE(std::binary_search(k[0].ffn_channels.begin(), k[0].ffn_channels.end(), 7));
  EXPECT_TRUE(std::binary_search(k[1].ffn_channels.begin(), k[1].ffn_channels.end(), 150));
  // A keep that is not the most important prefix is not in the space.
  PruneKeep other = k;
  other[0].kv_groups = {0};
  expect_input_error([&] { s.choice_of(other); },
                     {"layer 0", "key/value groups are not the 1 most important"});
}

TEST(PruneImportance, Gpt2ConvLayout) {
  const CheckpointConfig c = gpt2_config();
  // c_fc is stored [in, out]: channel 5 is its column 5. attn.c_proj [in = heads x 12, out]: head
  // 2 is its rows [24, 36). mlp.c_proj of layer 2 [in = channels, out]: channel 40 is row 40.
  const HfCheckpoint ck =
      custom("importance_gpt2", c,
             [&](const std::string& name, std::int64_t i, const std::vector<std::int64_t>& shape) {
               float v = synthetic_value(4, name, i);
               const std::int64_t r = i / shape.back(), col = i % shape.back();
               if (name == "h.0.mlp.c_fc.weight" && col == 5) v *= 10;
               if (name == "h.1.attn.c_proj.weight" && r / 12 == 2) v *= 10;
               if (name == "h.2.mlp.c_proj.weight" && r == 40) v *= 10;
               return v;
             });
  const PruneSpace s(ck);
  EXPECT_EQ(s.norms(0).ffn_order[0], 5);
  EXPECT_EQ(s.norms(1).kv_order[0], 2);
  EXPECT_EQ(s.norms(2).ffn_order[0], 40);
}

TEST(PruneImportance, TiesByIndex) {
  const HfCheckpoint ck =
      custom("ties", llama_config(),
             [](const std::string&, std::int64_t, const std::vector<std::int64_t>&) {
               return 0.03125f;  // every weight equal: every channel and group ties
             });
  const PruneSpace s(ck);
  for (int l = 0; l < 4; ++l) {
    for (std::size_t i = 0; i < 192; ++i) EXPECT_EQ(s.norms(l).ffn_order[i], std::int64_t(i));
    EXPECT_EQ(s.norms(l).kv_order, (std::vector<std::int64_t>{0, 1}));
  }
  EXPECT_EQ(s.keep(s.parse("PRUNE|ff96-kv1|ff192-kv2|ff192-kv2|ff192-kv2"))[0].ffn_channels.back(),
            95);
}

TEST(PruneImportance, NonFiniteWeightsAreRefused) {
  const HfCheckpoint ck =
      custom("nan", llama_config(),
             [](const std::string& name, std::int64_t i, const std::vector<std::int64_t>&) {
               return name == "model.layers.2.mlp.up_proj.weight" && i == 64 * 3 + 5
                          ? NAN
                          : synthetic_value(1, name, i);
             });
  expect_input_error([&] { PruneSpace{ck}; },
                     {"model.layers.2.mlp.up_proj.weight", "layer 2, channel 3", "not finite"});
}

// ---- Scores: fast against the slices ----

void fast_equals_direct(const HfCheckpoint& ck, const PruneGridOptions& o, std::uint64_t seed) {
  const PruneSpace s(ck, o);
  Rng rng(seed);
  int dropped = 0;
  for (int i = 0; i < 100; ++i) {
    const PruneChoice c = s.sample(rng);
    for (const LayerChoice& lc : c) dropped += lc.dropped;
    const PruneMsv fast = prune_msv(s, c);
    const PruneMsv slow = msv_direct(ck, s.keep(c));
    const std::string e = s.encode(c);
    expect_rel(fast.attention, slow.attention, 1e-9, e + " attention");
    expect_rel(fast.ffn, slow.ffn, 1e-9, e + " ffn");
    for (double alpha : {0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5})
      expect_rel(prune_msv(s, c).zerolm(alpha), slow.zerolm(alpha), 1e-9,
                 e + " alpha " + std::to_string(alpha));
    ASSERT_GT(slow.attention, 0);
    ASSERT_GT(slow.ffn, 0);
  }
  EXPECT_GT(dropped, 0);  // the sample includes dropped layers
}

TEST(PruneScore, FastEqualsSlicesLlama) {
  PruneGridOptions o;
  o.max_drop_fraction = 0.5;
  fast_equals_direct(llama(), o, 21);
}
TEST(PruneScore, FastEqualsSlicesLlamaBf16) {
  PruneGridOptions o;
  o.max_drop_fraction = 0.5;
  fast_equals_direct(llama_bf16(), o, 22);
}
TEST(PruneScore, FastEqualsSlicesGpt2) {
  PruneGridOptions o;
  o.max_drop_fraction = 1;
  fast_equals_direct(gpt2(), o, 23);
}

TEST(PruneScore, UnprunedScoresAsTheCheckpoint) {
  for (const HfCheckpoint* ck : {&llama(), &llama_bf16(), &gpt2()}) {
    const PruneSpace s(*ck);
    const PruneChoice full = s.full();
    const PruneMsv want = msv_of_checkpoint(*ck);
    expect_rel(prune_msv(s, full).attention, want.attention, 1e-12, ck->dir() + " attention");
    expect_rel(prune_msv(s, full).ffn, want.ffn, 1e-12, ck->dir() + " ffn");
    for (double alpha : {0.0, 0.3, 1.0})
      expect_rel(prune_msv(s, full).zerolm(alpha), want.zerolm(alpha), 1e-12, ck->dir());
    EXPECT_EQ(s.params(full), ck->num_params()) << ck->dir();
    EXPECT_EQ(kept_params(ck->config(), s.keep(full)), ck->num_params()) << ck->dir();
    expect_rel(kept_norm(s, full), 1.0, 1e-12, ck->dir() + " norm fraction");
  }
  // Uniform weights N(0, s^2) have E[msv] = s^2 max(m, n): the synthetic weights are uniform in
  // [-0.05, 0.05) (variance 0.05^2 / 3), so a LLaMA q of 64 x 64 has about 64 x 8.3e-4 = 0.053.
  const PruneMsv m = prune_msv(PruneSpace(llama()), PruneSpace(llama()).full());
  EXPECT_NEAR(m.attention, 4 * 0.05 * 0.05 / 3 * (64 + 64 + 64 + 64), 0.01);
  EXPECT_NEAR(m.ffn, 4 * 0.05 * 0.05 / 3 * (192 * 3), 0.02);
}

TEST(PruneScore, ParamsAsAWrittenCheckpointHolds) {
  // A uniform LLaMA pruning is a smaller LLaMA: its tensors, as a config says, hold exactly as
  // many parameters. Dropping a layer is one layer fewer.
  const PruneSpace s(llama());
  const auto expected_params = checkpoint_config_params;  // the tensors the config implies
  CheckpointConfig small =
      make_checkpoint_config(CheckpointFamily::Llama, 64, 120, 4, 1, 3, 100, false, 0, 8);
  const PruneChoice c = s.parse("PRUNE|ff120-kv1|drop|ff120-kv1|ff120-kv1");
  EXPECT_EQ(s.params(c), expected_params(small));
  EXPECT_EQ(kept_params(llama().config(), s.keep(c)), expected_params(small));
  // With attention and MLP biases.
  CheckpointConfig biased = llama_config();
  biased.attention_bias = biased.mlp_bias = true;
  small.attention_bias = small.mlp_bias = true;
  EXPECT_EQ(kept_params(biased, s.keep(c)), expected_params(small));
  // GPT-2 keeping 2 of 4 heads (24 wide) and 96 channels in every layer, by hand: embeddings
  // 100 x 48 + 32 x 48 + ln_f 96; per layer ln_1, ln_2 4 x 48, c_attn 48 x 72 + 72, attn.c_proj
  // 24 x 48 + 48, c_fc 48 x 96 + 96, mlp.c_proj 96 x 48 + 48.
  const PruneSpace g(gpt2());
  const std::int64_t layer = 192 + 48 * 72 + 72 + 24 * 48 + 48 + 48 * 96 + 96 + 96 * 48 + 48;
  EXPECT_EQ(g.params(g.parse("PRUNE|ff96-kv2|ff96-kv2|ff96-kv2")),
            100 * 48 + 32 * 48 + 96 + 3 * layer);
  EXPECT_EQ(g.params(g.full()), gpt2().num_params());
  // Norm fraction: the kept slices' squared norm over all matrices', from the slices' values.
  const auto squared = [&](const PruneChoice& x) {
    double n = 0;
    for (const PruneSlice& sl : prune_slices(llama(), s.keep(x)))
      n += sum_squares(slice_values(sl));
    return n;
  };
  const double total = squared(s.full());
  expect_rel(kept_norm(s, c), squared(c) / total, 1e-9, s.encode(c));
  const PruneChoice half = s.parse("PRUNE|ff96-kv1|ff96-kv1|ff96-kv1|ff96-kv1");
  expect_rel(kept_norm(s, half), squared(half) / total, 1e-9, s.encode(half));
  // The most important half of every layer holds more than half of the norm.
  EXPECT_GT(kept_norm(s, half), 0.5);
  EXPECT_LT(kept_norm(s, half), 0.6);
}

TEST(PruneSlices, ValuesAreTheKeptRowsAndColumns) {
  const HfCheckpoint& ck = llama();
  const PruneSpace s(ck);
  const PruneKeep keep = s.keep(s.parse("PRUNE|ff96-kv1|drop|ff192-kv2|ff192-kv2"));
  const std::vector<PruneSlice> slices = prune_slices(ck, keep);
  ASSERT_EQ(slices.size(), 3u * 7);  // 3 kept layers x q, k, v, o, gate, up, down
  const std::int64_t g = keep[0].kv_groups[0];
  for (const PruneSlice& sl : slices) {
    if (sl.layer != 0) continue;
    const std::vector<double> v = slice_values(sl);
    ASSERT_EQ(v.size(), sl.rows.size() * sl.cols.size());
    const Matrix full = sl.role == "q"      ? ck.attention(0, AttnMatrix::Q)
                        : sl.role == "k"    ? ck.attention(0, AttnMatrix::K)
                        : sl.role == "v"    ? ck.attention(0, AttnMatrix::V)
                        : sl.role == "o"    ? ck.attention(0, AttnMatrix::O)
                        : sl.role == "gate" ? ck.ffn(0, FfnMatrix::Gate)
                        : sl.role == "up"   ? ck.ffn(0, FfnMatrix::Up)
                                            : ck.ffn(0, FfnMatrix::Down);
    if (sl.role == "q") {
      EXPECT_EQ(sl.rows.size(), 32u);  // 4 heads of 8
      EXPECT_EQ(sl.rows.front(), g * 32);
      EXPECT_EQ(sl.cols.size(), 64u);
    } else if (sl.role == "k" || sl.role == "v") {
      EXPECT_EQ(sl.rows, (std::vector<std::int64_t>{g * 8, g * 8 + 1, g * 8 + 2, g * 8 + 3,
                                                    g * 8 + 4, g * 8 + 5, g * 8 + 6, g * 8 + 7}));
    } else if (sl.role == "o") {
      EXPECT_EQ(sl.rows.size(), 64u);
      EXPECT_EQ(sl.cols.size(), 32u);
      EXPECT_EQ(sl.cols.back(), g * 32 + 31);
    } else if (sl.role == "down") {
      EXPECT_EQ(sl.cols, keep[0].ffn_channels);
    } else {
      EXPECT_EQ(sl.rows, keep[0].ffn_channels);
    }
    for (std::size_t i = 0; i < sl.rows.size(); i += 5)
      for (std::size_t j = 0; j < sl.cols.size(); j += 3)
        ASSERT_EQ(v[i * sl.cols.size() + j], full.at(sl.rows[i], sl.cols[j])) << sl.role;
  }
}

}  // namespace
}  // namespace zerolm
