// `zerolm bench`'s LibTorch-free parts: the protocols for a constant fitted on rows and the
// progress lines.
#include <gtest/gtest.h>

#include <cmath>

#include "driver/bench_protocol.h"
#include "driver/progress.h"
#include "proxy/ranking.h"
#include "spaces/rng.h"

namespace zerolm {
namespace {

struct Parts {
  std::vector<double> attn, ffn, truth, params;
};

// The truth is one part, the row index; the other part is noise far larger than the index's
// steps, so that only alpha 1 (truth = attn) or alpha 0 (truth = ffn) ranks perfectly.
Parts parts(std::size_t n, std::uint64_t seed, bool truth_is_attn) {
  Rng rng(seed);
  Parts p;
  for (std::size_t i = 0; i < n; ++i) {
    const double index = double(i), noise = double(rng.below(100000)) / 10.0;
    p.attn.push_back(truth_is_attn ? index : noise);
    p.ffn.push_back(truth_is_attn ? noise : index);
    p.params.push_back(1000.0 + double(rng.below(300)));
  }
  p.truth = truth_is_attn ? p.attn : p.ffn;
  return p;
}

TunableScore tunable(const Parts& p) {
  return {[&p](double a, const std::vector<std::size_t>& rows) {
            return combine(p.attn, p.ffn, a, rows);
          },
          p.truth, p.params};
}

TEST(BenchProtocol, FitOnOneBenchmarkIsBestAlpha) {
  Rng rng(3);
  Parts p;
  for (int i = 0; i < 80; ++i) {
    p.attn.push_back(double(rng.below(1000)));
    p.ffn.push_back(double(rng.below(1000)));
    p.truth.push_back(0.3 * p.attn.back() + p.ffn.back() + double(rng.below(400)));
    p.params.push_back(double(rng.below(1000)));
  }
  const TunableScore t = tunable(p);
  const auto grid = alpha_grid();
  const std::vector<std::size_t> rows = {1, 4, 9, 16, 25, 36, 49, 64, 70, 75, 79};
  EXPECT_EQ(fit_constant({{&t, rows}}, grid), best_alpha(p.attn, p.ffn, p.truth, rows, grid));
  EXPECT_EQ(fit_constant({{&t, {}}}, grid), best_alpha(p.attn, p.ffn, p.truth, {}, grid));
}

TEST(BenchProtocol, TransferOnOneBenchmarkIsSampleAlpha) {
  const Parts p = [] {
    Parts q = parts(120, 5, true);
    Rng rng(9);  // a truth that is not exactly either part
    for (double& t : q.truth) t += double(rng.below(40));
    return q;
  }();
  const auto grid = alpha_grid();
  const TransferResult t = transfer({tunable(p)}, 0, 30, 7, 11, grid);
  const SampledAlpha s = sample_alpha(p.attn, p.ffn, p.truth, p.params, 30, 7, 11, grid);
  EXPECT_EQ(t.constants, s.alphas);
  EXPECT_EQ(t.rows, std::vector<std::size_t>{90});
  EXPECT_EQ(t.mean[0].kendall, s.mean.kendall);
  EXPECT_EQ(t.mean[0].spearman, s.mean.spearman);
  EXPECT_EQ(t.mean[0].pw10, s.mean.pw10);
  EXPECT_EQ(t.sd[0].kendall, s.sd.kendall);
  EXPECT_EQ(t.sd[0].pw10, s.sd.pw10);
  EXPECT_GT(t.sd[0].kendall, 0);
}

TEST(BenchProtocol, TransferReportsTheFittedConstantOnEveryRowOfTheOthers) {
  const Parts a = parts(60, 1, true), b = parts(40, 2, false);
  int calls = 0;
  const TransferResult t = transfer({tunable(a), tunable(b)}, 0, 20, 4, 0, alpha_grid(),
                                    [&](int done) { EXPECT_EQ(done, ++calls); });
  EXPECT_EQ(calls, 4);
  // Fitted on a (truth = attn): alpha 1 on every split, a perfect ranking of a's other rows.
  EXPECT_EQ(t.constants, std::vector<double>(4, 1.0));
  EXPECT_EQ(t.rows, (std::vector<std::size_t>{40, 40}));
  EXPECT_DOUBLE_EQ(t.mean[0].kendall, 1.0);
  EXPECT_DOUBLE_EQ(t.sd[0].kendall, 0.0);
  // On all of b (truth = ffn) alpha 1 ranks by attn: b's figure is that of attn against ffn.
  EXPECT_NEAR(t.mean[1].kendall, kendall_tau_b(b.attn, b.ffn), 1e-12);
  EXPECT_NEAR(t.mean[1].spearman, spearman(b.attn, b.ffn), 1e-12);
  EXPECT_DOUBLE_EQ(t.sd[1].kendall, 0.0);
}

TEST(BenchProtocol, LeaveOneOutFitsOnTheOthers) {
  const Parts a = parts(50, 1, true), b = parts(50, 2, false);
  const auto grid = alpha_grid();
  // a is best ranked at alpha 1, b at alpha 0: each held out gets the other's alpha.
  EXPECT_EQ(leave_one_out({tunable(a), tunable(b)}, grid), (std::vector<double>{0.0, 1.0}));
  // Held out c (truth = attn), fitted on a and b together: the highest mean Kendall.
  const Parts c = parts(30, 3, true);
  const TunableScore ta = tunable(a), tb = tunable(b);
  double best = -2, best_alpha_ab = 0;
  for (double g : grid) {
    const double m = (kendall_tau_b(combine(a.attn, a.ffn, g), a.truth) +
                      kendall_tau_b(combine(b.attn, b.ffn, g), b.truth)) /
                     2;
    if (m > best) best = m, best_alpha_ab = g;
  }
  EXPECT_EQ(leave_one_out({ta, tb, tunable(c)}, grid)[2], best_alpha_ab);
  EXPECT_EQ(fit_constant({{&ta, {}}, {&tb, {}}}, grid), best_alpha_ab);
  EXPECT_THROW(leave_one_out({ta}, grid), std::invalid_argument);
}

TEST(Progress, QuietWhileShortThenAtMostOneLinePerInterval) {
  double now = 0;
  std::vector<std::string> lines;
  {
    ProgressReporter p(
        "bootstrap", 10, "rows", 2, 5, [&](const std::string& l) { lines.push_back(l); },
        [&] { return now; });
    now = 0.5, p.step("proxy a");
    now = 1.9, p.step("proxy b");
    EXPECT_TRUE(lines.empty());
    now = 2.6, p.step("proxy c");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "bootstrap 3/10 rows, proxy c (3 s)");
    now = 7.0, p.step("proxy d");  // 4.4 s after the last line
    EXPECT_EQ(lines.size(), 1u);
    now = 7.7, p.step("proxy e");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1], "bootstrap 5/10 rows, proxy e (8 s)");
    now = 9.0, p.update(10);
  }
  ASSERT_EQ(lines.size(), 3u);  // the last line, from the destructor
  EXPECT_EQ(lines[2], "bootstrap 10/10 rows, done (9 s)");

  lines.clear();
  {
    ProgressReporter quick(
        "splits", 3, "splits", 2, 5, [&](const std::string& l) { lines.push_back(l); },
        [&] { return now; });
    for (int i = 0; i < 3; ++i) quick.step();
    quick.finish();
  }
  EXPECT_TRUE(lines.empty()) << lines.front();
}

}  // namespace
}  // namespace zerolm
