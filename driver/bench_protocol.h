// Protocols that keep a constant chosen on benchmark rows from flattering the rows it is reported
// on. ZeroLM's alpha is the instance today; any score with one constant picked from a grid fits:
//   transfer: the constant is fitted on k random rows of one benchmark and reported on that
//     benchmark's other rows and on every other benchmark (all rows), over random splits;
//   leave one benchmark out: for each benchmark, the constant is fitted on all rows of the others
//     and reported on it.
// The fit is always the grid constant with the highest Kendall tau (the mean over the benchmarks
// fitted on, when several), the first on ties. LibTorch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "proxy/ranking.h"

namespace zerolm {

// A score with one free constant, on one benchmark.
struct TunableScore {
  // The score of `rows` (all rows when empty), in that order, for the constant c.
  std::function<std::vector<double>(double c, const std::vector<std::size_t>& rows)> at;
  std::vector<double> truth;   // oriented: higher is better
  std::vector<double> params;  // pairs of pw10
  std::size_t size() const { return truth.size(); }
};

// The rows of one benchmark a constant is fitted on (all rows when `rows` is empty).
struct FitRows {
  const TunableScore* score;
  std::vector<std::size_t> rows;
};
// The grid constant with the highest mean Kendall tau over `fit`, the first on ties.
double fit_constant(const std::vector<FitRows>& fit, const std::vector<double>& grid);

struct TransferResult {
  std::vector<double> constants;  // chosen on each split
  // Per benchmark: mean and sd over the splits, on the fitting benchmark's held-out rows or on
  // every row of the others; `rows` reported on.
  std::vector<Metrics> mean, sd;
  std::vector<std::size_t> rows;
};
// Split s draws the k fitting rows of benchmark `fit_on` as make_split(n, k, seed, s), so that
// the fitting benchmark's figures equal those of sample_alpha with the same seed. `on_split` is
// called after each split (progress).
TransferResult transfer(const std::vector<TunableScore>& benchmarks, std::size_t fit_on,
                        std::size_t k, int splits, std::uint64_t seed,
                        const std::vector<double>& grid,
                        const std::function<void(int done)>& on_split = {});

// For each benchmark, the constant fitted on all rows of every other one (needs two or more).
std::vector<double> leave_one_out(const std::vector<TunableScore>& benchmarks,
                                  const std::vector<double>& grid);

}  // namespace zerolm
