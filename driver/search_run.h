// The two roles of a search run: rank 0 coordinates (coordinator.cpp) and every rank evaluates
// (worker.cpp; rank 0 in a thread beside the coordination). Both talk through the task farm on the
// search's own communicator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "driver/messages.h"
#include "driver/mpi_comm.h"
#include "driver/run_dir.h"
#include "driver/search_config.h"
#include "proxy/evaluator.h"

namespace zerolm {

struct SearchRun {
  MpiSession* mpi = nullptr;
  SearchConfig config;
  RunDir* dir = nullptr;
  bool resume = false;
  std::int64_t stop_after = 0;  // testing hook: rank 0 raises SIGTERM after this many evaluations
};

// Scores candidates on this rank's device; a failing candidate becomes a failed record.
class Scorer {
 public:
  Scorer(const SearchConfig& config, int rank, int local_rank);
  std::vector<Record> score(const std::vector<Candidate>& batch);
  const std::string& device() const { return device_; }
  std::vector<std::string> part_names() const;
  // The per-sub-module columns the configured proxy reports (without building a scorer).
  static std::vector<std::string> parts_of(const SearchConfig& config);

 private:
  const Space& space_;
  Profile profile_;
  int rank_;
  std::string device_;
  std::unique_ptr<Evaluator> evaluator_;
};

// Rank 0; `self` is rank 0's own scorer, used from its worker thread.
int run_coordinator(SearchRun& run, MPI_Comm comm, Scorer& self);
// Ranks > 0: returns the exit status rank 0 sent (non-zero after a failure).
int run_worker(MPI_Comm comm, Scorer& scorer);

}  // namespace zerolm
