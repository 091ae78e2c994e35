#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "proxy/metrics.h"
#include "proxy/ranking.h"

namespace zerolm {
namespace {

TEST(Ranking, PairwiseKendallOnlyCountsSimilarSizes) {
  // params 100, 105, 200, 210: similar pairs (0,1) and (2,3) only.
  const std::vector<double> params = {100, 105, 200, 210};
  const std::vector<double> truth = {1, 2, 3, 4};
  // Pair (0,1) concordant, pair (2,3) discordant: tau = 0.
  EXPECT_NEAR(pw_kendall({1, 2, 4, 3}, truth, params), 0.0, 1e-12);
  EXPECT_NEAR(pw_kendall({1, 2, 3, 4}, truth, params), 1.0, 1e-12);
  // The dissimilar pairs, all discordant here, do not count.
  EXPECT_NEAR(pw_kendall({10, 11, 1, 2}, truth, params), 1.0, 1e-12);
  // With a tie in the proxy on (0,1): C=1 (pair 2,3), tx=1 -> 1/sqrt(2*1).
  EXPECT_NEAR(pw_kendall({5, 5, 1, 2}, truth, params), 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_TRUE(std::isnan(pw_kendall({1, 2}, {1, 2}, {1, 100})));
}

TEST(Ranking, SplitsAreDisjointCompleteSeededAndVaried) {
  std::set<std::vector<std::size_t>> fits;
  for (int s = 0; s < 20; ++s) {
    const Split sp = make_split(500, 50, 7, s);
    ASSERT_EQ(sp.fit.size(), 50u);
    ASSERT_EQ(sp.report.size(), 450u);
    std::set<std::size_t> all(sp.fit.begin(), sp.fit.end());
    for (std::size_t r : sp.report)
      EXPECT_EQ(all.count(r), 0u) << "row " << r << " fits and reports";
    all.insert(sp.report.begin(), sp.report.end());
    EXPECT_EQ(all.size(), 500u);
    EXPECT_EQ(make_split(500, 50, 7, s).fit, sp.fit);
    fits.insert(sp.fit);
  }
  EXPECT_EQ(fits.size(), 20u);
  EXPECT_NE(make_split(500, 50, 8, 0).fit, make_split(500, 50, 7, 0).fit);
}

TEST(Ranking, BestAlphaRecoversTheGeneratingBalance) {
  // truth = 0.3 * attn + 0.7 * ffn exactly: every alpha near 0.3 ranks perfectly; the grid's
  // first perfect alpha is returned and it ranks the rows exactly like the truth.
  std::vector<double> attn, ffn, truth;
  for (int i = 0; i < 40; ++i) {
    attn.push_back(std::sin(i * 1.7) + 2);
    ffn.push_back(std::cos(i * 0.9) + 2);
    truth.push_back(0.3 * attn.back() + 0.7 * ffn.back());
  }
  const double a = best_alpha(attn, ffn, truth, {}, alpha_grid());
  EXPECT_NEAR(kendall_tau_b(combine(attn, ffn, a), truth), 1.0, 1e-12);
  EXPECT_NEAR(a, 0.3, 0.1);
  EXPECT_EQ(alpha_grid().size(), 61u);
  EXPECT_DOUBLE_EQ(alpha_grid().front(), -1.5);
  EXPECT_DOUBLE_EQ(alpha_grid().back(), 1.5);
}

TEST(Ranking, SampledAlphaReportsOnHeldOutRowsOnly) {
  std::vector<double> attn, ffn, truth, params;
  for (int i = 0; i < 100; ++i) {
    attn.push_back(i % 7);
    ffn.push_back(i % 11);
    truth.push_back(0.5 * (i % 7) + 0.5 * (i % 11));
    params.push_back(1000 + i);
  }
  const SampledAlpha s = sample_alpha(attn, ffn, truth, params, 20, 5, 3, alpha_grid());
  ASSERT_EQ(s.alphas.size(), 5u);
  ASSERT_EQ(s.held_out.size(), 5u);
  for (int k = 0; k < 5; ++k) {
    const Split sp = make_split(100, 20, 3, k);
    const auto m = compute_metrics(combine(attn, ffn, s.alphas[k], sp.report),
                                   select(truth, sp.report), select(params, sp.report));
    EXPECT_DOUBLE_EQ(m.kendall, s.held_out[k].kendall);
  }
  EXPECT_GT(s.mean.kendall, 0.9);
}

TEST(Ranking, GroupedMetricsWeightByGroupSize) {
  // Group a (4 rows): proxy ranks perfectly; group b (2 rows) is too small; group c (3 rows):
  // perfectly reversed. Weighted Kendall = (4 * 1 + 3 * -1) / 7.
  const std::vector<std::string> keys = {"a", "a", "a", "a", "b", "b", "c", "c", "c"};
  const std::vector<double> proxy = {1, 2, 3, 4, 1, 2, 3, 2, 1};
  const std::vector<double> truth = {1, 2, 3, 4, 2, 1, 1, 2, 3};
  const std::vector<double> params = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  std::size_t used = 0;
  const Metrics m = grouped_metrics(proxy, truth, params, keys, &used);
  EXPECT_EQ(used, 7u);
  EXPECT_NEAR(m.kendall, 1.0 / 7.0, 1e-12);
  EXPECT_NEAR(m.spearman, 1.0 / 7.0, 1e-12);
}

TEST(Ranking, BootstrapIntervalContainsTheEstimate) {
  std::vector<double> x, y, p;
  for (int i = 0; i < 200; ++i) {
    x.push_back(i + 30 * std::sin(i));
    y.push_back(i);
    p.push_back(1000 + (i % 13));
  }
  const MetricIntervals iv = bootstrap(x, y, p, 300, 1);
  const double k = kendall_tau_b(x, y);
  EXPECT_LT(iv.kendall.lo, k);
  EXPECT_GT(iv.kendall.hi, k);
  EXPECT_LT(iv.kendall.hi - iv.kendall.lo, 0.2);
  const MetricIntervals again = bootstrap(x, y, p, 300, 1);
  EXPECT_EQ(again.kendall.lo, iv.kendall.lo);
}

}  // namespace
}  // namespace zerolm
