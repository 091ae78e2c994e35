// The resolved configuration of a search run: what config.json holds, what a resume must keep
// (its hash), and how command-line values merge with a run's saved ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rundir/objectives.h"
#include "rundir/scoring_config.h"

namespace zerolm {

// The scoring fields (space, profile, proxy, alpha, capacity, init, mode, seed) belong to the
// search configuration (a resumed run keeps them); device and memory_limit_mb are run-time ones.
struct SearchConfig : ScoringConfig {
  SearchConfig() {
    space = "flexibert-bench";
    device = "auto";
  }
  // The search configuration: a resumed run must keep all of these (and the scoring fields).
  std::string strategy = "evolution";
  int population = 100;
  int sample = 25;
  int generation = 32;
  std::int64_t min_params = 0;
  std::int64_t max_params = 0;
  int top_k = 10;
  std::string seed_file;                // where seed_archs came from (informational)
  std::vector<std::string> seed_archs;  // canonical encodings evaluated first
  // Multi-objective searches: canonical objectives ("zerolm:max", "latency:min"; empty: the proxy
  // alone, maximised) and budgets ("latency<=12ms"); how latency and memory are measured.
  std::vector<std::string> objectives;
  std::vector<std::string> constraints;
  std::string checkpoint;      // --space prune: the Hugging Face checkpoint directory
  bool prune_uniform = false;  // --prune-uniform: every kept layer keeps the same counts
  // --importance: which channels and groups a kept count keeps ("norm": the weight norm,
  // data-free; "activation": measured on the --calibration text).
  std::string importance = "norm";
  std::string calibration;
  // What the order was made from (PruneGridOptions::importance: the calibration file's content
  // hash among it), recorded when the run starts and checked when it resumes.
  std::string importance_detail;
  int latency_batch = 1;
  int latency_seq = 128;
  int latency_repeats = 5;
  std::string precision = "fp32";
  // May change between runs of the same search.
  std::int64_t evaluations = 3000;  // about a minute on 2 ranks of a 2-core machine
  int threads = 1;                  // LibTorch threads per rank (--torch-threads)
  double checkpoint_every = 60;
  double progress_every = 10;
  std::string latency_table;  // earlier measurements to reuse (encoding, device, latency, memory)

  // The objectives, parsed (one, the proxy maximised, when none were given).
  std::vector<SearchObjective> objective_list() const;
  std::vector<Constraint> constraint_list() const;
  bool multi_objective() const { return objectives.size() >= 2; }
  // The quantities recorded after params in evaluations.csv (Record::values): objectives other
  // than the proxy and params, then budgets on measured costs that are not objectives.
  std::vector<std::string> value_names() const;
  bool measures(const std::string& quantity) const;  // latency or memory is measured

  // Fields of the search configuration as (name, value) text, in a fixed order.
  std::vector<std::pair<std::string, std::string>> search_fields() const;
  std::string hash() const;  // of search_fields()
  std::string to_json() const;
  static SearchConfig from_json(const std::string& text,
                                const std::string& origin);  // throws InputError
};

}  // namespace zerolm
