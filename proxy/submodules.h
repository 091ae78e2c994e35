// ZeroLM's decomposition, shared by the proxies built on it (zerolm, zerolm2): which tensors are
// the attention and feed-forward matrices of the layers, and their per-layer sums.
#pragma once

#include <cstddef>
#include <vector>

#include "proxy/proxy.h"

namespace zerolm {

// Indices into plan.tensors of the Linear weights of the layers' attention and feed-forward
// sub-modules (embeddings, norms, biases, projections between widths and heads excluded).
std::vector<std::size_t> submodule_matrices(const ModelPlan& plan);

// The variance a weight was initialised with (GPT-2's residual scaling included under bert init).
double init_variance(const InitSpec& init, const TensorSpec& t);

// Sums value[j] (of tensor idx[j]) per layer and sub-module; score = w_attn * attention +
// w_ffn * feed-forward; parts = {attention, feed-forward}.
ProxyResult sum_by_submodule(const ModelPlan& plan, const std::vector<std::size_t>& idx,
                             const std::vector<double>& value, double w_attn, double w_ffn);

}  // namespace zerolm
