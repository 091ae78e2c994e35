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

TEST(Ranking, FastPairwiseKendallEqualsThePairLoopOnRandomDataWithTies) {
  // Proxy, truth and parameter counts from few levels, so that ties in each (and in all three)
  // are frequent; the counts include 0 and pairs exactly 10% apart (90 and 100, 900 and 1000:
  // not compared, as |x - y| < 0.1 * max is strict), and sizes up to 400 rows.
  std::uint64_t state = 99;
  auto next = [&](int levels) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return int((state >> 33) % std::uint64_t(levels));
  };
  const std::vector<double> sizes = {0,   81,  89,  90,   91,   99,   100,  101, 109,
                                     110, 111, 900, 1000, 1099, 1100, 1111, 5e6, 5.4e6};
  int compared = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = std::size_t(next(400));
    const int la = 2 + next(30), lb = 2 + next(30);
    std::vector<double> a(n), b(n), p(n);
    for (std::size_t i = 0; i < n; ++i) {
      // Every other trial draws counts from a wide log-uniform range instead.
      p[i] = trial % 2 ? sizes[std::size_t(next(int(sizes.size())))]
                       : std::round(std::pow(10.0, 3 + next(1000) / 500.0));
      a[i] = next(la);
      b[i] = trial % 3 == 0 ? a[i] + next(3) : next(lb);
    }
    for (double rel : {0.10, 0.0, 0.25, 1.5}) {
      const double fast = pw_kendall(a, b, p, rel), slow = pw_kendall_quadratic(a, b, p, rel);
      if (std::isnan(slow)) {
        EXPECT_TRUE(std::isnan(fast)) << "trial " << trial << ", rel " << rel;
        continue;
      }
      EXPECT_EQ(fast, slow) << "trial " << trial << ", n " << n << ", rel " << rel;
      ++compared;
    }
  }
  EXPECT_GT(compared, 600);
  // The boundary itself: 90 and 100 are not compared, 91 and 100 are.
  EXPECT_TRUE(std::isnan(pw_kendall({1, 2}, {1, 2}, {90, 100})));
  EXPECT_EQ(pw_kendall({1, 2}, {1, 2}, {91, 100}), 1.0);
  EXPECT_EQ(pw_kendall({1, 2, 3}, {1, 2, 0}, {900, 1000, 1099}),
            pw_kendall_quadratic({1, 2, 3}, {1, 2, 0}, {900, 1000, 1099}));
  // A NaN or a negative count falls back to the pair loop.
  const std::vector<double> x = {1, 2, 3, 4}, y = {2, 1, 3, 4};
  EXPECT_EQ(pw_kendall(x, y, {100, NAN, 101, 102}),
            pw_kendall_quadratic(x, y, {100, NAN, 101, 102}));
  EXPECT_EQ(pw_kendall(x, y, {-100, -101, 101, 102}),
            pw_kendall_quadratic(x, y, {-100, -101, 101, 102}));
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

TEST(Ranking, BootstrapIsTheSameOnAnyNumberOfThreadsAndReportsProgress) {
  std::vector<double> x, y, p;
  for (int i = 0; i < 150; ++i) {
    x.push_back(i + 40 * std::cos(i));
    y.push_back(i % 37);
    p.push_back(1000 + 10 * (i % 29));
  }
  std::vector<int> seen;
  const MetricIntervals one = bootstrap(x, y, p, 101, 5, 1, [&](int done, int total) {
    EXPECT_EQ(total, 101);
    seen.push_back(done);
  });
  ASSERT_EQ(seen.size(), 101u);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], int(i) + 1);
  std::vector<int> seen3;
  const MetricIntervals three =
      bootstrap(x, y, p, 101, 5, 3, [&](int done, int) { seen3.push_back(done); });
  ASSERT_EQ(seen3.size(), 101u);
  EXPECT_EQ(seen3.back(), 101);
  for (const auto& [a, b] : {std::pair{one.kendall, three.kendall},
                             {one.spearman, three.spearman},
                             {one.pearson, three.pearson},
                             {one.pw10, three.pw10}}) {
    EXPECT_EQ(a.lo, b.lo);
    EXPECT_EQ(a.hi, b.hi);
    EXPECT_LT(a.lo, a.hi);
  }
  // Another seed draws other resamples.
  EXPECT_NE(bootstrap(x, y, p, 101, 6, 2).kendall.lo, one.kendall.lo);
}

}  // namespace
}  // namespace zerolm
