#include "proxy/ranking.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "proxy/metrics.h"
#include "spaces/rng.h"

namespace zerolm {

double pw_kendall(const std::vector<double>& a, const std::vector<double>& b,
                  const std::vector<double>& params, double rel) {
  return kendall_tau_b_where(a, b, [&](std::size_t i, std::size_t j) {
    const double big = std::max(std::abs(params[i]), std::abs(params[j]));
    return std::abs(params[i] - params[j]) < rel * big;
  });
}

Metrics compute_metrics(const std::vector<double>& proxy, const std::vector<double>& truth,
                        const std::vector<double>& params) {
  return {kendall_tau_b(proxy, truth), spearman(proxy, truth), pearson(proxy, truth),
          pw_kendall(proxy, truth, params)};
}

namespace {

double percentile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const auto lo = std::size_t(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

Metrics mean_of(const std::vector<Metrics>& v) {
  Metrics m;
  for (const Metrics& x : v) {
    m.kendall += x.kendall / v.size();
    m.spearman += x.spearman / v.size();
    m.pearson += x.pearson / v.size();
    m.pw10 += x.pw10 / v.size();
  }
  return m;
}

}  // namespace

MetricIntervals bootstrap(const std::vector<double>& proxy, const std::vector<double>& truth,
                          const std::vector<double>& params, int resamples, std::uint64_t seed) {
  Rng rng(derive_seed(seed, fnv1a("bootstrap")));
  const std::size_t n = proxy.size();
  std::vector<double> k, s, p, w;
  std::vector<double> a(n), b(n), c(n);
  for (int r = 0; r < resamples; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = rng.below(n);
      a[i] = proxy[j];
      b[i] = truth[j];
      c[i] = params[j];
    }
    const Metrics m = compute_metrics(a, b, c);
    k.push_back(m.kendall);
    s.push_back(m.spearman);
    p.push_back(m.pearson);
    w.push_back(m.pw10);
  }
  auto iv = [](const std::vector<double>& v) {
    return Interval{percentile(v, 0.025), percentile(v, 0.975)};
  };
  return {iv(k), iv(s), iv(p), iv(w)};
}

std::vector<double> alpha_grid(double lo, double hi, double step) {
  std::vector<double> g;
  const int n = int(std::lround((hi - lo) / step));
  for (int i = 0; i <= n; ++i) g.push_back(std::round((lo + i * step) * 1e6) / 1e6);
  return g;
}

std::vector<double> select(const std::vector<double>& v, const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (std::size_t i : rows) out.push_back(v[i]);
  return out;
}

std::vector<double> combine(const std::vector<double>& attn, const std::vector<double>& ffn,
                            double alpha, const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  if (rows.empty()) {
    for (std::size_t i = 0; i < attn.size(); ++i)
      out.push_back(alpha * attn[i] + (1 - alpha) * ffn[i]);
  } else {
    for (std::size_t i : rows) out.push_back(alpha * attn[i] + (1 - alpha) * ffn[i]);
  }
  return out;
}

double best_alpha(const std::vector<double>& attn, const std::vector<double>& ffn,
                  const std::vector<double>& target, const std::vector<std::size_t>& rows,
                  const std::vector<double>& grid) {
  const std::vector<double> t = rows.empty() ? target : select(target, rows);
  double best = grid.front(), best_tau = -2;
  for (double a : grid) {
    const double tau = kendall_tau_b(combine(attn, ffn, a, rows), t);
    if (tau > best_tau) {
      best_tau = tau;
      best = a;
    }
  }
  return best;
}

Split make_split(std::size_t n, std::size_t k, std::uint64_t seed, int split) {
  Rng rng(derive_seed(seed, fnv1a("alpha-split-" + std::to_string(split))));
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  // Partial Fisher-Yates: the first k positions become a uniform sample without replacement.
  k = std::min(k, n);
  for (std::size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + rng.below(n - i)]);
  Split s;
  s.fit.assign(idx.begin(), idx.begin() + k);
  s.report.assign(idx.begin() + k, idx.end());
  std::sort(s.fit.begin(), s.fit.end());
  std::sort(s.report.begin(), s.report.end());
  return s;
}

SampledAlpha sample_alpha(const std::vector<double>& attn, const std::vector<double>& ffn,
                          const std::vector<double>& truth, const std::vector<double>& params,
                          std::size_t k, int splits, std::uint64_t seed,
                          const std::vector<double>& grid) {
  SampledAlpha r;
  for (int s = 0; s < splits; ++s) {
    const Split sp = make_split(attn.size(), k, seed, s);
    const double a = best_alpha(attn, ffn, truth, sp.fit, grid);
    r.alphas.push_back(a);
    r.held_out.push_back(compute_metrics(combine(attn, ffn, a, sp.report), select(truth, sp.report),
                                         select(params, sp.report)));
  }
  r.mean = mean_of(r.held_out);
  auto sd = [&](double Metrics::*f) {
    double acc = 0;
    for (const Metrics& m : r.held_out) acc += (m.*f - r.mean.*f) * (m.*f - r.mean.*f);
    return r.held_out.size() > 1 ? std::sqrt(acc / double(r.held_out.size() - 1)) : 0.0;
  };
  r.sd = {sd(&Metrics::kendall), sd(&Metrics::spearman), sd(&Metrics::pearson), sd(&Metrics::pw10)};
  return r;
}

Metrics grouped_metrics(const std::vector<double>& proxy, const std::vector<double>& truth,
                        const std::vector<double>& params, const std::vector<std::string>& keys,
                        std::size_t* used) {
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(i);
  Metrics m;
  double weight = 0;
  auto add = [](double& acc, double v, double w) {
    if (!std::isnan(v)) acc += w * v;
  };
  // Each metric is averaged over the groups where it is defined.
  double wk = 0, ws = 0, wp = 0, ww = 0;
  for (const auto& [key, rows] : groups) {
    if (rows.size() < 3) continue;
    const Metrics g =
        compute_metrics(select(proxy, rows), select(truth, rows), select(params, rows));
    const double w = double(rows.size());
    weight += w;
    add(m.kendall, g.kendall, w);
    add(m.spearman, g.spearman, w);
    add(m.pearson, g.pearson, w);
    add(m.pw10, g.pw10, w);
    wk += std::isnan(g.kendall) ? 0 : w;
    ws += std::isnan(g.spearman) ? 0 : w;
    wp += std::isnan(g.pearson) ? 0 : w;
    ww += std::isnan(g.pw10) ? 0 : w;
  }
  if (used) *used = std::size_t(weight);
  m.kendall = wk > 0 ? m.kendall / wk : std::nan("");
  m.spearman = ws > 0 ? m.spearman / ws : std::nan("");
  m.pearson = wp > 0 ? m.pearson / wp : std::nan("");
  m.pw10 = ww > 0 ? m.pw10 / ww : std::nan("");
  return m;
}

}  // namespace zerolm
