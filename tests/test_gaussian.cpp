#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spaces/gaussian.h"

namespace zerolm {
namespace {

// Standard normal CDF.
double phi(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

TEST(Gaussian, MomentsTailsAndCdfOfFourMillionDraws) {
  const std::int64_t n = 1 << 22;
  std::vector<float> v(n);
  fill_normal(v.data(), n, 0.0f, 1.0f, 12345);
  double m = 0, m2 = 0, m4 = 0;
  std::int64_t beyond3 = 0, beyond4 = 0;
  for (float x : v) {
    m += x;
    m2 += double(x) * x;
    m4 += double(x) * x * x * x;
    beyond3 += std::fabs(x) > 3;
    beyond4 += std::fabs(x) > 4;
  }
  m /= n;
  m2 /= n;
  m4 /= n;
  // Standard errors at n = 4.2M: mean 5e-4, variance 7e-4, fourth moment 5e-3.
  EXPECT_NEAR(m, 0.0, 2.5e-3);
  EXPECT_NEAR(m2, 1.0, 3.5e-3);
  EXPECT_NEAR(m4, 3.0, 0.03);
  EXPECT_NEAR(double(beyond3) / n, 2 * (1 - phi(3)), 1.5e-4);  // 0.0027, the Ziggurat's tail path
  EXPECT_NEAR(double(beyond4) / n, 2 * (1 - phi(4)), 2.5e-5);
  // Kolmogorov-Smirnov distance on a grid: well under 1.36 / sqrt(n) = 6.6e-4.
  std::vector<std::int64_t> below(81);
  for (float x : v)
    for (int k = 0; k < 81; ++k) below[k] += x < -4 + 0.1 * k;
  double ks = 0;
  for (int k = 0; k < 81; ++k)
    ks = std::max(ks, std::fabs(double(below[k]) / n - phi(-4 + 0.1 * k)));
  EXPECT_LT(ks, 6.6e-4);
}

TEST(Gaussian, SeededScaledAndShifted) {
  std::vector<float> a(1001), b(1001), c(1001), d(1001);
  fill_normal(a.data(), 1001, 0.0f, 1.0f, 7);
  fill_normal(b.data(), 1001, 0.0f, 1.0f, 7);
  fill_normal(c.data(), 1001, 0.0f, 1.0f, 8);
  fill_normal(d.data(), 1001, 5.0f, 0.02f, 7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (int i = 0; i < 1001; ++i) EXPECT_FLOAT_EQ(d[i], 5.0f + 0.02f * a[i]);
  // Neighbouring draws are uncorrelated (lag-1 correlation of 1M draws ~ N(0, 1e-3)).
  std::vector<float> v(1 << 20);
  fill_normal(v.data(), std::int64_t(v.size()), 0.0f, 1.0f, 99);
  double lag = 0;
  for (std::size_t i = 1; i < v.size(); ++i) lag += double(v[i]) * v[i - 1];
  EXPECT_NEAR(lag / double(v.size()), 0.0, 4e-3);
}

}  // namespace
}  // namespace zerolm
