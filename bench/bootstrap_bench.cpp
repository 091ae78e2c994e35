// Time of `zerolm bench`'s bootstrap at the scale of real benchmarks: 1000 resamples (by
// default) of 15,674 synthetic rows, all four metrics (Kendall, Spearman, Pearson, pw10), and the
// time of each metric on one set of rows. Medians of repeated runs.
// Usage: bootstrap_bench [resamples=1000] [runs=3] [rows=15674] [threads=0: one per core]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/median.h"
#include "proxy/metrics.h"
#include "proxy/ranking.h"
#include "spaces/rng.h"

using namespace zerolm;

namespace {

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int resamples = argc > 1 ? std::stoi(argv[1]) : 1000;
  const int runs = argc > 2 ? std::stoi(argv[2]) : 3;
  const std::size_t n = argc > 3 ? std::stoul(argv[3]) : 15674;
  const int threads = argc > 4 ? std::stoi(argv[4]) : 0;
  // Parameter counts log-uniform over two decades and rounded to 1000 (so some rows share a
  // count, as architectures of one space do), a proxy that follows the count with noise, and a
  // truth that follows the proxy with more noise; scores rounded so that both have ties.
  Rng rng(11);
  std::vector<double> proxy(n), truth(n), params(n);
  for (std::size_t i = 0; i < n; ++i) {
    params[i] = std::round(std::pow(10.0, 6 + 2 * rng.uniform()) / 1000) * 1000;
    proxy[i] = std::round((std::log(params[i]) + rng.uniform()) * 100) / 100;
    truth[i] = std::round((proxy[i] + 2 * rng.uniform()) * 100) / 100;
  }

  std::vector<double> k, s, p, w;
  double check = 0;
  for (int r = 0; r < runs; ++r) {
    k.push_back(seconds([&] { check += kendall_tau_b(proxy, truth); }));
    s.push_back(seconds([&] { check += spearman(proxy, truth); }));
    p.push_back(seconds([&] { check += pearson(proxy, truth); }));
    w.push_back(seconds([&] { check += pw_kendall(proxy, truth, params); }));
  }
  std::printf(
      "rows=%zu one pass (median of %d): kendall_ms=%.2f spearman_ms=%.2f pearson_ms=%.3f "
      "pw10_ms=%.2f\n",
      n, runs, median(k) * 1e3, median(s) * 1e3, median(p) * 1e3, median(w) * 1e3);

  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    MetricIntervals iv;
    t.push_back(seconds([&] { iv = bootstrap(proxy, truth, params, resamples, 7, threads); }));
    check += iv.kendall.lo + iv.pw10.hi;
    std::printf("run %d: %.2f s (kendall [%.4f, %.4f] pw10 [%.4f, %.4f])\n", r + 1, t.back(),
                iv.kendall.lo, iv.kendall.hi, iv.pw10.lo, iv.pw10.hi);
  }
  std::printf(
      "rows=%zu resamples=%d threads=%d bootstrap_s=%.2f (median of %d, min %.2f max %.2f) "
      "checksum=%.6g\n",
      n, resamples, threads, median(t), runs, *std::min_element(t.begin(), t.end()),
      *std::max_element(t.begin(), t.end()), check);
  return 0;
}
