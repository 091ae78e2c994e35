// Model families as styles (LibTorch-free part). A family is one class in one file under
// spaces/families/: its encoding grammar, its spaces, the shapes of its models (make_plan), what
// it is trained on, and (in spaces/families/*_model.cpp, the LibTorch part) its forward pass.
// The families are listed once, in spaces/families/list.h; generic code asks the family instead
// of testing which one it is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/arch.h"
#include "spaces/plan.h"

namespace zerolm {

struct SpaceSpec;

// What a model of the family learns when it is trained (train/).
enum class Objective {
  MaskedLM,  // bidirectional: predict masked tokens
  CausalLM,  // left to right: every position predicts the next token
};

// What a family's models compute beyond their shapes (a plan carries shapes only), and what
// Hugging Face calls them: the export (checkpoints/hf_config.cpp) and the checkpoint readers and
// writers ask the family for these instead of testing which family it is.
struct HfFacts {
  std::string norm = "layernorm";  // or "rmsnorm"
  std::string placement =
      "pre";               // "pre" (before attention and MLP) or "post" (after each residual)
  double norm_eps = 1e-5;  // unless a checkpoint's config says otherwise (ModelPlan::norm_eps)
  std::string activation = "gelu";    // of the feed-forward layers, by Hugging Face's name
  std::string positions = "learned";  // or "rotary"
  bool tied = true;                   // the output head is the token embedding
  // The configuration class that holds the family's models ("GPT2Config"; empty: none), its
  // model_type and its causal-LM or masked-LM class.
  std::string config_class, model_type, architecture;
  // Whether a checkpoint of model_type is read as a model of this family (one family per type).
  bool reads_checkpoints = false;
};

class Family {
 public:
  virtual ~Family() = default;

  // Short name, e.g. "flexibert", "gpt2-lts" (labels in errors and in `zerolm list`).
  virtual std::string name() const = 0;
  // True when an encoding belongs to this family (decided by its prefix: "H", "GPT2-", ...).
  virtual bool claims(std::string_view encoding) const = 0;
  // How the family's encodings look, for messages: "a LLaMA decoder encoding (LLAMA-d...)".
  virtual std::string grammar() const = 0;
  // The grammar only (no space membership); throws InputError naming the input and the position.
  virtual Arch parse(std::string_view encoding) const = 0;
  virtual std::string encode(const Arch& arch) const = 0;
  // Checks beyond the space's lists (e.g. rotary positions need an even head width); throws
  // InputError starting with `where`.
  virtual void check_layer(const Layer& layer, const std::string& where) const;

  // The family's search spaces, in the order `zerolm list` shows them.
  virtual std::vector<SpaceSpec> spaces() const = 0;
  // The space an encoding of this family is scored in when the user names none.
  virtual std::string default_space() const = 0;

  // Every parameter tensor of the model (see plan.h); vocab 0 = the family's own vocabulary.
  virtual ModelPlan make_plan(const Arch& arch, Profile profile, bool with_names,
                              std::int64_t vocab) const = 0;
  // Forward FLOPs per token of one layer's token mixing beyond its weight products (attention
  // scores and context by default), at sequence length T.
  virtual double mixing_flops(const LayerPlan& layer, double T) const;

  virtual Objective objective() const = 0;
  bool causal() const { return objective() == Objective::CausalLM; }

  virtual HfFacts hf() const = 0;
};

// The families of spaces/families/list.h, in that order.
const std::vector<const Family*>& families();
const Family& find_family(std::string_view name);  // throws InputError listing the names
// The family whose grammar an encoding uses; throws InputError listing every grammar.
const Family& family_of_encoding(std::string_view encoding);
// The family that reads Hugging Face checkpoints of `model_type` ("llama", "gpt2"); throws
// InputError listing the model types some family reads.
const Family& family_of_checkpoint(std::string_view model_type);

}  // namespace zerolm
