// The resolved configuration of a search run: what config.json holds, what a resume must keep
// (its hash), and how command-line values merge with a run's saved ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zerolm {

struct SearchConfig {
  // The search configuration: a resumed run must keep all of these.
  std::string space = "flexibert-bench";
  std::string strategy = "evolution";
  std::string profile = "spec";
  std::string proxy = "zerolm";
  std::string alpha = "0.75";  // as given: a number or "heuristic"
  double alpha_value = 0.75;   // resolved
  std::string capacity = "msv";
  std::string init = "bert";
  std::string mode = "weights";
  std::uint64_t seed = 0;
  int population = 100;
  int sample = 25;
  int generation = 32;
  std::int64_t min_params = 0;
  std::int64_t max_params = 0;
  int top_k = 10;
  std::string seed_file;                // where seed_archs came from (informational)
  std::vector<std::string> seed_archs;  // canonical encodings evaluated first
  // May change between runs of the same search.
  std::int64_t evaluations = 3000;  // about a minute on 2 ranks of a 2-core machine
  std::string device = "auto";
  int threads = 1;
  double memory_limit_mb = 0;
  double checkpoint_every = 60;
  double progress_every = 10;

  // Fields of the search configuration as (name, value) text, in a fixed order.
  std::vector<std::pair<std::string, std::string>> search_fields() const;
  std::string hash() const;  // of search_fields()
  std::string to_json() const;
  static SearchConfig from_json(const std::string& text,
                                const std::string& origin);  // throws InputError
};

}  // namespace zerolm
