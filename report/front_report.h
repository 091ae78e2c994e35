// The frontier of a multi-objective run as files: pareto.csv and the pareto.png panels.
#pragma once

#include <string>
#include <vector>

#include "rundir/front.h"

namespace zerolm {

// pareto.csv: rank (1..n along the sort objective), index, encoding, one column per objective
// (quantity_column), params, device.
std::string front_csv(const SearchConfig& config, const Front& f);
// One panel per objective other than the quality against the quality: every feasible record as a
// dot, the front highlighted. Throws std::runtime_error when gnuplot fails.
void plot_front(const std::string& png, const SearchConfig& config,
                const std::vector<Record>& records, const Front& f);

}  // namespace zerolm
