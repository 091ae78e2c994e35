// Time per architecture of `zerolm score` on the FlexiBERT-500 benchmark (compat shapes), in
// weights mode and analytic mode, on one CPU core: the median of repeated passes over all rows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/median.h"
#include "driver/inputs.h"
#include "proxy/evaluator.h"
#include "proxy/torch_runtime.h"

using namespace zerolm;

namespace {

// Seconds for one pass of the evaluator over all architectures.
double pass(Evaluator& ev, const std::vector<Arch>& archs, double& checksum) {
  const auto t0 = std::chrono::steady_clock::now();
  for (const Arch& a : archs) checksum += ev.evaluate(a).results[0].score;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BENCHMARK_CSV [repeats=5] [analytic_repeats=200]\n", argv[0]);
    return 2;
  }
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 5;
  const int analytic_repeats = argc > 3 ? std::stoi(argv[3]) : 200;
  set_torch_threads(1);
  const auto archs = parse_archs(find_space("flexibert-bench"), read_arch_file(argv[1]));
  EvalOptions opt;
  opt.profile = Profile::Compat;
  opt.proxy.alpha = 0.75;
  double checksum = 0;

  opt.proxy.mode = Mode::Weights;
  Evaluator weights({"zerolm"}, opt);
  pass(weights, archs, checksum);  // warm-up: allocator and LibTorch dispatch caches
  std::vector<double> w;
  for (int r = 0; r < repeats; ++r) w.push_back(pass(weights, archs, checksum) / archs.size());

  opt.proxy.mode = Mode::Analytic;
  Evaluator analytic({"zerolm"}, opt);
  pass(analytic, archs, checksum);
  std::vector<double> a;
  for (int r = 0; r < analytic_repeats; ++r)
    a.push_back(pass(analytic, archs, checksum) / archs.size());

  std::printf(
      "archs=%zu weights_ms_per_arch=%.2f (median of %d, min %.2f max %.2f) "
      "analytic_us_per_arch=%.2f (median of %d) checksum=%.6g\n",
      archs.size(), median(w) * 1e3, repeats, *std::min_element(w.begin(), w.end()) * 1e3,
      *std::max_element(w.begin(), w.end()) * 1e3, median(a) * 1e6, analytic_repeats, checksum);
  return 0;
}
