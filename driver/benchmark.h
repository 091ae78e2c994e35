// A benchmark of trained architectures as `zerolm bench` reads it: encodings, ground truth
// (oriented so that higher is better), published proxy columns and grouping keys.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spaces/space.h"

namespace zerolm {

// Where and how to read one benchmark.
struct BenchmarkSource {
  std::string path;
  std::string truth = "glue";  // ground-truth column
  bool lower_is_better = false;
  std::string space;                                       // empty: inferred from the encodings
  std::vector<std::string> reference_prefixes = {"tfm_"};  // published columns
  std::string group_by;  // "hidden", "layers" or column names, comma-separated
};

// The benchmark as read: architectures, ground truth (oriented: higher is better), published
// columns and grouping keys, restricted to rows whose truth is a number.
struct Benchmark {
  const Space* space = nullptr;  // --space, or inferred from the encodings
  std::vector<Arch> archs;
  std::vector<double> truth;
  std::vector<std::pair<std::string, std::vector<double>>> published;
  std::vector<std::string> group_keys;
};

// Rows whose truth is not a number are skipped (with a warning); throws InputError naming the file
// and line for a bad row, and when fewer than 3 rows are left.
Benchmark read_benchmark(const BenchmarkSource& src);

}  // namespace zerolm
