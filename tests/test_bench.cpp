// `zerolm bench`'s LibTorch-free parts: the protocols for a constant fitted on rows, the progress
// lines, the table over several benchmarks, and how a benchmark argument and file are read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

#include "driver/bench_protocol.h"
#include "driver/benchmark.h"
#include "proxy/ranking.h"
#include "report/bench_report.h"
#include "report/progress.h"
#include "spaces/errors.h"
#include "spaces/rng.h"
#include "tests/testing.h"

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

BenchRow row(const std::string& proxy, const std::string& source, double kendall,
             const std::string& alpha = "") {
  BenchRow r;
  r.proxy = proxy;
  r.source = source;
  r.kendall.value = kendall;
  r.alpha = alpha;
  r.n = 10;
  return r;
}

TEST(BenchReport, MergedRowsKeepOrderAndLeaveMissingCellsEmpty) {
  const auto m = merge_rows({{row("zerolm", "zerolm", 0.5, "heuristic 0.80"),
                              row("params", "zerolm", 0.4), row("tfm_x", "published", 0.3)},
                             {row("zerolm", "zerolm", 0.7, "heuristic 1.10"),
                              row("params", "zerolm", 0.6), row("params_Attn", "published", 0.9)}});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].proxy, "zerolm");
  EXPECT_EQ(m[0].alpha, "heuristic 0.80 / heuristic 1.10");
  EXPECT_EQ(m[1].alpha, "");
  EXPECT_EQ(m[1].on[1].kendall.value, 0.6);
  EXPECT_EQ(m[2].proxy, "tfm_x");
  EXPECT_EQ(m[2].on[1].n, 0u);
  EXPECT_EQ(m[3].proxy, "params_Attn");
  EXPECT_EQ(m[3].on[0].n, 0u);

  ReportContext ctx;
  ctx.profiles = {"spec"};
  ctx.benchmarks = {{"one", "a/one.csv", "glue", false, 10, false},
                    {"two", "b/two.csv", "valid_ppl", true, 10, true}};
  ProfileResult r;
  r.multi = m;
  const std::string csv = render_report(ctx, {r}, Format::Csv);
  EXPECT_EQ(
      csv.substr(0, csv.find('\n')).rfind("proxy,one_kendall,one_spearman,one_pw10_kendall,", 0),
      0u)
      << csv;
  EXPECT_NE(csv.find("\ntfm_x,0.3,,,"), std::string::npos) << csv;                  // NaN: empty
  EXPECT_NE(csv.find(",,,,,,,,,,,,,published,spec,\n"), std::string::npos) << csv;  // two: empty
  const std::string md = render_report(ctx, {r}, Format::Markdown);
  EXPECT_NE(md.find("**profile spec**"), std::string::npos) << md;
  EXPECT_NE(md.find("- two: 10 architectures of b/two.csv, truth valid_ppl (lower is better, "
                    "negated); shapes as encoded"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| proxy | one kendall | one spearman | one pw10_kendall | two kendall |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| params_Attn (published) |  |  |  | 0.900 |"), std::string::npos) << md;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(BenchmarkArg, OptionsFollowTheFileAndUnknownKeysAreNamed) {
  BenchmarkSource d;
  d.truth = "glue";
  const BenchmarkSource s = parse_benchmark_arg(
      "x/lts.csv,truth=valid_ppl,lower-is-better,space=gpt2-lts,reference-prefix=params_,"
      "reference-prefix=n_,name=lts",
      d);
  EXPECT_EQ(s.path, "x/lts.csv");
  EXPECT_EQ(s.truth, "valid_ppl");
  EXPECT_EQ(s.orientation, Orientation::LowerIsBetter);
  EXPECT_EQ(s.space, "gpt2-lts");
  EXPECT_EQ(s.reference_prefixes, (std::vector<std::string>{"params_", "n_"}));
  EXPECT_EQ(s.name, "lts");
  const BenchmarkSource plain = parse_benchmark_arg("x/a.csv", d);
  EXPECT_EQ(plain.truth, "glue");
  EXPECT_EQ(plain.reference_prefixes, d.reference_prefixes);
  EXPECT_EQ(parse_benchmark_arg("a.csv,higher-is-better", d).orientation,
            Orientation::HigherIsBetter);
  const std::string m = message_of([&] { parse_benchmark_arg("a.csv,truht=ppl", d); });
  EXPECT_EQ(
      m.rfind("--benchmark \"a.csv,truht=ppl\": unknown key \"truht\"; expected FILE followed "
              "by truth=COLUMN, lower-is-better, higher-is-better, space=SPACE",
              0),
      0u)
      << m;
  EXPECT_NE(message_of([&] { parse_benchmark_arg("a.csv,space=tiny", d); }).find("unknown space"),
            std::string::npos);
  EXPECT_NE(message_of([&] { parse_benchmark_arg("a.csv,truth=", d); }).find("truth needs a value"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              parse_benchmark_arg("a.csv,lower-is-better,higher-is-better", d);
            }).find("both given"),
            std::string::npos);
  EXPECT_EQ(benchmark_stem("../shared/benchmarks/lts_gpt2_wt103.csv"), "lts_gpt2_wt103");
}

TEST(BenchmarkRead, TruthColumnIsInferredWithItsOrientation) {
  BenchmarkSource src;
  src.path = testing::shared_path("benchmarks/lts_gpt2_wt103.csv");
  src.reference_prefixes = {};
  const Benchmark lts = read_benchmark(src);
  EXPECT_EQ(lts.name, "lts_gpt2_wt103");
  EXPECT_EQ(lts.truth, "valid_ppl");
  EXPECT_TRUE(lts.lower_is_better);
  EXPECT_EQ(lts.space->name(), "gpt2-lts");
  ASSERT_EQ(lts.archs.size(), 200u);
  EXPECT_NEAR(lts.truth_values[0], -45.022968707221274, 1e-9);  // negated valid_ppl of row 1
  EXPECT_FALSE(shapes_follow_profile(lts));
  src.truth = "test_ppl";  // named: still lower is better, unless said otherwise
  EXPECT_TRUE(read_benchmark(src).lower_is_better);
  src.orientation = Orientation::HigherIsBetter;
  EXPECT_FALSE(read_benchmark(src).lower_is_better);
  src.truth = "train_elapsed_s";  // any other column: higher is better unless said otherwise
  src.orientation = Orientation::Auto;
  EXPECT_FALSE(read_benchmark(src).lower_is_better);
  src.orientation = Orientation::LowerIsBetter;
  EXPECT_TRUE(read_benchmark(src).lower_is_better);
  src.truth = "";
  src.orientation = Orientation::Auto;

  src.path = testing::shared_path("benchmarks/flexibert_glue.csv");
  const Benchmark flex = read_benchmark(src);
  EXPECT_EQ(flex.truth, "glue");
  EXPECT_FALSE(flex.lower_is_better);
  EXPECT_NEAR(flex.truth_values[0], 74.73375, 1e-9);
  EXPECT_TRUE(shapes_follow_profile(flex));
}

TEST(BenchmarkRead, SkipInvalidSkipsRowsTheSpaceCannotExpress) {
  const std::string path =
      ::testing::TempDir() + "zerolm_bench_skip_" + std::to_string(::getpid()) + ".csv";
  {
    std::ofstream f(path);
    f << "arch_encoding,glue\n";
    f << "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1,70\n";
    f << "H300|SA-SDP-h7-ff512x1|SA-SDP-h2-ff512x1,71\n";  // 7 heads do not divide 300
    f << "H128|SA-SDP-h2-ff512x1|SA-SDP-h4-ff1024x3,72\n";
    f << "H128|XX-h2-ff512x1,73\n";  // not an encoding
    f << "H256|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1,74\n";
  }
  BenchmarkSource src;
  src.path = path;
  const std::string m = message_of([&] { read_benchmark(src); });
  EXPECT_NE(m.find(".csv:3: \"H300|SA-SDP-h7-ff512x1|SA-SDP-h2-ff512x1\": layer 1: hidden size "
                   "300 is not divisible by 7 heads"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("; --skip-invalid skips such rows"), std::string::npos) << m;
  src.skip_invalid = true;
  const Benchmark b = read_benchmark(src);
  EXPECT_EQ(b.archs.size(), 3u);
  EXPECT_EQ(b.invalid_skipped, 2u);
  EXPECT_EQ(b.truth_values, (std::vector<double>{70, 72, 74}));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace zerolm
