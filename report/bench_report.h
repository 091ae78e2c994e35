// The report of `zerolm bench`: one typed row per proxy and profile, its metrics with intervals or
// standard deviations, and its renderings (table, markdown, csv, json) and the alpha-sweep plot.
// With one benchmark a row per proxy; with several, one table with a column group per benchmark.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proxy/metrics.h"
#include "proxy/ranking.h"
#include "report/table.h"

namespace zerolm {

// One value of a metric: a point estimate with either an interval or a standard deviation.
struct Cell {
  double value = std::nan("");
  double lo = std::nan(""), hi = std::nan(""), sd = std::nan("");
};

struct BenchRow {
  std::string proxy, source, profile, alpha;
  Cell kendall, spearman, pearson, pw10;
  std::size_t n = 0;  // rows the metrics are over; 0: not computed (a cell left empty)
};

// A row of the table over several benchmarks: one proxy, its row on each benchmark (in
// --benchmark order; n == 0 where the proxy is missing on a benchmark).
struct MultiRow {
  std::string proxy, source, alpha;
  std::vector<BenchRow> on;
};

// What one profile's scoring produced: rows (one benchmark) or multi rows (several), notes under
// the table, or an alpha sweep per benchmark.
struct ProfileResult {
  std::vector<BenchRow> rows;
  std::vector<MultiRow> multi;
  std::vector<std::string> notes;
  std::vector<std::vector<std::pair<double, Metrics>>> sweeps;  // one per benchmark
};

// A benchmark as the report names it.
struct BenchInfo {
  std::string name, path, truth;
  bool lower_is_better = false;
  std::size_t rows = 0;
  bool as_encoded = false;  // the profile does not change its models' shapes (decoders)
};

// What the renderings say about the run besides the rows.
struct ReportContext {
  std::vector<std::string> profiles;  // one per ProfileResult
  std::vector<BenchInfo> benchmarks;
  int resamples = 0;
  bool grouped = false;
  bool sweep = false;
  std::string plot;  // PNG of the alpha sweep, or empty
};

std::string fixed(double v, int digits = 3);
std::string show(const Cell& c);  // "0.530 [0.49, 0.57]", "0.530 +- 0.010" or "0.530"

// What the header calls the shapes of a benchmark under a profile: "profile spec" or, where the
// profile changes nothing, "shapes as encoded".
std::string shapes_label(const BenchInfo& b, const std::string& profile);

// Kendall, Spearman, Pearson and pw10 of `x` against `truth` (pw10 pairs by `params`), with
// bootstrap intervals when resamples > 0 (on `threads` threads; the intervals do not depend on it).
BenchRow metric_row(const std::string& proxy, const std::string& source,
                    const std::vector<double>& x, const std::vector<double>& truth,
                    const std::vector<double>& params, int resamples, std::uint64_t seed,
                    int threads = 1);
// The same within groups of equal keys (mean over groups of 3 or more rows, weighted by size).
BenchRow grouped_row(const std::string& proxy, const std::string& source,
                     const std::vector<double>& x, const std::vector<double>& truth,
                     const std::vector<double>& params, const std::vector<std::string>& keys);
// A row of means and standard deviations (over random splits).
BenchRow sd_row(const std::string& proxy, const std::string& source, const Metrics& mean,
                const Metrics& sd, std::size_t n);

// The rows of several benchmarks merged into multi rows: one per (proxy, source), in order of
// first appearance; alphas that differ between benchmarks are listed in benchmark order.
std::vector<MultiRow> merge_rows(const std::vector<std::vector<BenchRow>>& per_benchmark);

std::string render_report(const ReportContext& ctx, const std::vector<ProfileResult>& results,
                          Format format);
// Kendall tau against alpha, one line per profile (and benchmark), into ctx.plot (gnuplot).
void plot_alpha_sweep(const ReportContext& ctx, const std::vector<ProfileResult>& results);

}  // namespace zerolm
