#include "spaces/plan.h"

#include <cmath>

#include "spaces/family.h"

namespace zerolm {

Profile parse_profile(std::string_view name) {
  if (name == "spec") return Profile::Spec;
  if (name == "trained") return Profile::Trained;
  if (name == "compat") return Profile::Compat;
  throw InputError("unknown profile \"" + std::string(name) +
                   "\": expected spec, trained or compat");
}

std::string profile_name(Profile p) {
  switch (p) {
    case Profile::Spec:
      return "spec";
    case Profile::Trained:
      return "trained";
    case Profile::Compat:
      return "compat";
  }
  return "?";
}

std::string group_name(ParamGroup g) {
  switch (g) {
    case ParamGroup::Embedding:
      return "embedding";
    case ParamGroup::Attention:
      return "attention";
    case ParamGroup::FFN:
      return "ffn";
    case ParamGroup::Norm:
      return "norm";
    case ParamGroup::Projection:
      return "projection";
    case ParamGroup::Head:
      return "head";
  }
  return "?";
}

std::int64_t TensorSpec::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::int64_t ModelPlan::output_hidden() const {
  const LayerPlan& l = layers.back();
  return l.next_hidden > 0 ? l.next_hidden : l.hidden;
}

ModelPlan make_plan(const Arch& arch, Profile profile, bool with_names, std::int64_t vocab) {
  if (arch.layers.empty()) throw InputError("an architecture needs at least one layer");
  if (!arch.family) throw std::logic_error("make_plan: architecture without a family");
  return arch.family->make_plan(arch, profile, with_names, vocab);
}

std::vector<double> rotary_frequencies(const ModelPlan& plan, std::int64_t head_dim) {
  const ModelPlan::RopeScaling& r = plan.rope_scaling;
  const double pi = 3.14159265358979323846;
  std::vector<double> f;
  for (std::int64_t i = 0; i < head_dim; i += 2) {
    const double inv = std::pow(plan.rope_theta, -double(i) / double(head_dim));
    if (r.type == "linear") {
      f.push_back(inv / r.factor);
    } else if (r.type == "llama3") {
      // Wavelengths in positions: those the original context spans many times are kept, those
      // longer than it are stretched by `factor`, the band between is blended linearly in
      // original_positions / wavelength.
      const double wavelength = 2 * pi / inv;
      if (wavelength < r.original_positions / r.high_freq_factor) {
        f.push_back(inv);
      } else if (wavelength > r.original_positions / r.low_freq_factor) {
        f.push_back(inv / r.factor);
      } else {
        const double s = (r.original_positions / wavelength - r.low_freq_factor) /
                         (r.high_freq_factor - r.low_freq_factor);
        f.push_back((1 - s) * inv / r.factor + s * inv);
      }
    } else {
      f.push_back(inv);
    }
  }
  return f;
}

std::int64_t count_params(const ModelPlan& plan) {
  std::int64_t n = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group != ParamGroup::Head) n += t.numel();
  return n;
}

std::int64_t count_params_nonembedding(const ModelPlan& plan) {
  std::int64_t n = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group != ParamGroup::Head && t.group != ParamGroup::Embedding) n += t.numel();
  return n;
}

double flops_per_token(const ModelPlan& plan, int seq) {
  double f = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group != ParamGroup::Head && (t.kind == ParamKind::Linear || t.kind == ParamKind::Conv))
      f += 2.0 * double(t.numel());
  for (const LayerPlan& L : plan.layers) f += plan.family->mixing_flops(L, double(seq));
  return f;
}

}  // namespace zerolm
