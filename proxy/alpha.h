// How ZeroLM's alpha (the weight of attention against feed-forward capacity) is chosen: a fixed
// number, the data-free self-parameter heuristic, or (bench only) fitted on k rows of a benchmark
// and reported on the rest, or fitted on the other benchmarks of a run (leave one benchmark out).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proxy/evaluator.h"

namespace zerolm {

class Space;

struct AlphaChoice {
  enum class Kind { Fixed, Heuristic, Sample, LeaveOneOut };
  Kind kind = Kind::Fixed;
  double value = 0.75;   // Fixed: the alpha
  std::size_t rows = 0;  // Sample: rows fitted on
  std::string text;      // as the user wrote it ("0.75", "heuristic", "sample:50", "lobo")
};

// "0.75", "heuristic", "sample:<rows>" (rows >= 2) or "lobo"; throws InputError naming the input.
AlphaChoice parse_alpha(std::string_view text);
// A fixed alpha only (search, score): throws InputError for anything but a finite number.
double parse_alpha_number(const std::string& text);

// The self-parameter heuristic (zerolm-method.md): the grid alpha whose ZeroLM score ranks
// `samples` architectures drawn from `space` most like their parameter count. Data-free.
// Returns alpha; `tau` receives that Kendall tau.
double heuristic_alpha(const Space& space, const EvalOptions& options, int samples, int threads,
                       double* tau = nullptr);

}  // namespace zerolm
