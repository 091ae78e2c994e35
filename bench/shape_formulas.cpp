// Shape formulas against a benchmark: the measurements behind docs/beyond-size.md. Each formula is
// a function of the model plan's attention and feed-forward matrices (m x n, in the layer of
// residual width d); printed with Kendall, Spearman and pw10 (pairs within 10% in parameters).
// Usage: shape_formulas BENCHMARK.csv[,truth=COLUMN,...] PROFILE (the options of zerolm bench's
// --benchmark; the truth column is inferred as there)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "driver/benchmark.h"
#include "proxy/ranking.h"
#include "spaces/plan.h"

using namespace zerolm;

namespace {

// Sum over the layers' attention and feed-forward matrices of f(m, n, d).
double sum_matrices(const ModelPlan& plan, const std::function<double(double, double, double)>& f,
                    bool attention = true, bool ffn = true) {
  double s = 0;
  for (const TensorSpec& t : plan.tensors) {
    if (t.kind != ParamKind::Linear || t.layer < 0) continue;
    if (!(attention && t.group == ParamGroup::Attention) && !(ffn && t.group == ParamGroup::FFN))
      continue;
    s += f(double(t.shape[0]), double(t.shape[1]), double(plan.layers[t.layer].hidden));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: shape_formulas BENCHMARK.csv[,truth=COLUMN,...] PROFILE\n");
    return 2;
  }
  try {
    BenchmarkSource defaults;
    defaults.reference_prefixes = {};
    const BenchmarkSource src = parse_benchmark_arg(argv[1], defaults);
    const Profile profile = parse_profile(argv[2]);
    const Benchmark b = read_benchmark(src);

    using Formula = std::function<double(const ModelPlan&)>;
    auto res = [](double r) {
      return [r](const ModelPlan& p) {
        return sum_matrices(p, [r](double m, double n, double d) {
          return std::min(m, r * d) * std::min(n, r * d);
        });
      };
    };
    const std::vector<std::pair<std::string, Formula>> formulas = {
        {"params of the sub-modules: sum m*n",
         [](const ModelPlan& p) {
           return sum_matrices(p, [](double m, double n, double) { return m * n; });
         }},
        {"attention parameters only",
         [](const ModelPlan& p) {
           return sum_matrices(
               p, [](double m, double n, double) { return m * n; }, true, false);
         }},
        {"feed-forward parameters only",
         [](const ModelPlan& p) {
           return sum_matrices(
               p, [](double m, double n, double) { return m * n; }, false, true);
         }},
        {"msv shape: sum max(m,n) (ZeroLM alpha 0.5)",
         [](const ModelPlan& p) {
           return sum_matrices(p, [](double m, double n, double) { return std::max(m, n); });
         }},
        {"sum min(m,n)",
         [](const ModelPlan& p) {
           return sum_matrices(p, [](double m, double n, double) { return std::min(m, n); });
         }},
        {"sum sqrt(m*n)",
         [](const ModelPlan& p) {
           return sum_matrices(p, [](double m, double n, double) { return std::sqrt(m * n); });
         }},
        {"sum min(m,n)^2 (rank-limited)",
         [](const ModelPlan& p) {
           return sum_matrices(
               p, [](double m, double n, double) { return std::min(m, n) * std::min(m, n); });
         }},
        {"hidden x layers",
         [](const ModelPlan& p) {
           double s = 0;
           for (const LayerPlan& l : p.layers) s += double(l.hidden);
           return s;
         }},
        {"hidden^2 x layers",
         [](const ModelPlan& p) {
           double s = 0;
           for (const LayerPlan& l : p.layers) s += double(l.hidden) * double(l.hidden);
           return s;
         }},
        {"residual-bounded, ratio 1", res(1)},
        {"residual-bounded, ratio 2", res(2)},
        {"residual-bounded, ratio 4 (zerolm2)", res(4)},
        {"residual-bounded, ratio 8", res(8)},
        {"residual-bounded, ratio 16", res(16)},
    };

    std::vector<double> params;
    std::vector<ModelPlan> plans;
    for (const Arch& a : b.archs) {
      plans.push_back(make_plan(a, profile, false));
      params.push_back(double(count_params(plans.back())));
    }
    std::printf("%s, truth %s%s, profile %s, %zu rows\n", b.path.c_str(), b.truth.c_str(),
                b.lower_is_better ? " (lower is better)" : "", argv[2], b.archs.size());
    std::printf("%-45s %8s %8s %8s\n", "formula", "kendall", "spearman", "pw10");
    for (const auto& [name, f] : formulas) {
      std::vector<double> x;
      for (const ModelPlan& p : plans) x.push_back(f(p));
      const Metrics m = compute_metrics(x, b.truth_values, params);
      std::printf("%-45s %8.3f %8.3f %8.3f\n", name.c_str(), m.kendall, m.spearman, m.pw10);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shape_formulas: %s\n", e.what());
    return 2;
  }
}
