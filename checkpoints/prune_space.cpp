#include "checkpoints/prune_space.h"

#include <chrono>
#include <filesystem>

#include "spaces/family.h"

namespace zerolm {

namespace {

const CheckpointSpace& active(const char* what) {
  const auto* s = dynamic_cast<const CheckpointSpace*>(runtime_space());
  if (!s)
    throw InputError(std::string(what) +
                     ": a PRUNE encoding names sub-networks of a checkpoint; give the checkpoint "
                     "with --space prune --checkpoint DIR");
  return *s;
}

// The family of pruned sub-networks: not among the families of spaces/families/list.h (it has no
// space of its own and no initialised model); its grammar and shapes come from the checkpoint.
class PruneFamily : public Family {
 public:
  std::string name() const override { return "prune"; }
  bool claims(std::string_view e) const override { return e.rfind("PRUNE|", 0) == 0; }
  std::string grammar() const override {
    return "a sub-network of a checkpoint (PRUNE|ff<channels>-kv<groups>|...|drop|...)";
  }
  Arch parse(std::string_view encoding) const override {
    const CheckpointSpace& s = active("parse");
    return s.arch(s.prune().parse(encoding));
  }
  std::string encode(const Arch& arch) const override {
    const CheckpointSpace& s = active("encode");
    return s.prune().encode(s.choice(arch));
  }
  std::vector<SpaceSpec> spaces() const override { return {}; }
  std::string default_space() const override { return "prune"; }
  ModelPlan make_plan(const Arch& arch, Profile, bool with_names, std::int64_t) const override {
    return active("make_plan").plan(arch, with_names);
  }
  Objective objective() const override { return Objective::CausalLM; }
  // The checkpoint's own family's: a pruned sub-network computes what its checkpoint computes
  // (written as a checkpoint, not exported as an architecture).
  HfFacts hf() const override {
    return family_of_checkpoint(checkpoint_family_name(active("hf").prune().family())).hf();
  }
};

const PruneFamily& prune_family() {
  static const PruneFamily f;
  return f;
}

}  // namespace

CheckpointSpace::CheckpointSpace(SpaceSpec spec, std::unique_ptr<HfCheckpoint> checkpoint,
                                 const PruneGridOptions& options)
    : Space(std::move(spec)), checkpoint_(std::move(checkpoint)) {
  const auto t0 = std::chrono::steady_clock::now();
  prune_ = std::make_unique<PruneSpace>(*checkpoint_, options);
  prep_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::unique_ptr<CheckpointSpace> CheckpointSpace::open(const std::string& dir,
                                                       const PruneGridOptions& options) {
  auto ck = std::make_unique<HfCheckpoint>(HfCheckpoint::open(dir));
  SpaceSpec spec;
  spec.family = &prune_family();
  spec.name = "prune";
  spec.depths = {int(ck->config().layers)};
  spec.description =
      std::string(options.uniform ? "uniform " : "") + "sub-networks of the checkpoint " + dir;
  auto s = std::unique_ptr<CheckpointSpace>(
      new CheckpointSpace(std::move(spec), std::move(ck), options));
  return s;
}

PruneChoice CheckpointSpace::choice(const Arch& arch) const {
  PruneChoice c;
  for (const Layer& l : arch.layers) {
    LayerChoice lc;
    lc.dropped = l.ff_dim == 0 && l.kv_heads == 0;
    lc.ffn = l.ff_dim;
    lc.kv = l.kv_heads;
    c.push_back(lc);
  }
  return c;
}

Arch CheckpointSpace::arch(const PruneChoice& choice) const {
  Arch a;
  a.family = &prune_family();
  for (std::size_t i = 0; i < choice.size(); ++i) {
    const PruneLayerShape& sh = prune_->shape(int(i));
    Layer l;
    l.op = OpKind::SDP;
    l.hidden = int(sh.hidden);
    l.num_ff = 1;
    l.kv_heads = choice[i].dropped ? 0 : int(choice[i].kv);
    l.heads = choice[i].dropped ? 0 : int(choice[i].kv * sh.heads_per_group);
    l.ff_dim = choice[i].dropped ? 0 : int(choice[i].ffn);
    a.layers.push_back(l);
  }
  return a;
}

double CheckpointSpace::count() const {
  return prune_->count();
}
double CheckpointSpace::count_with_depth(int) const {
  return prune_->count();
}
Arch CheckpointSpace::sample(Rng& rng) const {
  return arch(prune_->sample(rng));
}
Arch CheckpointSpace::sample_at_depth(Rng& rng, int) const {
  return sample(rng);
}
Arch CheckpointSpace::mutate(const Arch& a, Rng& rng) const {
  return arch(prune_->mutate(choice(a), rng));
}
void CheckpointSpace::validate(const Arch& a, std::string_view input) const {
  if (a.family != &prune_family())
    throw InputError(std::string(input) + ": not a sub-network of the checkpoint (expected " +
                     prune_family().grammar() + ")");
  prune_->validate(choice(a), input);
}
Arch CheckpointSpace::parse(std::string_view encoding) const {
  return arch(prune_->parse(encoding));
}

ModelPlan CheckpointSpace::plan(const Arch& a, bool with_names) const {
  const CheckpointConfig& c = checkpoint_->config();
  const bool gpt2 = c.family == CheckpointFamily::Gpt2;
  ModelPlan p;
  p.family = &prune_family();
  p.profile = Profile::Spec;
  p.vocab = c.vocab;
  p.max_positions = c.positions;
  p.embed = c.hidden;
  p.rope_theta = c.rope_theta;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, ParamKind kind,
                 ParamGroup group, int layer) {
    TensorSpec t;
    if (with_names) t.name = name;
    t.shape = std::move(shape);
    t.kind = kind;
    t.group = group;
    t.layer = layer;
    t.fan_out = t.shape[0];
    t.fan_in = t.shape.size() > 1 ? t.shape[1] : 1;
    p.tensors.push_back(std::move(t));
  };
  const std::int64_t H = c.hidden;
  add("embed_tokens", {c.vocab, H}, ParamKind::Embedding, ParamGroup::Embedding, -1);
  if (gpt2) add("wpe", {c.positions, H}, ParamKind::Embedding, ParamGroup::Embedding, -1);
  int kept = 0;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& l = a.layers[i];
    if (l.ff_dim == 0 && l.kv_heads == 0) continue;
    const PruneLayerShape& sh = prune_->shape(int(i));
    const std::int64_t q = std::int64_t(l.heads) * sh.head_dim,
                       kv = std::int64_t(l.kv_heads) * sh.head_dim, f = l.ff_dim;
    const std::string pre = "layers." + std::to_string(kept) + ".";
    const int L = kept++;
    LayerPlan lp;
    lp.op = OpKind::SDP;
    lp.heads = l.heads;
    lp.kernel = 0;
    lp.hidden = H;
    lp.attn_heads = l.heads;
    lp.head_dim = sh.head_dim;
    lp.attn_dim = q;
    lp.op_norm = true;
    lp.ffn_widths = {f};
    lp.next_hidden = 0;
    lp.kv_heads = l.kv_heads;
    p.layers.push_back(lp);
    const bool attn_bias = gpt2 || c.attention_bias, mlp_bias = gpt2 || c.mlp_bias;
    add(pre + "norm1", {H}, ParamKind::Norm, ParamGroup::Norm, L);
    if (gpt2) add(pre + "norm1.bias", {H}, ParamKind::Norm, ParamGroup::Norm, L);
    add(pre + "q", {q, H}, ParamKind::Linear, ParamGroup::Attention, L);
    add(pre + "k", {kv, H}, ParamKind::Linear, ParamGroup::Attention, L);
    add(pre + "v", {kv, H}, ParamKind::Linear, ParamGroup::Attention, L);
    add(pre + "o", {H, q}, ParamKind::Linear, ParamGroup::Attention, L);
    if (attn_bias) {
      add(pre + "q.bias", {q}, ParamKind::Bias, ParamGroup::Attention, L);
      add(pre + "k.bias", {kv}, ParamKind::Bias, ParamGroup::Attention, L);
      add(pre + "v.bias", {kv}, ParamKind::Bias, ParamGroup::Attention, L);
      add(pre + "o.bias", {H}, ParamKind::Bias, ParamGroup::Attention, L);
    }
    add(pre + "norm2", {H}, ParamKind::Norm, ParamGroup::Norm, L);
    if (gpt2) add(pre + "norm2.bias", {H}, ParamKind::Norm, ParamGroup::Norm, L);
    if (!gpt2) add(pre + "gate", {f, H}, ParamKind::Linear, ParamGroup::FFN, L);
    add(pre + "up", {f, H}, ParamKind::Linear, ParamGroup::FFN, L);
    add(pre + "down", {H, f}, ParamKind::Linear, ParamGroup::FFN, L);
    if (mlp_bias) {
      if (!gpt2) add(pre + "gate.bias", {f}, ParamKind::Bias, ParamGroup::FFN, L);
      add(pre + "up.bias", {f}, ParamKind::Bias, ParamGroup::FFN, L);
      add(pre + "down.bias", {H}, ParamKind::Bias, ParamGroup::FFN, L);
    }
  }
  add("norm", {H}, ParamKind::Norm, ParamGroup::Norm, -1);
  if (gpt2) add("norm.bias", {H}, ParamKind::Norm, ParamGroup::Norm, -1);
  // An untied output head is part of what the checkpoint holds: counted with the embeddings.
  if (!c.tied) add("lm_head", {c.vocab, H}, ParamKind::Embedding, ParamGroup::Embedding, -1);
  return p;
}

const CheckpointSpace& use_checkpoint_space(const std::string& dir,
                                            const PruneGridOptions& options) {
  if (const auto* s = dynamic_cast<const CheckpointSpace*>(runtime_space());
      s && std::filesystem::equivalent(s->checkpoint().dir(), dir) &&
      s->prune().options().uniform == options.uniform &&
      s->prune().options().importance == options.importance)
    return *s;
  auto s = CheckpointSpace::open(dir, options);
  const CheckpointSpace& ref = *s;
  register_runtime_space(std::move(s));
  return ref;
}

const CheckpointSpace& registered_checkpoint_space() {
  const auto* s = dynamic_cast<const CheckpointSpace*>(runtime_space());
  if (!s) throw std::logic_error("no checkpoint space registered (use_checkpoint_space first)");
  return *s;
}

DefaultScore prune_default_score() {
  return {"zerolm", "spectral",
          "its picks heal best of six methods on trained 8M-parameter LLaMAs (mean rank 4.5 "
          "of 20; the kept norm 5.2, uniform pruning 10.0) and beat uniform pruning where "
          "15-45% of the model goes; the paper's msv picks worse than chance (12.7), "
          "docs/results.md"};
}

}  // namespace zerolm
