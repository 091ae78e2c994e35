#include "driver/bench_protocol.h"

#include <cmath>
#include <stdexcept>

#include "proxy/metrics.h"

namespace zerolm {

namespace {

Metrics metrics_on(const TunableScore& s, double c, const std::vector<std::size_t>& rows) {
  if (rows.empty()) return compute_metrics(s.at(c, {}), s.truth, s.params);
  return compute_metrics(s.at(c, rows), select(s.truth, rows), select(s.params, rows));
}

}  // namespace

double fit_constant(const std::vector<FitRows>& fit, const std::vector<double>& grid) {
  if (fit.empty() || grid.empty()) throw std::invalid_argument("fit_constant: nothing to fit on");
  double best = grid.front(), best_tau = -2;
  for (double c : grid) {
    double tau = 0;
    for (const FitRows& f : fit) {
      const std::vector<double> t =
          f.rows.empty() ? f.score->truth : select(f.score->truth, f.rows);
      tau += kendall_tau_b(f.score->at(c, f.rows), t);
    }
    tau /= double(fit.size());
    if (tau > best_tau) {  // NaN never wins
      best_tau = tau;
      best = c;
    }
  }
  return best;
}

TransferResult transfer(const std::vector<TunableScore>& benchmarks, std::size_t fit_on,
                        std::size_t k, int splits, std::uint64_t seed,
                        const std::vector<double>& grid, const std::function<void(int)>& on_split) {
  const std::size_t nb = benchmarks.size();
  std::vector<std::vector<Metrics>> per(nb);
  TransferResult r;
  r.rows.resize(nb);
  for (int s = 0; s < splits; ++s) {
    const Split sp = make_split(benchmarks[fit_on].size(), k, seed, s);
    const double c = fit_constant({{&benchmarks[fit_on], sp.fit}}, grid);
    r.constants.push_back(c);
    for (std::size_t b = 0; b < nb; ++b) {
      const bool held_out = b == fit_on;
      per[b].push_back(
          metrics_on(benchmarks[b], c, held_out ? sp.report : std::vector<std::size_t>{}));
      r.rows[b] = held_out ? sp.report.size() : benchmarks[b].size();
    }
    if (on_split) on_split(s + 1);
  }
  // Mean and sd as sample_alpha computes them, so that one benchmark's figures are identical.
  for (std::size_t b = 0; b < nb; ++b) {
    r.mean.push_back(mean_of(per[b]));
    r.sd.push_back(sd_of(per[b], r.mean.back()));
  }
  return r;
}

std::vector<double> leave_one_out(const std::vector<TunableScore>& benchmarks,
                                  const std::vector<double>& grid) {
  if (benchmarks.size() < 2)
    throw std::invalid_argument("leave_one_out: needs two or more benchmarks");
  std::vector<double> out;
  for (std::size_t held = 0; held < benchmarks.size(); ++held) {
    std::vector<FitRows> fit;
    for (std::size_t b = 0; b < benchmarks.size(); ++b)
      if (b != held) fit.push_back({&benchmarks[b], {}});
    out.push_back(fit_constant(fit, grid));
  }
  return out;
}

}  // namespace zerolm
