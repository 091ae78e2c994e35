#include "search/pareto.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace zerolm {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The non-dominated members of `subset` (indices into `points`), ascending.
std::vector<std::size_t> front_of(const std::vector<Point>& points,
                                  const std::vector<std::size_t>& subset) {
  std::vector<std::size_t> out;
  if (subset.empty()) return out;
  const std::size_t d = points[subset.front()].size();
  if (d == 2) {
    // Sweep by the first objective: a point is dominated by one with the same first value and a
    // smaller second, or by one with a smaller first value and a second no greater.
    std::vector<std::size_t> order = subset;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const Point &p = points[a], &q = points[b];
      return p[0] != q[0] ? p[0] < q[0] : p[1] != q[1] ? p[1] < q[1] : a < b;
    });
    double best_before = kInf;  // smallest second value among strictly smaller first values
    for (std::size_t g = 0; g < order.size();) {
      std::size_t end = g;
      while (end < order.size() && points[order[end]][0] == points[order[g]][0]) ++end;
      const double least = points[order[g]][1];
      if (least < best_before)
        for (std::size_t k = g; k < end && points[order[k]][1] == least; ++k)
          out.push_back(order[k]);
      best_before = std::min(best_before, least);
      g = end;
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  for (std::size_t i : subset) {
    bool dominated = false;
    for (std::size_t j : subset)
      if (j != i && dominates(points[j], points[i])) {
        dominated = true;
        break;
      }
    if (!dominated) out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Hypervolume of points that all strictly dominate `ref`, of dimension ref.size() >= 1.
double volume(std::vector<Point> pts, const Point& ref) {
  if (pts.empty()) return 0;
  const std::size_t d = ref.size();
  if (d == 1) {
    double least = kInf;
    for (const Point& p : pts) least = std::min(least, p[0]);
    return ref[0] - least;
  }
  if (d == 2) {
    std::sort(pts.begin(), pts.end());  // by x, then y
    double area = 0, y = ref[1];
    for (const Point& p : pts)
      if (p[1] < y) {
        area += (ref[0] - p[0]) * (y - p[1]);
        y = p[1];
      }
    return area;
  }
  // Slices along the last objective: between consecutive values z_i < z_(i+1) the cross-section
  // is the (d-1)-dimensional volume of the points with z <= z_i.
  std::sort(pts.begin(), pts.end(),
            [&](const Point& a, const Point& b) { return a[d - 1] < b[d - 1]; });
  const Point sub_ref(ref.begin(), ref.end() - 1);
  std::vector<Point> section;
  double total = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    section.emplace_back(pts[i].begin(), pts[i].end() - 1);
    const double next = i + 1 < pts.size() ? pts[i + 1][d - 1] : ref[d - 1];
    if (next > pts[i][d - 1]) {
      // Only the section's non-dominated points matter; dropping the rest keeps slices small.
      std::vector<std::size_t> all(section.size());
      std::iota(all.begin(), all.end(), 0);
      std::vector<Point> kept;
      for (std::size_t k : front_of(section, all)) kept.push_back(section[k]);
      section = kept;
      total += volume(section, sub_ref) * (next - pts[i][d - 1]);
    }
  }
  return total;
}

}  // namespace

Point to_minimisation(const std::vector<double>& values, const std::vector<bool>& maximize) {
  if (values.size() != maximize.size())
    throw std::invalid_argument("objective values: expected " + std::to_string(maximize.size()) +
                                " values (one per objective), got " +
                                std::to_string(values.size()));
  Point p(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) p[k] = maximize[k] ? -values[k] : values[k];
  return p;
}

bool dominates(const Point& a, const Point& b) {
  bool strictly = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    strictly = strictly || a[k] < b[k];
  }
  return strictly;
}

std::vector<std::size_t> pareto_front(const std::vector<Point>& points) {
  std::vector<std::size_t> all(points.size());
  std::iota(all.begin(), all.end(), 0);
  return front_of(points, all);
}

std::vector<std::size_t> pareto_front_sorted(const std::vector<Point>& points,
                                             std::size_t objective) {
  std::vector<std::size_t> f = pareto_front(points);
  std::stable_sort(f.begin(), f.end(), [&](std::size_t a, std::size_t b) {
    return points[a].at(objective) < points[b].at(objective);
  });
  return f;
}

std::vector<std::vector<std::size_t>> non_dominated_sort(const std::vector<Point>& points) {
  std::vector<std::vector<std::size_t>> fronts;
  std::vector<std::size_t> rest(points.size());
  std::iota(rest.begin(), rest.end(), 0);
  while (!rest.empty()) {
    std::vector<std::size_t> f = front_of(points, rest), left;
    std::set_difference(rest.begin(), rest.end(), f.begin(), f.end(), std::back_inserter(left));
    fronts.push_back(std::move(f));
    rest = std::move(left);
  }
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<Point>& points,
                                      const std::vector<std::size_t>& front) {
  const std::size_t n = front.size();
  if (n <= 2) return std::vector<double>(n, kInf);
  std::vector<double> dist(n, 0.0);
  std::vector<std::size_t> order(n);  // positions in `front`
  for (std::size_t m = 0; m < points[front[0]].size(); ++m) {
    std::iota(order.begin(), order.end(), 0);
    auto value = [&](std::size_t pos) { return points[front[pos]][m]; };
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return value(a) != value(b) ? value(a) < value(b) : front[a] < front[b];
    });
    const double range = value(order.back()) - value(order.front());
    if (!(range > 0)) continue;
    dist[order.front()] = dist[order.back()] = kInf;
    for (std::size_t k = 1; k + 1 < n; ++k)
      dist[order[k]] += (value(order[k + 1]) - value(order[k - 1])) / range;
  }
  return dist;
}

double hypervolume(const std::vector<Point>& points, const Point& reference) {
  std::vector<Point> inside;
  for (const Point& p : points) {
    if (p.size() != reference.size())
      throw std::invalid_argument("hypervolume: a point of dimension " + std::to_string(p.size()) +
                                  ", expected the reference's " + std::to_string(reference.size()));
    bool strictly = true;
    for (std::size_t k = 0; k < p.size() && strictly; ++k) strictly = p[k] < reference[k];
    if (strictly) inside.push_back(p);
  }
  if (reference.empty()) return 0;
  return volume(std::move(inside), reference);
}

}  // namespace zerolm
