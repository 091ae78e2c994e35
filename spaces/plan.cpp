#include "spaces/plan.h"

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
