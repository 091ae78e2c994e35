// The quality/cost frontier of a multi-objective search run: every objective's value of a record,
// the non-dominated set of the feasible evaluations, its hypervolume, pareto.csv and pareto.png.
// Shared by the coordinator (while and after searching) and `zerolm pareto` (on finished or
// running runs). LibTorch-free.
#pragma once

#include <string>
#include <vector>

#include "rundir/record.h"
#include "rundir/search_config.h"

namespace zerolm {

// Record's value of each objective of `config`, in objective order (score for the proxy, params,
// else Record::values).
std::vector<double> objective_values(const SearchConfig& config, const Record& r);

// The objective the front is sorted along: the first cost (minimised), else the first objective.
std::size_t sort_objective(const SearchConfig& config);
// The quality the budget question "the best model I can afford" maximises: the first maximised
// objective, else the first.
std::size_t quality_objective(const SearchConfig& config);

struct Front {
  std::vector<Record> rows;                 // the non-dominated feasible records, sorted
  std::vector<std::vector<double>> values;  // their objective values
  // Hypervolume as the fraction of the box [ideal, reference] the front dominates, in
  // minimisation orientation (maximised objectives negated): ideal is the best value of each
  // objective over all feasible records, the reference the worst, or the budget of a cost with an
  // upper --constraint. 0 with fewer than two distinct values on some objective.
  double hypervolume = 0;
  std::vector<double> ideal, reference;  // in the objectives' own orientation
};

// Records that are ok (feasible: over-budget and failed ones never count), and satisfy `extra`
// budgets on top of the run's own.
Front compute_front(const SearchConfig& config, const std::vector<Record>& records,
                    const std::vector<Constraint>& extra = {},
                    const std::vector<double>* ideal = nullptr,
                    const std::vector<double>* reference = nullptr);

// min(n, k) positions of 0..n-1 spread evenly, the first and the last included.
std::vector<std::size_t> spread(std::size_t n, std::size_t k);

}  // namespace zerolm
