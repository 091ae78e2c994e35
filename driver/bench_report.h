// The report of `zerolm bench`: one typed row per proxy and profile, its metrics with intervals or
// standard deviations, and its renderings (table, markdown, csv, json) and the alpha-sweep plot.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "driver/table.h"
#include "proxy/metrics.h"
#include "proxy/ranking.h"

namespace zerolm {

// One value of a metric: a point estimate with either an interval or a standard deviation.
struct Cell {
  double value = std::nan("");
  double lo = std::nan(""), hi = std::nan(""), sd = std::nan("");
};

struct BenchRow {
  std::string proxy, source, profile, alpha;
  Cell kendall, spearman, pearson, pw10;
  std::size_t n = 0;
};

// What one profile's scoring produced: rows, notes under the table, or an alpha sweep.
struct ProfileResult {
  std::vector<BenchRow> rows;
  std::vector<std::string> notes;
  std::vector<std::pair<double, Metrics>> sweep;
};

// What the renderings say about the run besides the rows.
struct ReportContext {
  std::vector<std::string> profiles;  // one per ProfileResult
  std::string benchmark, truth;
  bool lower_is_better = false;
  int resamples = 0;
  bool grouped = false;
  bool sweep = false;
  std::string plot;  // PNG of the alpha sweep, or empty
};

std::string fixed(double v, int digits = 3);
std::string show(const Cell& c);  // "0.530 [0.49, 0.57]", "0.530 +- 0.010" or "0.530"

// Kendall, Spearman, Pearson and pw10 of `x` against `truth` (pw10 pairs by `params`), with
// bootstrap intervals when resamples > 0.
BenchRow metric_row(const std::string& proxy, const std::string& source,
                    const std::vector<double>& x, const std::vector<double>& truth,
                    const std::vector<double>& params, int resamples, std::uint64_t seed);
// The same within groups of equal keys (mean over groups of 3 or more rows, weighted by size).
BenchRow grouped_row(const std::string& proxy, const std::string& source,
                     const std::vector<double>& x, const std::vector<double>& truth,
                     const std::vector<double>& params, const std::vector<std::string>& keys);

std::string render_report(const ReportContext& ctx, const std::vector<ProfileResult>& results,
                          Format format, std::size_t rows_used);
// Kendall tau against alpha, one line per profile, into ctx.plot (gnuplot).
void plot_alpha_sweep(const ReportContext& ctx, const std::vector<ProfileResult>& results);

}  // namespace zerolm
