#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "proxy/capacity.h"
#include "proxy/evaluator.h"
#include "proxy/metrics.h"
#include "spaces/model.h"
#include "spaces/space.h"
#include "tests/testing.h"

namespace zerolm {
namespace {

double cap(const torch::Tensor& w, CapacityStat s) {
  return capacity(w, s).item<double>();
}

TEST(Capacity, StatisticsOfAKnownSpectrum) {
  // Singular values 4 and 3.
  auto w = torch::tensor({3.0f, 0.0f, 0.0f, 0.0f, 4.0f, 0.0f}).view({2, 3});
  EXPECT_NEAR(cap(w, CapacityStat::Msv), 12.5, 1e-6);
  EXPECT_NEAR(cap(w, CapacityStat::MsvSvd), 12.5, 1e-9);
  EXPECT_NEAR(cap(w, CapacityStat::Nuclear), 3.5, 1e-9);
  const double p = 4.0 / 7, q = 3.0 / 7;
  EXPECT_NEAR(cap(w, CapacityStat::EffectiveRank), std::exp(-(p * std::log(p) + q * std::log(q))),
              1e-9);
  EXPECT_NEAR(cap(w, CapacityStat::StableRank), 25.0 / 16, 1e-9);
  EXPECT_NEAR(cap(w, CapacityStat::Spectral), 4.0, 1e-9);
}

TEST(Capacity, FrobeniusShortcutEqualsSvdSum) {
  torch::manual_seed(3);
  for (auto shape :
       std::vector<std::vector<std::int64_t>>{{256, 1024}, {1024, 256}, {128, 18}, {512, 512}}) {
    auto w = torch::randn(shape) * 0.02;
    const double fro = cap(w, CapacityStat::Msv), svd = cap(w, CapacityStat::MsvSvd);
    EXPECT_NEAR(fro / svd, 1.0, 1e-5) << shape[0] << "x" << shape[1];
  }
}

EvalOptions options(Profile profile, Mode mode, const std::string& capacity = "msv") {
  EvalOptions o;
  o.profile = profile;
  o.proxy.mode = mode;
  o.proxy.capacity = capacity;
  o.proxy.alpha = 0.75;
  return o;
}

TEST(ZeroLM, WholeModelScoreIsTheSameWithFrobeniusOrSvd) {
  const Arch a = parse_encoding("H256|SA-WMA-h4-ff1024x3|DSC-9-h2-ff512x1");
  Evaluator fro({"zerolm"}, options(Profile::Spec, Mode::Weights, "msv"));
  Evaluator svd({"zerolm"}, options(Profile::Spec, Mode::Weights, "msv-svd"));
  EXPECT_NEAR(fro.evaluate(a).results[0].score / svd.evaluate(a).results[0].score, 1.0, 1e-5);
}

TEST(ZeroLM, PartsAndLayersAddUpToTheScore) {
  Evaluator ev({"zerolm"}, options(Profile::Spec, Mode::Weights));
  const auto r =
      ev.evaluate(parse_encoding("H128|LT-DCT-h2-ff512x3|SA-SDP-h4-ff1024x1")).results[0];
  ASSERT_EQ(r.layers.size(), 2u);
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_NEAR(r.layers[0].attn + r.layers[1].attn, r.parts[0], 1e-12);
  EXPECT_NEAR(r.layers[0].ffn + r.layers[1].ffn, r.parts[1], 1e-12);
  EXPECT_NEAR(0.75 * r.parts[0] + 0.25 * r.parts[1], r.score, 1e-12);
  // Analytic: LT layer attention = one 128x128 linear: 0.02^2 * 128.
  Evaluator an({"zerolm"}, options(Profile::Spec, Mode::Analytic));
  const auto e =
      an.evaluate(parse_encoding("H128|LT-DCT-h2-ff512x3|SA-SDP-h4-ff1024x1")).results[0];
  EXPECT_NEAR(e.layers[0].attn, 4e-4 * 128, 1e-12);
  // FFN 128->512->512->512->128: max dims 512 each.
  EXPECT_NEAR(e.layers[0].ffn, 4e-4 * 512 * 4, 1e-12);
}

TEST(ZeroLM, SameSeedSameScoreOtherSeedOtherScore) {
  const Arch a = parse_encoding("H256|DSC-5-h4-ff512x3|SA-SDP-h2-ff1024x1");
  auto o = options(Profile::Spec, Mode::Weights);
  Evaluator e1({"zerolm"}, o), e2({"zerolm"}, o);
  o.seed = 1;
  Evaluator e3({"zerolm"}, o);
  const double s1 = e1.evaluate(a).results[0].score;
  EXPECT_EQ(s1, e2.evaluate(a).results[0].score);
  EXPECT_EQ(s1, e1.evaluate(a).results[0].score);
  EXPECT_NE(s1, e3.evaluate(a).results[0].score);
}

TEST(ZeroLM, AnalyticModeRejectsStatisticsWithoutClosedForm) {
  EXPECT_THROW(Evaluator({"zerolm"}, options(Profile::Spec, Mode::Analytic, "spectral")),
               InputError);
  EXPECT_NO_THROW(Evaluator({"zerolm"}, options(Profile::Spec, Mode::Weights, "spectral")));
}

TEST(ZeroLM, SpectralStatisticsScoreARealModel) {
  const Arch a = parse_encoding("H128|SA-SDP-h2-ff512x1|LT-DFT-h2-ff512x1");
  for (const std::string stat : {"nuclear", "effective-rank", "stable-rank", "spectral"}) {
    Evaluator ev({"zerolm"}, options(Profile::Spec, Mode::Weights, stat));
    const auto r = ev.evaluate(a).results[0];
    EXPECT_GT(r.score, 0.0) << stat;
    EXPECT_TRUE(std::isfinite(r.score)) << stat;
  }
  // Effective rank of a random 128x128 Gaussian matrix is a large fraction of 128.
  Evaluator ev({"zerolm"}, options(Profile::Spec, Mode::Weights, "effective-rank"));
  EXPECT_GT(ev.evaluate(a).results[0].layers[1].attn, 80.0);
}

TEST(ZeroLM, DecoderWeightsModeMatchesAnalyticAndDecomposes) {
  // One sample of every decoder space: the drawn weights' score is within 2% of its expectation,
  // and every layer has both parts.
  for (const std::string name : {"gpt2-lts", "gpt-large", "llama"}) {
    const Space& s = find_space(name);
    Rng rng(11);
    Arch a = s.sample(rng);
    while (count_params(make_plan(a, Profile::Spec, false)) > 400000000) a = s.sample(rng);
    Evaluator w({"zerolm"}, options(Profile::Spec, Mode::Weights));
    Evaluator an({"zerolm"}, options(Profile::Spec, Mode::Analytic));
    const auto rw = w.evaluate(a).results[0], ra = an.evaluate(a).results[0];
    EXPECT_NEAR(rw.score / ra.score, 1.0, 0.02) << encode(a);
    EXPECT_NE(rw.score, ra.score);
    ASSERT_EQ(ra.layers.size(), a.layers.size());
    for (const LayerScore& l : ra.layers) {
      EXPECT_GT(l.attn, 0.0) << name;
      EXPECT_GT(l.ffn, 0.0) << name;
    }
  }
  // LLaMA layer by hand: q and o are d x d, k and v d x (kv * 128); gate/up d -> f, down f -> d.
  // E[capacity] = 0.02^2 * max(m, n).
  Evaluator an({"zerolm"}, options(Profile::Spec, Mode::Analytic));
  const auto r = an.evaluate(parse_encoding("LLAMA-d1024|h8-kv2-ff2816")).results[0];
  EXPECT_NEAR(r.layers[0].attn, 4e-4 * 1024 * 4, 1e-9);
  EXPECT_NEAR(r.layers[0].ffn, 4e-4 * 2816 * 3, 1e-9);
}

TEST(ZeroLM2, HandComputedResidualBound) {
  // gpt2-lts, d = 128, so each side counts up to 512. Layer 0: q, k, v, o are 128 x 128; the
  // feed-forward 128 -> 1024 -> 128 counts 128 x 512 twice. Layer 1: 128 -> 300 -> 128, unbounded.
  Evaluator an({"zerolm2"}, options(Profile::Spec, Mode::Analytic));
  const auto r = an.evaluate(parse_encoding("GPT2-d128-e128-v1|h2-ff1024|h4-ff300")).results[0];
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_DOUBLE_EQ(r.layers[0].attn, 4.0 * 128 * 128);
  EXPECT_DOUBLE_EQ(r.layers[0].ffn, 2.0 * 128 * 512);
  EXPECT_DOUBLE_EQ(r.layers[1].ffn, 2.0 * 128 * 300);
  EXPECT_DOUBLE_EQ(r.score, 8.0 * 128 * 128 + 2.0 * 128 * 512 + 2.0 * 128 * 300);
  // Within the conventional ratio it is the sub-modules' parameter count: LLaMA, d 1024 with two
  // key/value heads of 128 and a 2816-wide gated feed-forward (< 4 x 1024).
  const auto l = an.evaluate(parse_encoding("LLAMA-d1024|h8-kv2-ff2816")).results[0];
  EXPECT_DOUBLE_EQ(l.layers[0].attn, 2.0 * 1024 * 1024 + 2.0 * 1024 * 256);
  EXPECT_DOUBLE_EQ(l.layers[0].ffn, 3.0 * 1024 * 2816);
}

TEST(ZeroLM2, WeightsModeMatchesAnalyticOnEverySpace) {
  // The weights mode measures each matrix's energy in units of its init variance; on every space
  // and under both scale-aware inits it is within sampling noise of the closed form.
  for (const std::string& name : space_names()) {
    const Space& s = find_space(name);
    // The three smallest of 100 samples: drawing the weights of a 7B model would take minutes.
    Rng rng(5);
    std::vector<std::pair<std::int64_t, Arch>> drawn;
    for (int i = 0; i < 100; ++i) {
      Arch a = s.sample(rng);
      drawn.emplace_back(count_params(make_plan(a, Profile::Spec, false)), a);
    }
    std::sort(drawn.begin(), drawn.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (int i = 0; i < 3; ++i) {
      const Arch& a = drawn[i].second;
      for (const char* init : {"bert", "torch"}) {
        EvalOptions o = options(Profile::Spec, Mode::Weights);
        o.proxy.init.scheme = parse_init(init);
        Evaluator w({"zerolm2"}, o);
        o.proxy.mode = Mode::Analytic;
        Evaluator an({"zerolm2"}, o);
        const double rw = w.evaluate(a).results[0].score, ra = an.evaluate(a).results[0].score;
        EXPECT_NEAR(rw / ra, 1.0, 0.03) << name << " " << init << " " << encode(a);
        EXPECT_NE(rw, ra);
      }
    }
  }
}

TEST(ZeroLM, FlexibertOriginalScoresWithPerLayerWidths) {
  // A model of FlexiBERT's design space whose width changes twice scores in both modes, the
  // drawn weights within 2% of the expectation; per layer at its own width.
  const Arch a = find_space("flexibert-original")
                     .parse(
                         "H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3|DSC-9-h2-ff512x3|"
                         "H128:SA-WMA-h4-ff1024x1");
  Evaluator w({"zerolm", "params"}, options(Profile::Spec, Mode::Weights));
  Evaluator an({"zerolm"}, options(Profile::Spec, Mode::Analytic));
  const auto rw = w.evaluate(a).results, ra = an.evaluate(a).results;
  EXPECT_NEAR(rw[0].score / ra[0].score, 1.0, 0.02);
  EXPECT_EQ(rw[1].score, double(count_params(make_plan(a, Profile::Spec, false))));
  ASSERT_EQ(ra[0].layers.size(), 4u);
  // Layer 2 (LT at 256): one 256x256 input linear; FFN 256 -> 1024 -> 1024 -> 1024 -> 256.
  EXPECT_NEAR(ra[0].layers[1].attn, 4e-4 * 256, 1e-12);
  EXPECT_NEAR(ra[0].layers[1].ffn, 4e-4 * 1024 * 4, 1e-12);
}

std::unique_ptr<Proxy> make_proxy_for_test_never_called(const ProxyOptions&) {
  return nullptr;
}

TEST(Registry, RejectsDuplicatesAndNamesKnownProxies) {
  ProxyRegistry r;
  r.add({"a", "", make_proxy_for_test_never_called});
  EXPECT_THROW(r.add({"a", "", make_proxy_for_test_never_called}), std::logic_error);
  try {
    proxies().find("nope");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown proxy \"nope\": expected one of zerolm, zerolm2, params, params-nonemb, "
                 "flops, hidden-layers, synflow, snip, grad-norm, kept-norm, noop");
  }
}

// Scores of all 500 benchmark rows, computed once for the tests below.
struct Bench500 {
  std::vector<double> glue, published_params, weights, analytic, params;
  Bench500() {
    const Csv& csv = testing::flexibert_csv();
    glue = testing::column_values(csv, "glue");
    published_params = testing::column_values(csv, "tfm_number_of_parameters");
    const Space& space = find_space("flexibert-bench");
    std::vector<Arch> archs;
    for (const auto& row : csv.rows) archs.push_back(space.parse(row[csv.column("arch_encoding")]));
    for (const auto& e :
         evaluate_all(archs, {"zerolm", "params"}, options(Profile::Compat, Mode::Weights), 2)) {
      weights.push_back(e.results[0].score);
      params.push_back(e.results[1].score);
    }
    for (const auto& e :
         evaluate_all(archs, {"zerolm"}, options(Profile::Compat, Mode::Analytic), 1))
      analytic.push_back(e.results[0].score);
  }
  static const Bench500& get() {
    static const Bench500 b;
    return b;
  }
};

TEST(Benchmark500, WeightsModeWithinOnePercentOfAnalyticOnEveryRow) {
  const auto& b = Bench500::get();
  ASSERT_EQ(b.weights.size(), 500u);
  double worst = 0;
  for (std::size_t i = 0; i < b.weights.size(); ++i) {
    const double rel = std::abs(b.weights[i] / b.analytic[i] - 1);
    worst = std::max(worst, rel);
    EXPECT_LT(rel, 0.01) << "row " << i;
  }
  EXPECT_GT(worst, 0.0);  // the weights are real random draws, not the expectation
}

TEST(Benchmark500, ReproducesThePapersCorrelations) {
  const auto& b = Bench500::get();
  // Paper: Kendall 0.53, Spearman 0.76 (compat shapes, alpha 0.75).
  EXPECT_NEAR(kendall_tau_b(b.weights, b.glue), 0.53, 0.02);
  EXPECT_NEAR(spearman(b.weights, b.glue), 0.76, 0.02);
  EXPECT_NEAR(kendall_tau_b(b.analytic, b.glue), 0.533, 0.005);
  EXPECT_NEAR(spearman(b.analytic, b.glue), 0.762, 0.005);
  // Ranking agreement of the two modes.
  EXPECT_GT(kendall_tau_b(b.weights, b.analytic), 0.95);
}

TEST(Benchmark500, ParamsProxyEqualsPublishedCountOnEveryRow) {
  const auto& b = Bench500::get();
  EXPECT_EQ(b.params, b.published_params);
  EXPECT_NEAR(kendall_tau_b(b.params, b.glue), 0.454, 0.001);
  EXPECT_NEAR(spearman(b.params, b.glue), 0.653, 0.001);
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(GradientBaselines, DifferWhereParameterCountingCannot) {
  // DFT and DCT mixing have identical parameters but different forward passes, so gradients differ.
  const Arch dft = parse_encoding("H256|LT-DFT-h2-ff512x1|LT-DFT-h2-ff512x1");
  const Arch dct = parse_encoding("H256|LT-DCT-h2-ff512x1|LT-DCT-h2-ff512x1");
  Evaluator ev({"params", "synflow", "snip", "grad-norm"}, options(Profile::Compat, Mode::Weights));
  const auto a = ev.evaluate(dft), b = ev.evaluate(dct);
  EXPECT_EQ(a.results[0].score, b.results[0].score);
  for (int p = 1; p < 4; ++p) {
    EXPECT_TRUE(std::isfinite(a.results[p].score));
    EXPECT_GT(std::abs(a.results[p].score / b.results[p].score - 1), 0.01) << ev.proxy_names()[p];
  }
}

TEST(GradientBaselines, ScoringLeavesTheModelsWeightsAsTheyWere) {
  // SynFlow makes every weight positive while it scores; the model a caller passes in must get
  // its signed weights back. (Evaluator::evaluate builds a fresh model per call, so this is
  // checked on one model scored directly.)
  const Arch arch = parse_encoding("H128|SA-SDP-h2-ff512x1|LT-DFT-h2-ff512x1");
  const ModelPlan plan = make_plan(arch, Profile::Compat);
  for (const std::string name : {"synflow", "snip", "grad-norm"}) {
    TorchModel model(plan, torch::kCPU, InitSpec{}, 7);
    std::vector<torch::Tensor> before;
    for (const auto& t : model.parameters()) before.push_back(t.detach().clone());
    std::int64_t negative = 0;
    for (const auto& t : before) negative += (t < 0).sum().item<std::int64_t>();
    ASSERT_GT(negative, 0) << "weights of both signs";
    auto proxy = proxies().find(name).make(ProxyOptions{});
    const double first = proxy->score(ScoreInput{plan, &model}).score;
    const auto after = model.parameters();
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
      EXPECT_TRUE(torch::equal(after[i], before[i])) << name << ": " << plan.tensors[i].name;
      EXPECT_FALSE(after[i].requires_grad()) << name << ": " << plan.tensors[i].name;
    }
    EXPECT_EQ(proxy->score(ScoreInput{plan, &model}).score, first) << name;
  }
}

TEST(GradientBaselines, SnipGrowsWithTheWeights) {
  // SNIP is sum |w * g|: larger initial weights give a larger score at equal parameter count.
  const Arch a = parse_encoding("H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1");
  auto o = options(Profile::Spec, Mode::Weights);
  Evaluator small({"snip"}, o);
  o.proxy.init.std = 0.04;  // doubling the weights changes SNIP, unlike parameter counting
  Evaluator big({"snip"}, o);
  EXPECT_GT(big.evaluate(a).results[0].score, 1.2 * small.evaluate(a).results[0].score);
}

}  // namespace
}  // namespace zerolm
