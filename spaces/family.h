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
};

// The families of spaces/families/list.h, in that order.
const std::vector<const Family*>& families();
const Family& find_family(std::string_view name);  // throws InputError listing the names
// The family whose grammar an encoding uses; throws InputError listing every grammar.
const Family& family_of_encoding(std::string_view encoding);

}  // namespace zerolm
