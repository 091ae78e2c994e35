#include <gtest/gtest.h>

#include <cmath>

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
