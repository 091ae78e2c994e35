// Scores architectures with a set of proxies: builds the model once (only when a proxy needs
// weights) and runs every proxy on it. LibTorch stays behind this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/proxy.h"
#include "spaces/arch.h"

namespace zerolm {

struct EvalOptions {
  Profile profile = Profile::Spec;
  ProxyOptions proxy;
  std::uint64_t seed = 0;
  std::string device = "cpu";
  // > 0: a model whose tensors need more MiB (weights_mib) fails as out of memory before it is
  // built (a per-worker budget, e.g. for ranks sharing a GPU); in analytic mode too, from the
  // shapes, so that a candidate fails in both modes alike.
  double memory_limit_mb = 0;
};

// The MiB the model's weights take when built in fp32: 4 bytes per element of every tensor of
// its plan. Activations, gradients and the allocator's slack come on top, so a limit should keep
// a margin below the device's memory.
double weights_mib(const ModelPlan& plan);

struct Evaluation {
  std::string encoding;              // canonical
  std::int64_t params = 0;           // backbone parameter count under the profile
  std::vector<ProxyResult> results;  // one per proxy, in the order given
};

class Evaluator {
 public:
  // Throws InputError for an unknown proxy, option or device.
  Evaluator(const std::vector<std::string>& proxy_names, EvalOptions options);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  const std::vector<std::string>& proxy_names() const { return names_; }
  // Proxy columns then part columns: "zerolm", "params", "zerolm_attn", "zerolm_ffn".
  std::vector<std::string> columns() const;
  // Values in columns() order.
  std::vector<double> row(const Evaluation& e) const;

  // The model's seed is derived from (options.seed, canonical encoding): the same architecture
  // gets the same weights in every run, thread and rank.
  Evaluation evaluate(const Arch& arch);

 private:
  struct Impl;
  std::vector<std::string> names_;
  std::unique_ptr<Impl> impl_;
};

// Scores `archs` on `threads` threads (each with its own Evaluator); results in input order and
// independent of the thread count. The first failure is rethrown naming its architecture.
std::vector<Evaluation> evaluate_all(const std::vector<Arch>& archs,
                                     const std::vector<std::string>& proxy_names,
                                     const EvalOptions& options, int threads);

}  // namespace zerolm
