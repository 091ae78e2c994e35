// A benchmark of trained architectures as `zerolm bench` reads it: encodings, ground truth
// (oriented so that higher is better), published proxy columns and grouping keys.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spaces/space.h"

namespace zerolm {

// How the truth is oriented: as the column's name says (Auto), or as the user said.
enum class Orientation { Auto, HigherIsBetter, LowerIsBetter };

// The truth columns tried, in order, when none is named: glue (higher is better), then the
// perplexities and losses (lower is better).
const std::vector<std::pair<std::string, bool>>& default_truth_columns();  // (name, lower)

// Where and how to read one benchmark.
struct BenchmarkSource {
  std::string path;
  std::string name;   // label in tables; empty: the file's stem
  std::string truth;  // ground-truth column; empty: the first of default_truth_columns()
  // Auto: a column of default_truth_columns() has its own orientation (named or inferred), any
  // other is higher is better.
  Orientation orientation = Orientation::Auto;
  std::string space;                                       // empty: inferred from the encodings
  std::vector<std::string> reference_prefixes = {"tfm_"};  // published columns
  std::string group_by;       // "hidden", "layers" or column names, comma-separated
  bool skip_invalid = false;  // skip (and report) rows the space cannot express
};

// `arg` is FILE[,key[=value]]...: the keys truth=COLUMN, lower-is-better, higher-is-better,
// space=SPACE, reference-prefix=PREFIX (repeatable) and name=NAME override `defaults` (the
// command's options) for this benchmark. Throws InputError naming `arg` and the keys expected.
BenchmarkSource parse_benchmark_arg(const std::string& arg, const BenchmarkSource& defaults);

// The benchmark as read: architectures, ground truth (oriented: higher is better), published
// columns and grouping keys, restricted to rows whose truth is a number.
struct Benchmark {
  std::string name, path;
  std::string truth;  // the column that applied
  bool lower_is_better = false;
  const Space* space = nullptr;  // --space, or inferred from the encodings
  std::vector<Arch> archs;
  std::vector<double> truth_values;
  std::vector<std::pair<std::string, std::vector<double>>> published;
  std::vector<std::string> group_keys;
  std::size_t invalid_skipped = 0;  // rows the space could not express (--skip-invalid)
};

// Rows whose truth is not a number are skipped (with a warning). A row the space cannot express
// throws InputError naming the file and line, or with skip_invalid is skipped with a warning (the
// first ten named, then a count). Throws when fewer than 3 rows are left.
Benchmark read_benchmark(const BenchmarkSource& src);

// The file's stem: "../b/flexibert_glue.csv" -> "flexibert_glue".
std::string benchmark_stem(const std::string& path);

// True when the shapes of this benchmark's models depend on the profile (FlexiBERT); decoders
// are built as encoded whatever the profile.
bool shapes_follow_profile(const Benchmark& b);

}  // namespace zerolm
