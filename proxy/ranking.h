// How well a proxy ranks architectures against ground truth: the metrics with bootstrap
// intervals, ZeroLM's alpha strategies (grid fit on held-out splits, the data-free heuristic) and
// correlations within groups. LibTorch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zerolm {

// Kendall tau-b over the pairs whose parameter counts differ by less than `rel` (relative to
// the larger): what a proxy knows beyond model size. O(n log^2 n): sorted by parameter count, the
// partners of a row form a window; with a NaN or a negative count, the pair loop below.
double pw_kendall(const std::vector<double>& proxy, const std::vector<double>& truth,
                  const std::vector<double>& params, double rel = 0.10);
// The same by the O(n^2) pair loop: the definition, kept as the check of the fast one.
double pw_kendall_quadratic(const std::vector<double>& proxy, const std::vector<double>& truth,
                            const std::vector<double>& params, double rel = 0.10);

struct Metrics {
  double kendall = 0, spearman = 0, pearson = 0, pw10 = 0;
};
Metrics compute_metrics(const std::vector<double>& proxy, const std::vector<double>& truth,
                        const std::vector<double>& params);

// Mean of each metric over `v`, and the sample standard deviation (0 for fewer than two).
Metrics mean_of(const std::vector<Metrics>& v);
Metrics sd_of(const std::vector<Metrics>& v, const Metrics& mean);

struct Interval {
  double lo = 0, hi = 0;
};
struct MetricIntervals {
  Interval kendall, spearman, pearson, pw10;
};
// Called with the number of resamples done so far and the total, from one thread at a time.
using BootstrapProgress = std::function<void(int done, int total)>;
// Percentile bootstrap (rows resampled with replacement), 95% intervals. Resample r draws from a
// generator seeded by (seed, r), so the intervals do not depend on `threads` (0: one per core).
MetricIntervals bootstrap(const std::vector<double>& proxy, const std::vector<double>& truth,
                          const std::vector<double>& params, int resamples, std::uint64_t seed,
                          int threads = 0, const BootstrapProgress& progress = {});

// The alpha grid [lo, hi] in `step` (inclusive of both ends).
std::vector<double> alpha_grid(double lo = -1.5, double hi = 1.5, double step = 0.05);

// alpha * attn + (1 - alpha) * ffn for the given rows (all rows when `rows` is empty).
std::vector<double> combine(const std::vector<double>& attn, const std::vector<double>& ffn,
                            double alpha, const std::vector<std::size_t>& rows = {});
std::vector<double> select(const std::vector<double>& v, const std::vector<std::size_t>& rows);

// The grid alpha with the highest Kendall tau against `target` on `rows` (the first on ties).
double best_alpha(const std::vector<double>& attn, const std::vector<double>& ffn,
                  const std::vector<double>& target, const std::vector<std::size_t>& rows,
                  const std::vector<double>& grid);

// Split `split` of n rows: `fit` is a seeded random sample of k rows, `report` all the others.
struct Split {
  std::vector<std::size_t> fit, report;
};
Split make_split(std::size_t n, std::size_t k, std::uint64_t seed, int split);

struct SampledAlpha {
  std::vector<double> alphas;     // chosen per split
  std::vector<Metrics> held_out;  // metrics on each split's report rows
  Metrics mean, sd;
};
SampledAlpha sample_alpha(const std::vector<double>& attn, const std::vector<double>& ffn,
                          const std::vector<double>& truth, const std::vector<double>& params,
                          std::size_t k, int splits, std::uint64_t seed,
                          const std::vector<double>& grid);

// Mean of the metrics within groups of equal key, weighted by group size (groups of fewer than
// three rows are skipped). Returns the number of rows used in `used`.
Metrics grouped_metrics(const std::vector<double>& proxy, const std::vector<double>& truth,
                        const std::vector<double>& params, const std::vector<std::string>& keys,
                        std::size_t* used = nullptr);

}  // namespace zerolm
