#include "rundir/front.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "search/pareto.h"

namespace zerolm {

std::vector<double> objective_values(const SearchConfig& config, const Record& r) {
  const auto names = config.value_names();
  std::vector<double> out;
  for (const SearchObjective& o : config.objective_list()) {
    if (o.name == config.proxy) {
      out.push_back(r.score);
    } else if (o.name == "params") {
      out.push_back(double(r.params));
    } else {
      const auto at = std::size_t(std::find(names.begin(), names.end(), o.name) - names.begin());
      out.push_back(at < r.values.size() ? r.values[at] : std::nan(""));
    }
  }
  return out;
}

std::size_t sort_objective(const SearchConfig& config) {
  const auto obj = config.objective_list();
  for (std::size_t i = 0; i < obj.size(); ++i)
    if (!obj[i].maximize) return i;
  return 0;
}

std::size_t quality_objective(const SearchConfig& config) {
  const auto obj = config.objective_list();
  for (std::size_t i = 0; i < obj.size(); ++i)
    if (obj[i].maximize) return i;
  return 0;
}

Front compute_front(const SearchConfig& config, const std::vector<Record>& records,
                    const std::vector<Constraint>& extra, const std::vector<double>* ideal,
                    const std::vector<double>* reference) {
  const auto obj = config.objective_list();
  std::vector<bool> maximize;
  for (const auto& o : obj) maximize.push_back(o.maximize);
  auto budgets = config.constraint_list();
  budgets.insert(budgets.end(), extra.begin(), extra.end());
  std::vector<const Record*> feasible;
  std::vector<Point> points;
  std::vector<std::vector<double>> raw;
  // In evaluation order, whatever order the results arrived in (it depends on the rank count):
  // rows that tie in every objective then keep the order of their indices everywhere.
  std::vector<const Record*> by_index;
  for (const Record& r : records)
    if (r.status == Status::Ok) by_index.push_back(&r);
  std::stable_sort(by_index.begin(), by_index.end(),
                   [](const Record* a, const Record* b) { return a->index < b->index; });
  for (const Record* rp : by_index) {
    const Record& r = *rp;
    auto v = objective_values(config, r);
    bool ok = std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
    for (const Constraint& b : extra) {
      double x = std::nan("");
      if (b.name == "params") x = double(r.params);
      for (std::size_t k = 0; k < obj.size(); ++k)
        if (obj[k].name == b.name) x = v[k];
      const auto names = config.value_names();
      for (std::size_t k = 0; k < names.size() && k < r.values.size(); ++k)
        if (names[k] == b.name) x = r.values[k];
      if (std::isnan(x) || !b.allows(x)) ok = false;
    }
    if (!ok) continue;
    feasible.push_back(&r);
    points.push_back(to_minimisation(v, maximize));
    raw.push_back(std::move(v));
  }
  Front f;
  if (points.empty()) return f;
  const std::size_t d = obj.size();
  // Ideal and reference in minimisation orientation.
  Point lo(d, std::numeric_limits<double>::infinity()), hi(d, -lo[0]);
  for (const Point& p : points)
    for (std::size_t k = 0; k < d; ++k) {
      lo[k] = std::min(lo[k], p[k]);
      hi[k] = std::max(hi[k], p[k]);
    }
  for (const Constraint& b : budgets)
    for (std::size_t k = 0; k < d; ++k)
      if (obj[k].name == b.name && !obj[k].maximize && b.upper()) hi[k] = b.value;
  if (ideal)
    for (std::size_t k = 0; k < d; ++k) lo[k] = maximize[k] ? -(*ideal)[k] : (*ideal)[k];
  if (reference)
    for (std::size_t k = 0; k < d; ++k) hi[k] = maximize[k] ? -(*reference)[k] : (*reference)[k];
  // The non-dominated set by one pass that keeps the current front only: O(n x front) instead of
  // all pairs, so that a run of 100,000 evaluations on three objectives stays quick to summarise.
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (std::size_t j : kept)
      if (dominates(points[j], points[i])) {
        dominated = true;
        break;
      }
    if (dominated) continue;
    kept.erase(std::remove_if(kept.begin(), kept.end(),
                              [&](std::size_t j) { return dominates(points[i], points[j]); }),
               kept.end());
    kept.push_back(i);
  }
  std::vector<Point> front_points;
  for (std::size_t j : kept) front_points.push_back(points[j]);
  for (const std::size_t k : pareto_front_sorted(front_points, sort_objective(config))) {
    f.rows.push_back(*feasible[kept[k]]);
    f.values.push_back(raw[kept[k]]);
  }
  double box = 1;
  for (std::size_t k = 0; k < d; ++k) box *= hi[k] - lo[k];
  if (box > 0 && std::isfinite(box)) {
    std::vector<Point> front;
    for (const auto& v : f.values) front.push_back(to_minimisation(v, maximize));
    f.hypervolume = hypervolume(front, hi) / box;
  }
  for (std::size_t k = 0; k < d; ++k) {
    f.ideal.push_back(maximize[k] ? -lo[k] : lo[k]);
    f.reference.push_back(maximize[k] ? -hi[k] : hi[k]);
  }
  return f;
}

std::vector<std::size_t> spread(std::size_t n, std::size_t k) {
  std::vector<std::size_t> out;
  if (n == 0 || k == 0) return out;
  if (k >= n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  if (k == 1) return {0};
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t p = (i * (n - 1) + (k - 1) / 2) / (k - 1);  // rounded
    if (out.empty() || p != out.back()) out.push_back(p);
  }
  return out;
}

}  // namespace zerolm
