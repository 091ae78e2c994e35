// Rank correlations between a proxy and ground truth (LibTorch-free).
#pragma once

#include <vector>

namespace zerolm {

// Average ranks (1-based), ties share the mean of their positions.
std::vector<double> rank_average(const std::vector<double>& x);
double pearson(const std::vector<double>& a, const std::vector<double>& b);
double spearman(const std::vector<double>& a, const std::vector<double>& b);
// Kendall tau-b (tie-corrected). O(n^2): the benchmarks have at most a few thousand rows.
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace zerolm
