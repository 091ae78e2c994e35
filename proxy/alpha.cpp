#include "proxy/alpha.h"

#include <cmath>
#include <cstdlib>

#include "proxy/metrics.h"
#include "proxy/ranking.h"
#include "spaces/rng.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

bool parse_double(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0' && std::isfinite(v);
}

}  // namespace

double parse_alpha_number(const std::string& text) {
  double a = 0;
  if (!parse_double(text, a))
    throw InputError("--alpha " + quoted_input(text) + ": expected a number such as 0.75");
  return a;
}

AlphaChoice parse_alpha(std::string_view text_view) {
  const std::string text(text_view);
  AlphaChoice c;
  c.text = text;
  if (text == "heuristic") {
    c.kind = AlphaChoice::Kind::Heuristic;
    return c;
  }
  if (text == "lobo") {
    c.kind = AlphaChoice::Kind::LeaveOneOut;
    return c;
  }
  if (text.rfind("sample:", 0) == 0) {
    double k = 0;
    if (!parse_double(text.substr(7), k) || k < 2 || k != std::floor(k) || k > 1e9)
      throw InputError("--alpha " + text +
                       ": expected sample:<rows> with a whole number of rows >= 2");
    c.kind = AlphaChoice::Kind::Sample;
    c.rows = std::size_t(k);
    return c;
  }
  if (!parse_double(text, c.value))
    throw InputError("--alpha " + quoted_input(text) +
                     ": expected a number such as 0.75, sample:<rows>, heuristic or lobo");
  return c;
}

double heuristic_alpha(const Space& space, const EvalOptions& options, int samples, int threads,
                       double* tau) {
  Rng rng(derive_seed(options.seed, fnv1a("alpha-heuristic")));
  std::vector<Arch> sample;
  for (int i = 0; i < samples; ++i) sample.push_back(space.sample(rng));
  const auto evals = evaluate_all(sample, {"zerolm", "params"}, options, threads);
  std::vector<double> attn, ffn, params;
  for (const Evaluation& e : evals) {
    attn.push_back(e.results[0].parts[0]);
    ffn.push_back(e.results[0].parts[1]);
    params.push_back(e.results[1].score);
  }
  const double alpha = best_alpha(attn, ffn, params, {}, alpha_grid());
  if (tau) *tau = kendall_tau_b(combine(attn, ffn, alpha), params);
  return alpha;
}

}  // namespace zerolm
