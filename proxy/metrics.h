// Rank correlations between a proxy and ground truth (LibTorch-free).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace zerolm {

// Average ranks (1-based), ties share the mean of their positions.
std::vector<double> rank_average(const std::vector<double>& x);
double pearson(const std::vector<double>& a, const std::vector<double>& b);
double spearman(const std::vector<double>& a, const std::vector<double>& b);
// Kendall tau-b (tie-corrected), O(n log n) (Knight's algorithm); with a NaN anywhere, the
// quadratic pair loop below.
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b);
// The same by the O(n^2) pair loop: the definition, kept as the check of the fast one.
double kendall_tau_b_quadratic(const std::vector<double>& a, const std::vector<double>& b);

// Kendall tau-b over the pairs (i, j) for which keep(i, j) holds. Pairs tied in both count in
// neither; pairs tied in one count in that side's tie total. NaN when no pair is left.
template <class Keep>
double kendall_tau_b_where(const std::vector<double>& a, const std::vector<double>& b, Keep keep) {
  long long concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      if (!keep(i, j)) continue;
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) {
        ++ties_a;
      } else if (db == 0) {
        ++ties_b;
      } else if ((da > 0) == (db > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const double n1 = double(concordant + discordant + ties_a);
  const double n2 = double(concordant + discordant + ties_b);
  if (n1 <= 0 || n2 <= 0) return std::numeric_limits<double>::quiet_NaN();
  return double(concordant - discordant) / std::sqrt(n1 * n2);
}

}  // namespace zerolm
