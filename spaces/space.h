// Search spaces: which architectures exist, how many, how to sample, mutate and validate them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/arch.h"
#include "spaces/family.h"
#include "spaces/rng.h"

namespace zerolm {

struct OpChoice {
  OpKind op;
  int kernel;  // DSC only
};

// What a search in a space maximises when it is given no --proxy and no --objective, and why (the
// evidence, one line for `zerolm list`).
struct DefaultScore {
  std::string proxy = "zerolm";
  std::string capacity = "msv";  // ZeroLM's capacity statistic (proxy zerolm)
  std::string why;
  std::string text() const {  // "zerolm", "zerolm --capacity spectral"
    return proxy + (proxy == "zerolm" && capacity != "msv" ? " --capacity " + capacity : "");
  }
};

// A FlexiBERT-style space: layers come in stacks of `stack` identical layers; every field of a
// stack is chosen independently from its list.
struct SpaceSpec {
  const Family* family = nullptr;
  std::string name;
  std::string description;
  std::vector<int> hidden;
  bool hidden_per_stack = false;  // false: one hidden size for the whole model
  std::vector<int> depths;        // allowed numbers of layers (multiples of `stack`)
  int stack = 1;
  std::vector<OpChoice> ops;
  std::vector<int> heads;
  std::vector<int> ff_dims;
  std::vector<int> num_ff;
  std::vector<int> embeds = {0};    // gpt2-lts: d_embed choices (one per model)
  std::vector<int> div_vals = {1};  // gpt2-lts: adaptive embedding division factors
  std::vector<int> ff_ratios = {};  // when set: inner width = ratio x hidden (ff_dims unused)
  // When set (llama): SwiGLU width = (thirds / 3) x hidden rounded up to a multiple of 256, as
  // LLaMA sizes it (8/3 x 4096 -> 11008); ff_dims unused.
  std::vector<int> swiglu_thirds = {};
  // When set (llama): grouped-query attention, key/value heads = heads / group.
  std::vector<int> kv_groups = {};
  // When true (the decoder spaces): an architecture is in the space with any number of heads that
  // divides its hidden size (and, with kv_groups, any number of key/value heads that divides its
  // heads), as the models allow, so that published models such as GPT-2 small (768 wide, 12
  // heads) are scored as they are. Sampling, mutation and count() keep to the grid `heads` x
  // `kv_groups`.
  bool any_dividing_heads = false;
  DefaultScore score = {};
};

class Space {
 public:
  explicit Space(SpaceSpec spec);
  // Spaces made at run time (the sub-networks of a checkpoint: checkpoints/prune_space.h) override
  // what they hold; the families' spaces use the grid of their SpaceSpec.
  virtual ~Space() = default;
  Space(const Space&) = default;
  Space(Space&&) = default;
  Space& operator=(const Space&) = default;
  Space& operator=(Space&&) = default;

  const std::string& name() const { return spec_.name; }
  const SpaceSpec& spec() const { return spec_; }

  // Number of distinct architectures the sampler draws from (exact below 2^53); validation
  // (any_dividing_heads) and admission accept more.
  virtual double count() const;
  virtual double count_with_depth(int depth) const;

  // Uniform over all architectures of the space (deeper models are likelier, as there are more).
  virtual Arch sample(Rng& rng) const;
  // Uniform over the architectures of one depth (a depth the space allows).
  virtual Arch sample_at_depth(Rng& rng, int depth) const;
  // Changes exactly one field (one stack's op, heads, ff width or count, a hidden size, or the
  // depth) to another value of the grid, so that the result differs from `arch`. From an
  // architecture on the grid the result is on the grid; one off it (a published model given as a
  // seed) keeps its other fields, and a new width or head count is one the layer can have.
  virtual Arch mutate(const Arch& arch, Rng& rng) const;

  // The feed-forward widths a layer of this hidden size may have in the grid (ff_dims, or derived
  // from the hidden size as the space derives it, also for a hidden size off the grid).
  std::vector<int> ff_choices(int hidden) const;

  // Whether the architecture is on the grid the space samples; throws InputError naming the
  // encoding, the field and the allowed values.
  virtual void validate(const Arch& arch, std::string_view input) const;
  // Whether the space's family builds the architecture, on the grid or not (a published model,
  // e.g. LLaMA-2-13B at width 5120, or heads of a width other than hidden / heads); throws
  // InputError naming the encoding and what the family needs. A run-time space (the sub-networks
  // of a checkpoint) admits only what it holds.
  virtual void admit(const Arch& arch, std::string_view input) const;
  // Parses, admits and returns the architecture: what a user gives (score, bench, seeds,
  // export, finetune) is scored as the family builds it, not only where the grid has it.
  virtual Arch parse(std::string_view encoding) const;

 private:
  Layer sample_block(Rng& rng, int hidden) const;
  double choices_per_stack() const;

  SpaceSpec spec_;
  std::vector<std::vector<int>> ff_table_;  // ff_choices of spec_.hidden[i], computed once
};

// The spaces of every family (spaces/families/list.h), in that order; names are unique (checked
// when the registry is built).
const std::vector<std::string>& space_names();
const Space& find_space(std::string_view name);
// A space made at run time, found by find_space under its name from then on (one at a time: a
// later one replaces it). For spaces that depend on an input, e.g. --space prune --checkpoint DIR.
void register_runtime_space(std::unique_ptr<Space> space);
const Space* runtime_space();  // throws InputError listing the known names

}  // namespace zerolm
