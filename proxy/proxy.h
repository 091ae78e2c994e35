// Zero-cost proxies: the interface, their options and the registry (name -> factory).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/init.h"
#include "spaces/plan.h"
#include "spaces/registry.h"

namespace zerolm {

class TorchModel;       // spaces/model.h; only proxies that read weights include it
class CheckpointSpace;  // checkpoints/prune_space.h; only proxies that score sub-networks include
                        // it

// weights: statistics of the freshly initialised tensors. analytic: their expected values, in
// closed form from the shapes (no model is built).
enum class Mode { Weights, Analytic };
Mode parse_mode(std::string_view name);
std::string mode_name(Mode m);

struct ProxyOptions {
  double alpha = 0.75;           // ZeroLM: weight of attention against feed-forward
  std::string capacity = "msv";  // ZeroLM: capacity statistic (capacity.h)
  Mode mode = Mode::Weights;
  InitSpec init;
  std::uint64_t seed = 0;  // gradient proxies: seed of their random input tokens and targets
};

struct LayerScore {
  double attn = 0;
  double ffn = 0;
};

struct ProxyResult {
  double score = 0;
  std::vector<double> parts;       // one per Proxy::part_names()
  std::vector<LayerScore> layers;  // per-layer sub-module values (ZeroLM), else empty
};

struct ScoreInput {
  const ModelPlan& plan;
  TorchModel* model;  // the built, lazily initialised model; non-null when needs_model()
};

// A sub-network of a trained checkpoint (--space prune), scored from the checkpoint's weights.
struct SubnetworkInput {
  const CheckpointSpace& space;
  const Arch& arch;  // in the space's terms: kept heads, key/value heads and channels per layer
  Profile profile;
  const ModelPlan& plan() const;  // the pruned model's tensors, built on first use
  mutable std::unique_ptr<ModelPlan> built = nullptr;
};

class Proxy {
 public:
  virtual ~Proxy() = default;
  virtual std::string name() const = 0;
  // Named components of the score, reported as columns "<name>_<part>".
  virtual std::vector<std::string> part_names() const { return {}; }
  virtual bool needs_model() const = 0;
  // Whether it needs gradients (autograd on the built model).
  virtual bool needs_grad() const { return false; }
  virtual ProxyResult score(const ScoreInput& in) = 0;
  // Whether it scores a checkpoint's sub-networks from the trained weights (--space prune), and
  // that score; the default refuses (std::logic_error: the configuration is checked before).
  virtual bool on_checkpoints() const { return false; }
  virtual ProxyResult score_subnetwork(const SubnetworkInput& in);
};

using ProxyFactory = std::unique_ptr<Proxy> (*)(const ProxyOptions&);

struct ProxyEntry {
  std::string name;
  std::string help;
  ProxyFactory make;
};

// Name -> factory; adding a name twice is an error.
using ProxyRegistry = Registry<ProxyEntry>;

// The registry of all built-in proxies (registry.cpp holds the explicit list).
const ProxyRegistry& proxies();
std::unique_ptr<Proxy> make_proxy(std::string_view name, const ProxyOptions& options);
// The proxies that score a checkpoint's sub-networks (Proxy::on_checkpoints), in registry order.
std::vector<std::string> checkpoint_proxies();

}  // namespace zerolm
