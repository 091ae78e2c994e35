#include "spaces/space.h"

#include "spaces/registry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace zerolm {

namespace {

std::string list(const std::vector<int>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}";
}

bool contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

template <class T>
const T& pick(const std::vector<T>& v, Rng& rng) {
  return v[rng.below(v.size())];
}

// Draws a value from `v` other than `current` (v has at least two values).
int pick_other(const std::vector<int>& v, int current, Rng& rng) {
  std::vector<int> others;
  for (int x : v)
    if (x != current) others.push_back(x);
  return pick(others, rng);
}

// The feed-forward widths of the grid for a layer `hidden` wide.
std::vector<int> derived_ff(const SpaceSpec& spec, int hidden) {
  std::vector<int> v;
  if (!spec.ff_ratios.empty()) {
    for (int r : spec.ff_ratios) v.push_back(r * hidden);
  } else if (!spec.swiglu_thirds.empty()) {
    for (int t : spec.swiglu_thirds) v.push_back((t * hidden / 3 + 255) / 256 * 256);
  } else {
    v = spec.ff_dims;
  }
  return v;
}

// The family, embedding width and div_val: what both the grid and admission require.
void check_model_fields(const SpaceSpec& spec, const Arch& arch, const std::string& head) {
  const std::string tail = " of space " + spec.name;
  if (arch.family != spec.family)
    throw InputError(head + "expected " + spec.family->grammar() + " for space " + spec.name);
  if (!contains(spec.embeds, arch.embed))
    throw InputError(head + "embedding width " + std::to_string(arch.embed) + " is not in " +
                     list(spec.embeds) + tail);
  if (!contains(spec.div_vals, arch.div_val))
    throw InputError(head + "div_val " + std::to_string(arch.div_val) + " is not in " +
                     list(spec.div_vals) + tail);
}

}  // namespace

Space::Space(SpaceSpec spec) : spec_(std::move(spec)) {
  for (int hidden : spec_.hidden) {
    std::vector<int> v = derived_ff(spec_, hidden);
    // Counting, sampling and mutation assume every width has as many distinct choices.
    if (std::set<int>(v.begin(), v.end()).size() != v.size() ||
        (!ff_table_.empty() && v.size() != ff_table_.front().size()))
      throw std::logic_error("space " + spec_.name +
                             ": feed-forward choices not distinct at hidden " +
                             std::to_string(hidden));
    ff_table_.push_back(std::move(v));
  }
}

std::vector<int> Space::ff_choices(int hidden) const {
  for (std::size_t i = 0; i < spec_.hidden.size(); ++i)
    if (spec_.hidden[i] == hidden) return ff_table_[i];
  // Off the grid (a published model's width): the grid's ratios or thirds of that width.
  return derived_ff(spec_, hidden);
}

double Space::choices_per_stack() const {
  const double ff = double(ff_table_.front().size());
  const double kv = double(std::max<std::size_t>(1, spec_.kv_groups.size()));
  double c = double(spec_.ops.size()) * spec_.heads.size() * kv * ff * spec_.num_ff.size();
  return spec_.hidden_per_stack ? c * spec_.hidden.size() : c;
}

double Space::count_with_depth(int depth) const {
  if (!contains(spec_.depths, depth)) return 0;
  const double stacks = std::pow(choices_per_stack(), depth / spec_.stack);
  const double model = double(spec_.embeds.size() * spec_.div_vals.size());
  return (spec_.hidden_per_stack ? stacks : stacks * spec_.hidden.size()) * model;
}

double Space::count() const {
  double n = 0;
  for (int d : spec_.depths) n += count_with_depth(d);
  return n;
}

Layer Space::sample_block(Rng& rng, int hidden) const {
  Layer l;
  const OpChoice& op = pick(spec_.ops, rng);
  l.op = op.op;
  l.kernel = op.kernel;
  l.heads = pick(spec_.heads, rng);
  if (!spec_.kv_groups.empty()) l.kv_heads = l.heads / pick(spec_.kv_groups, rng);
  const std::size_t ff = rng.below(ff_table_.front().size());
  l.num_ff = pick(spec_.num_ff, rng);
  l.hidden = spec_.hidden_per_stack ? pick(spec_.hidden, rng) : hidden;
  l.ff_dim = ff_choices(l.hidden)[ff];
  return l;
}

Arch Space::sample(Rng& rng) const {
  double u = rng.uniform() * count();
  int depth = spec_.depths.back();
  for (int d : spec_.depths) {
    if (u < count_with_depth(d)) {
      depth = d;
      break;
    }
    u -= count_with_depth(d);
  }
  return sample_at_depth(rng, depth);
}

Arch Space::sample_at_depth(Rng& rng, int depth) const {
  const int hidden = pick(spec_.hidden, rng);
  Arch a;
  a.family = spec_.family;
  a.embed = pick(spec_.embeds, rng);
  a.div_val = pick(spec_.div_vals, rng);
  for (int s = 0; s < depth / spec_.stack; ++s) {
    const Layer block = sample_block(rng, hidden);
    for (int i = 0; i < spec_.stack; ++i) a.layers.push_back(block);
  }
  return a;
}

Arch Space::mutate(const Arch& arch, Rng& rng) const {
  // Fields are (stack, what); stack -1 holds the model-wide fields.
  enum What { kHidden, kOp, kHeads, kKv, kFf, kNumFf, kDepth, kEmbed, kDivVal };
  std::vector<std::pair<int, What>> fields;
  const int stacks = int(arch.layers.size()) / spec_.stack;
  // Whether a layer's heads (and key/value heads) suit its width, so that a layer off the grid
  // of heads (any_dividing_heads) is only given widths its heads divide.
  // Heads of their own width (Arch::head_dim, a pruned or published model's) suit any width.
  auto heads_fit = [&](const Layer& l) {
    if (l.kv_heads > 0 && l.heads % l.kv_heads != 0) return false;
    if (arch.head_dim > 0) return true;
    if (l.hidden % l.heads != 0) return false;
    try {
      spec_.family->check_layer(l, "");
    } catch (const InputError&) {
      return false;
    }
    return true;
  };
  // The other widths of the grid that layers [first, last) can take.
  auto widths_for = [&](int first, int last) {
    std::vector<int> out;
    for (int w : spec_.hidden) {
      bool ok = w != arch.layers[std::size_t(first)].hidden;
      for (int i = first; i < last && ok; ++i) {
        Layer l = arch.layers[std::size_t(i)];
        l.hidden = w;
        ok = heads_fit(l);
      }
      if (ok) out.push_back(w);
    }
    return out;
  };
  // The other head counts of the grid that suit the layer's width (any of them on the grid).
  auto heads_for = [&](const Layer& l) {
    std::vector<int> out;
    for (int h : spec_.heads) {
      Layer m = l;
      m.heads = h;
      m.kv_heads = 0;
      if (h != l.heads && heads_fit(m)) out.push_back(h);
    }
    return out;
  };
  // The other key/value head counts of the grid's groupings that divide the layer's heads.
  auto kv_for = [&](const Layer& l) {
    std::vector<int> out;
    for (int g : spec_.kv_groups)
      if (l.heads % g == 0 && l.heads / g != l.kv_heads) out.push_back(l.heads / g);
    return out;
  };
  if (spec_.depths.size() > 1) fields.push_back({-1, kDepth});
  if (spec_.embeds.size() > 1) fields.push_back({-1, kEmbed});
  if (spec_.div_vals.size() > 1) fields.push_back({-1, kDivVal});
  if (!spec_.hidden_per_stack && !widths_for(0, int(arch.layers.size())).empty())
    fields.push_back({-1, kHidden});
  for (int s = 0; s < stacks; ++s) {
    const Layer& l = arch.layers[std::size_t(s * spec_.stack)];
    if (spec_.hidden_per_stack && !widths_for(s * spec_.stack, (s + 1) * spec_.stack).empty())
      fields.push_back({s, kHidden});
    if (spec_.ops.size() > 1) fields.push_back({s, kOp});
    if (!heads_for(l).empty()) fields.push_back({s, kHeads});
    if (!kv_for(l).empty()) fields.push_back({s, kKv});
    if (ff_table_.front().size() > 1) fields.push_back({s, kFf});
    if (spec_.num_ff.size() > 1) fields.push_back({s, kNumFf});
  }
  Arch out = arch;
  if (fields.empty()) return out;
  const auto [stack, what] = pick(fields, rng);
  if (what == kEmbed || what == kDivVal) {
    if (what == kEmbed) out.embed = pick_other(spec_.embeds, arch.embed, rng);
    if (what == kDivVal) out.div_val = pick_other(spec_.div_vals, arch.div_val, rng);
    return out;
  }
  if (what == kDepth) {
    const int depth = pick_other(spec_.depths, int(arch.layers.size()), rng);
    const int hidden = arch.layers.front().hidden;
    out.layers.resize(std::min<std::size_t>(depth, out.layers.size()));
    while (int(out.layers.size()) < depth) {
      Layer block = sample_block(rng, hidden);
      // A width off the grid may not suit the grid's head counts: the new layers then take the
      // heads of the model's last layer, which suit it.
      if (!heads_fit(block)) {
        block.heads = arch.layers.back().heads;
        block.kv_heads = arch.layers.back().kv_heads;
      }
      for (int i = 0; i < spec_.stack; ++i) out.layers.push_back(block);
    }
    return out;
  }
  const int first = stack < 0 ? 0 : stack * spec_.stack;
  const int last = stack < 0 ? int(out.layers.size()) : first + spec_.stack;
  Layer l = out.layers[first];
  switch (what) {
    case kHidden:
      l.hidden = pick(widths_for(first, last), rng);
      break;
    case kOp: {
      std::vector<OpChoice> others;
      for (const OpChoice& o : spec_.ops)
        if (o.op != l.op || o.kernel != l.kernel) others.push_back(o);
      const OpChoice& o = pick(others, rng);
      l.op = o.op;
      l.kernel = o.kernel;
      break;
    }
    case kHeads: {
      const int group = l.kv_heads > 0 ? l.heads / l.kv_heads : 0;
      l.heads = pick(heads_for(l), rng);
      // The same grouping of query heads, or (from a grouping off the grid that does not divide
      // the new count) one of the grid's.
      if (group > 0)
        l.kv_heads = l.heads % group == 0 ? l.heads / group : l.heads / pick(spec_.kv_groups, rng);
      break;
    }
    case kKv:
      l.kv_heads = pick(kv_for(l), rng);
      break;
    case kFf:
      l.ff_dim = pick_other(ff_choices(l.hidden), l.ff_dim, rng);
      break;
    case kNumFf:
      l.num_ff = pick_other(spec_.num_ff, l.num_ff, rng);
      break;
    case kDepth:
    case kEmbed:
    case kDivVal:
      break;
  }
  for (int i = first; i < last; ++i) {
    if (what == kHidden) {
      // A width given relative to the hidden size keeps its ratio.
      const std::vector<int>& before = ff_choices(out.layers[i].hidden);
      const auto at = std::find(before.begin(), before.end(), out.layers[i].ff_dim);
      if (at != before.end()) out.layers[i].ff_dim = ff_choices(l.hidden)[at - before.begin()];
      out.layers[i].hidden = l.hidden;
    } else {
      const int h = out.layers[i].hidden;
      out.layers[i] = l;
      out.layers[i].hidden = h;
    }
  }
  return out;
}

void Space::validate(const Arch& arch, std::string_view input) const {
  const std::string head = "\"" + std::string(input) + "\": ";
  const std::string tail = " of space " + spec_.name;
  check_model_fields(spec_, arch, head);
  // A head width of its own (-hd) is a pruned model's; the spaces' heads are hidden / heads wide.
  if (arch.head_dim != 0)
    throw InputError(head + "head width " + std::to_string(arch.head_dim) +
                     " given (-hd), but the heads of space " + spec_.name +
                     " are hidden size / heads wide");
  const int depth = int(arch.layers.size());
  for (int i = 0; i < depth; ++i) {
    const Layer& l = arch.layers[i];
    const std::string where = head + (depth > 1 ? "layer " + std::to_string(i + 1) + ": " : "");
    if (!contains(spec_.hidden, l.hidden))
      throw InputError(head + "hidden size " + std::to_string(l.hidden) + " is not in " +
                       list(spec_.hidden) + tail);
    if (!spec_.hidden_per_stack && l.hidden != arch.layers.front().hidden)
      throw InputError(where + "hidden size " + std::to_string(l.hidden) + " differs from " +
                       std::to_string(arch.layers.front().hidden) + ", but space " + spec_.name +
                       " has one hidden size per model");
    const bool op_ok = std::any_of(spec_.ops.begin(), spec_.ops.end(), [&](const OpChoice& o) {
      return o.op == l.op && o.kernel == l.kernel;
    });
    if (!op_ok) {
      std::string ops;
      for (const OpChoice& o : spec_.ops)
        ops += (ops.empty() ? "" : ", ") + op_name(o.op, o.kernel);
      throw InputError(where + "operation " + op_name(l.op, l.kernel) + " is not in {" + ops + "}" +
                       tail);
    }
    // With any_dividing_heads, the division checks below are the rule.
    if (!spec_.any_dividing_heads && !contains(spec_.heads, l.heads))
      throw InputError(where + "heads " + std::to_string(l.heads) + " is not in " +
                       list(spec_.heads) + tail);
    if (spec_.kv_groups.empty()
            ? l.kv_heads != 0
            : l.kv_heads <= 0 || l.heads % l.kv_heads != 0 ||
                  (!spec_.any_dividing_heads && !contains(spec_.kv_groups, l.heads / l.kv_heads)))
      throw InputError(where + "key/value heads " + std::to_string(l.kv_heads) +
                       (spec_.any_dividing_heads
                            ? " do not divide " + std::to_string(l.heads) + " heads"
                            : " is not " + std::to_string(l.heads) + " heads / " +
                                  list(spec_.kv_groups) + tail));
    if (!spec_.ff_ratios.empty()) {
      if (l.ff_dim % l.hidden != 0 || !contains(spec_.ff_ratios, l.ff_dim / l.hidden))
        throw InputError(where + "inner width " + std::to_string(l.ff_dim) + " is not " +
                         list(spec_.ff_ratios) + " x hidden size " + std::to_string(l.hidden) +
                         tail);
    } else if (!spec_.swiglu_thirds.empty()) {
      if (!contains(ff_choices(l.hidden), l.ff_dim))
        throw InputError(where + "SwiGLU width " + std::to_string(l.ff_dim) + " is not in " +
                         list(ff_choices(l.hidden)) + " for hidden size " +
                         std::to_string(l.hidden) + tail);
    } else if (!contains(spec_.ff_dims, l.ff_dim))
      throw InputError(where + "feed-forward width " + std::to_string(l.ff_dim) + " is not in " +
                       list(spec_.ff_dims) + tail);
    if (!contains(spec_.num_ff, l.num_ff))
      throw InputError(where + "feed-forward layer count " + std::to_string(l.num_ff) +
                       " is not in " + list(spec_.num_ff) + tail);
    if (l.hidden % l.heads != 0)
      throw InputError(where + "hidden size " + std::to_string(l.hidden) + " is not divisible by " +
                       std::to_string(l.heads) + " heads");
    spec_.family->check_layer(l, where);
    const Layer& first = arch.layers[i - i % spec_.stack];
    if (!l.same_block(first) || l.hidden != first.hidden)
      throw InputError(where + "differs from layer " + std::to_string(i - i % spec_.stack + 1) +
                       ", but space " + spec_.name + " builds stacks of " +
                       std::to_string(spec_.stack) + " identical layers");
  }
  // Depth last, so that a bad value inside a layer is reported first.
  if (!contains(spec_.depths, depth))
    throw InputError(head + "number of layers " + std::to_string(depth) + " is not in " +
                     list(spec_.depths) + tail);
}

void Space::admit(const Arch& arch, std::string_view input) const {
  const std::string head = "\"" + std::string(input) + "\": ";
  // The embedding widths and division factors are the space's own (gpt2-lts: adaptive
  // embeddings of the benchmark's models); every other field is the family's to build.
  check_model_fields(spec_, arch, head);
  // Every operation any of the family's spaces has is one the family builds (asked only for an
  // operation off this space's list, as the family's spaces are built on each call).
  auto has = [](const std::vector<OpChoice>& ops, const Layer& l) {
    return std::any_of(ops.begin(), ops.end(),
                       [&](const OpChoice& o) { return o.op == l.op && o.kernel == l.kernel; });
  };
  const int depth = int(arch.layers.size());
  if (depth < 1) throw InputError(head + "no layers; expected at least one");
  for (int i = 0; i < depth; ++i) {
    const Layer& l = arch.layers[std::size_t(i)];
    const std::string where = head + (depth > 1 ? "layer " + std::to_string(i + 1) + ": " : "");
    if (!has(spec_.ops, l)) {
      std::vector<OpChoice> ops;
      for (const SpaceSpec& other : spec_.family->spaces())
        for (const OpChoice& o : other.ops)
          if (!has(ops, Layer{o.op, o.kernel})) ops.push_back(o);
      if (!has(ops, l)) {
        std::string names;
        for (const OpChoice& o : ops)
          names += (names.empty() ? "" : ", ") + op_name(o.op, o.kernel);
        throw InputError(where + "operation " + op_name(l.op, l.kernel) + " is not in {" + names +
                         "}, the operations of family " + spec_.family->name());
      }
    }
    if (l.hidden < 1 || l.heads < 1 || l.ff_dim < 1 || l.num_ff < 1)
      throw InputError(where + "hidden size, heads and feed-forward width and count must be >= 1");
    if (spec_.kv_groups.empty() ? l.kv_heads != 0 : l.kv_heads <= 0 || l.heads % l.kv_heads != 0)
      throw InputError(where + "key/value heads " + std::to_string(l.kv_heads) + " do not divide " +
                       std::to_string(l.heads) + " heads");
    // Heads of their own width (-hd) were checked by the family's grammar; the others are
    // hidden / heads wide.
    if (arch.head_dim == 0) {
      if (l.hidden % l.heads != 0)
        throw InputError(where + "hidden size " + std::to_string(l.hidden) +
                         " is not divisible by " + std::to_string(l.heads) + " heads");
      spec_.family->check_layer(l, where);
    }
  }
}

Arch Space::parse(std::string_view encoding) const {
  Arch a = parse_encoding(encoding);
  admit(a, encoding);
  return a;
}

namespace {

const Registry<Space>& registry() {
  static const Registry<Space> spaces = [] {
    Registry<Space> r("space");
    for (const Family* f : families())
      for (SpaceSpec& spec : f->spaces()) r.add(Space(std::move(spec)));
    return r;
  }();
  return spaces;
}

}  // namespace

const std::vector<std::string>& space_names() {
  static const std::vector<std::string> names = registry().names();
  return names;
}

namespace {
std::unique_ptr<Space>& runtime_slot() {
  static std::unique_ptr<Space> slot;
  return slot;
}
}  // namespace

void register_runtime_space(std::unique_ptr<Space> space) {
  runtime_slot() = std::move(space);
}

const Space* runtime_space() {
  return runtime_slot().get();
}

const Space& find_space(std::string_view name) {
  if (const Space* s = runtime_slot().get(); s && s->name() == name) return *s;
  return registry().find(name);
}

}  // namespace zerolm
