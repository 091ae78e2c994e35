// The two roles of a search run: rank 0 coordinates (coordinator.cpp) and every rank evaluates
// (worker.cpp; rank 0 in a thread beside the coordination). Both talk through the task farm on the
// search's own communicator.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "checkpoints/prune_space.h"
#include "farm/farm.h"
#include "farm/messages.h"
#include "farm/mpi_comm.h"
#include "proxy/evaluator.h"
#include "proxy/proxy.h"
#include "rundir/run_dir.h"
#include "rundir/search_config.h"

namespace zerolm {

struct SearchRun {
  MpiSession* mpi = nullptr;
  SearchConfig config;
  RunDir* dir = nullptr;
  bool resume = false;
  std::int64_t stop_after = 0;  // testing hook: rank 0 raises SIGTERM after this many evaluations
};

// Earlier measurements of latency (ms) and memory (bytes) by (encoding, device description):
// --latency-table, e.g. an earlier run's evaluations.csv. NaN where a table has no value.
struct Measured {
  double latency_ms, memory_bytes;
};
using LatencyTable = std::map<std::pair<std::string, std::string>, Measured>;
// Columns encoding, device and latency_ms and/or memory_bytes (a status column, when present,
// keeps ok and over-budget rows). Throws InputError naming the file.
LatencyTable read_latency_table(const std::string& path);

// Scores candidates on this rank's device: the proxy, the other objectives, and latency and
// memory when measured (each once per architecture; a --latency-table hit is not measured again);
// a failing candidate becomes a failed record, one outside a measured budget an over-budget one.
class Scorer {
 public:
  Scorer(const SearchConfig& config, int rank, int local_rank);
  std::vector<Record> score(const std::vector<Candidate>& batch);
  const std::string& device() const { return device_; }
  // What rows record: "cpu:<CPU model>" or "cuda:<device name>".
  const std::string& device_name() const { return device_name_; }
  std::vector<std::string> part_names() const;
  // The per-sub-module columns the configured proxy reports (without building a scorer).
  static std::vector<std::string> parts_of(const SearchConfig& config);
  std::size_t measured() const { return measured_; }  // forward passes timed by this scorer

 private:
  Record evaluate(const Candidate& c);
  Evaluation evaluate_subnetwork(const Arch& arch) const;

  const Space& space_;
  Profile profile_;
  int rank_;
  std::string device_, device_name_;
  std::unique_ptr<Evaluator> evaluator_;
  std::vector<std::string> values_;  // SearchConfig::value_names()
  std::vector<Constraint> measured_budgets_;
  std::uint64_t seed_ = 0;
  int latency_batch_ = 1, latency_seq_ = 128, latency_repeats_ = 5;
  std::string precision_;
  LatencyTable table_;
  std::size_t measured_ = 0;
  // --space prune: scored from the checkpoint's weights, not from an initialised model.
  const CheckpointSpace* prune_ = nullptr;
  std::vector<std::unique_ptr<Proxy>> prune_proxies_;  // the proxy, then the other proxy objectives
};

// Rank 0; `self` is rank 0's own scorer, used from its worker thread.
int run_coordinator(SearchRun& run, MPI_Comm comm, Scorer& self);
// Ranks > 0: returns the exit status rank 0 sent (non-zero after a failure).
int run_worker(MPI_Comm comm, Scorer& scorer);

// The short training of farm.h's FinetuneJob on the ranks of `mpi` (collective), inside a search
// job or a finetune job: bad input ends every rank with one line from rank 0 and status 2.
int finetune_job(MpiSession& mpi, FinetuneJob& job);

}  // namespace zerolm
