#include "proxy/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace zerolm {

namespace {

void check(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw std::invalid_argument("correlation of vectors of different sizes");
}

}  // namespace

std::vector<double> rank_average(const std::vector<double>& x) {
  std::vector<std::size_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t i, std::size_t j) { return x[i] < x[j]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && x[idx[j + 1]] == x[idx[i]]) ++j;
    const double avg = (double(i) + double(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  check(a, b);
  const double n = double(a.size());
  if (a.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double cov = 0, va = 0, vb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    cov += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) * (a[i] - ma);
    vb += (b[i] - mb) * (b[i] - mb);
  }
  if (va <= 0 || vb <= 0) return std::numeric_limits<double>::quiet_NaN();
  return cov / std::sqrt(va * vb);
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  check(a, b);
  return pearson(rank_average(a), rank_average(b));
}

double kendall_tau_b_quadratic(const std::vector<double>& a, const std::vector<double>& b) {
  check(a, b);
  return kendall_tau_b_where(a, b, [](std::size_t, std::size_t) { return true; });
}

// Knight's algorithm (1966): sort by (a, b), count the pairs tied in a and in both; a merge sort
// of the b values then counts the discordant pairs as the swaps it needs, and the pairs tied in
// b from its result. Every count is an exact integer, so the value equals the quadratic loop's.
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  check(a, b);
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i)
    if (std::isnan(a[i]) || std::isnan(b[i])) return kendall_tau_b_quadratic(a, b);
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t i, std::size_t j) {
    return a[i] < a[j] || (a[i] == a[j] && b[i] < b[j]);
  });
  auto pairs = [](long long t) { return t * (t - 1) / 2; };
  long long tied_a = 0, tied_both = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && a[idx[j + 1]] == a[idx[i]]) ++j;
    tied_a += pairs(static_cast<long long>(j - i + 1));
    for (std::size_t k = i; k <= j;) {  // runs equal in b inside the run equal in a
      std::size_t l = k;
      while (l + 1 <= j && b[idx[l + 1]] == b[idx[k]]) ++l;
      tied_both += pairs(static_cast<long long>(l - k + 1));
      k = l + 1;
    }
    i = j + 1;
  }
  // Bottom-up merge sort of b in that order; a swap is a pair ordered one way by a and the
  // other by b (pairs tied in a are already sorted by b, so they never swap).
  std::vector<double> v(n), buf(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = b[idx[i]];
  long long swaps = 0;
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      std::size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (v[j] < v[i]) {
          swaps += static_cast<long long>(mid - i);
          buf[k++] = v[j++];
        } else {
          buf[k++] = v[i++];
        }
      }
      while (i < mid) buf[k++] = v[i++];
      while (j < hi) buf[k++] = v[j++];
    }
    v.swap(buf);
  }
  long long tied_b = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && v[j + 1] == v[i]) ++j;
    tied_b += pairs(static_cast<long long>(j - i + 1));
    i = j + 1;
  }
  const long long total = pairs(static_cast<long long>(n));
  // As the quadratic loop counts them: pairs untied in b (n1), untied in a (n2).
  const double n1 = double(total - tied_b), n2 = double(total - tied_a);
  if (n1 <= 0 || n2 <= 0) return std::numeric_limits<double>::quiet_NaN();
  const long long numerator = total - tied_a - tied_b + tied_both - 2 * swaps;
  return double(numerator) / std::sqrt(n1 * n2);
}

}  // namespace zerolm
