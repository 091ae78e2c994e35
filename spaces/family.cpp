#include "spaces/family.h"

#include "spaces/errors.h"

#include "spaces/families/list.h"
#include "spaces/registry.h"

namespace zerolm {

#define ZEROLM_DECLARE_FAMILY(id) const Family& family_##id();
ZEROLM_FAMILIES(ZEROLM_DECLARE_FAMILY)
#undef ZEROLM_DECLARE_FAMILY

void Family::check_layer(const Layer&, const std::string&) const {}

double Family::mixing_flops(const LayerPlan& layer, double T) const {
  return 4.0 * T * double(layer.attn_dim);  // attention scores and context
}

namespace {

const Registry<const Family*>& registry() {
  static const Registry<const Family*> r("model family", {
#define ZEROLM_LIST_FAMILY(id) &family_##id(),
                                                             ZEROLM_FAMILIES(ZEROLM_LIST_FAMILY)
#undef ZEROLM_LIST_FAMILY
                                                         });
  return r;
}

}  // namespace

const std::vector<const Family*>& families() {
  return registry().entries();
}

const Family& find_family(std::string_view name) {
  return *registry().find(name);
}

const Family& family_of_encoding(std::string_view encoding) {
  for (const Family* f : families())
    if (f->claims(encoding)) return *f;
  // The first family's grammar is the default: its parser says what it expected.
  return *families().front();
}

const Family& family_of_checkpoint(std::string_view model_type) {
  std::vector<std::string> known;
  for (const Family* f : families()) {
    const HfFacts h = f->hf();
    if (!h.reads_checkpoints) continue;
    if (h.model_type == model_type) return *f;
    known.push_back(h.model_type);
  }
  throw InputError("model_type " + quoted_input(model_type) + ": expected " + join_list(known));
}

}  // namespace zerolm
