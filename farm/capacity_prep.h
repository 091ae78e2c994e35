// The capacity table of a pruning search (proxy/checkpoint_scores.h), made once before the search
// starts: read from the run directory's cache when it was made for this checkpoint and statistic,
// else spread over the ranks (each a share of the layers, on its own device), exchanged, and
// cached there for --resume and later searches of the same checkpoint.
#pragma once

#include <string>

#include "farm/mpi_comm.h"
#include "rundir/run_dir.h"
#include "rundir/search_config.h"

namespace zerolm {

// Whether the search's scores read a capacity table (ZeroLM with a statistic other than msv on
// --space prune).
bool needs_capacity_table(const SearchConfig& config);

// Collective: every rank calls it (after the checkpoint space is open on every rank) and returns
// with the table installed (install_capacity_table). `device` is this rank's ("cpu", "cuda:0").
void prepare_capacity_table(const MpiSession& mpi, const SearchConfig& config, const RunDir& dir,
                            const std::string& device);

}  // namespace zerolm
