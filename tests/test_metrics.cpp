#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "proxy/metrics.h"

namespace zerolm {
namespace {

TEST(Metrics, RanksAverageTies) {
  EXPECT_EQ(rank_average({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
}

TEST(Metrics, KendallWithoutTies) {
  // Pairs of (1,2,3,4) vs (1,3,2,4): 5 concordant, 1 discordant -> 4/6.
  EXPECT_NEAR(kendall_tau_b({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(kendall_tau_b({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
}

TEST(Metrics, KendallTauBWithTiesByHand) {
  // x = (1, 2, 2, 3), y = (1, 3, 2, 2). Pairs: (0,1) C, (0,2) C, (0,3) C, (1,2) tie in x,
  // (1,3) D, (2,3) tie in y. C=3, D=1, tx=1, ty=1 -> (3-1)/sqrt(5*5) = 0.4.
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 2}), 0.4, 1e-12);
  // A pair tied in both counts in neither: x=(1,1,2), y=(5,5,6): C=2, D=0, no one-sided ties.
  EXPECT_NEAR(kendall_tau_b({1, 1, 2}, {5, 5, 6}), 1.0, 1e-12);
  EXPECT_TRUE(std::isnan(kendall_tau_b({1, 1, 1}, {1, 2, 3})));
}

TEST(Metrics, KnightKendallEqualsThePairLoopOnRandomDataWithTies) {
  // Values from few levels, so that ties in a, in b and in both are frequent; sizes 0..300.
  std::uint64_t state = 12345;
  auto next = [&](int levels) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return double((state >> 33) % std::uint64_t(levels));
  };
  int compared = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = std::size_t(next(300));
    const int la = 2 + int(next(20)), lb = 2 + int(next(20));
    std::vector<double> a(n), b(n);
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = next(la);
      b[i] = trial % 3 == 0 ? a[i] + next(3) : next(lb);  // every third trial correlated
    }
    const double fast = kendall_tau_b(a, b), slow = kendall_tau_b_quadratic(a, b);
    if (std::isnan(slow)) {
      EXPECT_TRUE(std::isnan(fast)) << "trial " << trial;
      continue;
    }
    EXPECT_EQ(fast, slow) << "trial " << trial << ", n " << n;  // bit for bit: integer counts
    ++compared;
  }
  EXPECT_GT(compared, 150);
  // A NaN falls back to the pair loop.
  EXPECT_EQ(kendall_tau_b({1, NAN, 3, 2}, {1, 2, 3, 4}),
            kendall_tau_b_quadratic({1, NAN, 3, 2}, {1, 2, 3, 4}));
}

TEST(Metrics, SpearmanAndPearsonByHand) {
  EXPECT_NEAR(pearson({1, 2, 3}, {2, 4, 7}), 0.9933992677987828, 1e-12);
  // Ranks of (1, 2, 2, 3) = (1, 2.5, 2.5, 4); of (1, 3, 2, 2) = (1, 4, 2.5, 2.5).
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 2}), pearson({1, 2.5, 2.5, 4}, {1, 4, 2.5, 2.5}),
              1e-12);
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 2}), 0.5, 1e-12);  // cov 2.25 / var 4.5
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 8, 27, 64}), 1.0, 1e-12);
}

}  // namespace
}  // namespace zerolm
