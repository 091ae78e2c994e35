// Appends TensorSpecs in the order a builder creates them; the families' make_plan use it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spaces/plan.h"

namespace zerolm {

struct Emitter {
  std::vector<TensorSpec>& out;
  bool names;
  std::string n(const std::string& prefix, const char* suffix) const {
    return names ? prefix + suffix : std::string();
  }
  void linear(const std::string& name, std::int64_t in, std::int64_t outf, ParamGroup g, int layer,
              bool bias = true) {
    out.push_back({n(name, ".weight"), {outf, in}, ParamKind::Linear, g, layer, in, outf});
    if (bias) out.push_back({n(name, ".bias"), {outf}, ParamKind::Bias, g, layer, in, outf});
  }
  void rms_norm(const std::string& name, std::int64_t size, int layer) {
    out.push_back(
        {n(name, ".weight"), {size}, ParamKind::Norm, ParamGroup::Norm, layer, size, size});
  }
  void norm(const std::string& name, std::int64_t size, ParamGroup g, int layer) {
    out.push_back({n(name, ".weight"), {size}, ParamKind::Norm, g, layer, size, size});
    out.push_back({n(name, ".bias"), {size}, ParamKind::Norm, g, layer, size, size});
  }
  void table(const std::string& name, std::int64_t rows, std::int64_t cols) {
    out.push_back({n(name, ".weight"),
                   {rows, cols},
                   ParamKind::Embedding,
                   ParamGroup::Embedding,
                   -1,
                   rows,
                   cols});
  }
  void tensor(const std::string& name, std::vector<std::int64_t> shape, ParamKind k, ParamGroup g,
              int layer, std::int64_t in, std::int64_t outf) {
    out.push_back({names ? name : std::string(), std::move(shape), k, g, layer, in, outf});
  }
};

}  // namespace zerolm
