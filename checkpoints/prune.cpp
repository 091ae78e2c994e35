#include "checkpoints/prune.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <stdexcept>

#include "spaces/errors.h"

namespace zerolm {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

std::string list(const std::vector<std::int64_t>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + str(v[i]);
  return s;
}

// Squared norms of every row and every column of `m` (either may be null), reading the stored
// tensor in its own order (a Conv1D view's columns are the stored rows) so that every element is
// converted once and memory is read sequentially.
void square_norms(const Matrix& m, std::vector<double>* rows, std::vector<double>* cols) {
  if (rows) rows->assign(std::size_t(m.rows), 0.0);
  if (cols) cols->assign(std::size_t(m.cols), 0.0);
  const bool by_rows = !m.transposed();
  const std::int64_t outer = by_rows ? m.rows : m.cols, inner = by_rows ? m.cols : m.rows;
  std::vector<double>* outer_sums = by_rows ? rows : cols;
  std::vector<double>* inner_sums = by_rows ? cols : rows;
  std::vector<double> buf(std::size_t(inner), 0.0);
  double* in = inner_sums ? inner_sums->data() : nullptr;
  for (std::int64_t i = 0; i < outer; ++i) {
    if (by_rows)
      m.row(i, buf.data());
    else
      m.column(i, buf.data());
    double s = 0;
    if (in) {
      for (std::int64_t j = 0; j < inner; ++j) {
        const double x2 = buf[std::size_t(j)] * buf[std::size_t(j)];
        s += x2;
        in[j] += x2;
      }
    } else {
      for (std::int64_t j = 0; j < inner; ++j) s += buf[std::size_t(j)] * buf[std::size_t(j)];
    }
    if (outer_sums) (*outer_sums)[std::size_t(i)] = s;
  }
}

// Indices by descending importance, equal importance by ascending index.
std::vector<std::int64_t> rank(const std::vector<double>& importance) {
  std::vector<std::int64_t> order(importance.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    const double x = importance[std::size_t(a)], y = importance[std::size_t(b)];
    return x > y || (x == y && a < b);
  });
  return order;
}

// Given importance scores: one finite score per channel (group) of every layer.
void check_importance(const std::vector<std::vector<double>>& scores, int layer, int layers,
                      std::int64_t count, const char* what) {
  if (std::int64_t(scores.size()) != layers)
    throw InputError("prune grid: importance of " + std::string(what) + " for " +
                     str(std::int64_t(scores.size())) + " layers, expected " + str(layers));
  const auto& v = scores[std::size_t(layer)];
  if (std::int64_t(v.size()) != count)
    throw InputError("prune grid: layer " + str(layer) + ": " + str(std::int64_t(v.size())) +
                     " importance scores of " + what + ", expected " + str(count));
  for (double x : v)
    if (!std::isfinite(x))
      throw InputError("prune grid: layer " + str(layer) + ": an importance score of " + what +
                       " is not finite");
}

// Prefix sums of `values` taken in `order`, with a leading 0.
std::vector<double> prefix(const std::vector<double>& values,
                           const std::vector<std::int64_t>& order) {
  std::vector<double> p(order.size() + 1, 0.0);
  for (std::size_t i = 0; i < order.size(); ++i) p[i + 1] = p[i] + values[std::size_t(order[i])];
  return p;
}

// Sums of `values` over consecutive blocks of `block` elements (heads -> groups, rows -> heads).
std::vector<double> blocks(const std::vector<double>& values, std::int64_t block) {
  std::vector<double> out(values.size() / std::size_t(block), 0.0);
  for (std::size_t i = 0; i < values.size(); ++i) out[i / std::size_t(block)] += values[i];
  return out;
}

struct Biases {
  bool attention, mlp;
};

// Parameters of one kept layer with `ffn` channels and `kv` groups.
std::int64_t layer_params(CheckpointFamily family, const PruneLayerShape& s, Biases b,
                          std::int64_t ffn, std::int64_t kv) {
  const std::int64_t d = s.hidden, qw = kv * s.heads_per_group * s.head_dim, kvw = kv * s.head_dim;
  if (family == CheckpointFamily::Gpt2) {
    // ln_1, ln_2 (weight, bias); c_attn [d, 3 qw] + bias; attn.c_proj [qw, d] + bias d; c_fc
    // [d, ffn] + bias; mlp.c_proj [ffn, d] + bias d.
    return 4 * d + (d * 3 * qw + 3 * qw) + (qw * d + d) + (d * ffn + ffn) + (ffn * d + d);
  }
  std::int64_t n = 2 * d;                  // input and post-attention RMSNorm
  n += d * qw + 2 * d * kvw + qw * d;      // q, k, v, o
  if (b.attention) n += qw + 2 * kvw + d;  // their biases
  n += 3 * d * ffn;                        // gate, up, down
  if (b.mlp) n += 2 * ffn + d;             // their biases
  return n;
}

std::int64_t outside_params(const CheckpointConfig& c) {
  const std::int64_t embed = c.vocab * c.hidden, head = c.tied ? 0 : c.vocab * c.hidden;
  if (c.family == CheckpointFamily::Gpt2)
    return embed + c.positions * c.hidden + 2 * c.hidden + head;
  return embed + c.hidden + head;
}

PruneLayerShape config_shape(const CheckpointConfig& c) {
  PruneLayerShape s;
  s.hidden = c.hidden;
  s.intermediate = c.intermediate;
  s.groups = c.kv_heads;
  s.heads_per_group = c.heads / c.kv_heads;
  s.head_dim = c.head_dim;
  return s;
}

void check_fractions(const std::vector<double>& f, const char* what) {
  if (f.empty())
    throw InputError(std::string("prune grid: ") + what +
                     ": no fractions (expected values in (0, 1])");
  for (double x : f)
    if (!(x > 0 && x <= 1))
      throw InputError(std::string("prune grid: ") + what + ": fraction " + std::to_string(x) +
                       ": expected a value in (0, 1]");
}

// Distinct values, descending.
std::vector<std::int64_t> distinct_desc(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end(), std::greater<>());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

PruneSpace::PruneSpace(const HfCheckpoint& ck, const PruneGridOptions& options)
    : options_(options) {
  check_fractions(options.ffn_fractions, "feed-forward");
  check_fractions(options.kv_fractions, "key/value groups");
  if (options.ffn_multiple < 0)
    throw InputError("prune grid: channel multiple " + str(options.ffn_multiple) +
                     ": expected 0 (automatic) or a positive number");
  if (!(options.max_drop_fraction >= 0 && options.max_drop_fraction <= 1))
    throw InputError("prune grid: max_drop_fraction " + std::to_string(options.max_drop_fraction) +
                     ": expected a value in [0, 1]");
  const CheckpointConfig& c = ck.config();
  family_ = c.family;
  const bool gpt2 = family_ == CheckpointFamily::Gpt2;
  attention_bias_ = gpt2 || c.attention_bias;
  mlp_bias_ = gpt2 || c.mlp_bias;
  fixed_params_ = outside_params(c);

  const int L = int(c.layers);
  std::vector<double> rows_q, rows_k, rows_v, cols_o, rows_gate, rows_up, cols_down;
  for (int l = 0; l < L; ++l) {
    const Matrix q = ck.attention(l, AttnMatrix::Q), k = ck.attention(l, AttnMatrix::K),
                 v = ck.attention(l, AttnMatrix::V), o = ck.attention(l, AttnMatrix::O);
    const Matrix up = ck.ffn(l, FfnMatrix::Up), down = ck.ffn(l, FfnMatrix::Down);
    PruneLayerShape s;
    s.hidden = q.cols;
    s.intermediate = up.rows;
    s.head_dim = c.head_dim;
    s.groups = k.rows / s.head_dim;
    s.heads_per_group = q.rows / s.head_dim / s.groups;
    shapes_.push_back(s);

    square_norms(q, &rows_q, nullptr);
    square_norms(k, &rows_k, nullptr);
    square_norms(v, &rows_v, nullptr);
    square_norms(o, nullptr, &cols_o);
    square_norms(up, &rows_up, nullptr);
    square_norms(down, nullptr, &cols_down);
    if (!gpt2) square_norms(ck.ffn(l, FfnMatrix::Gate), &rows_gate, nullptr);

    PruneLayerNorms n;
    // Feed-forward channels: gate row + up row + down column.
    std::vector<double> channel(std::size_t(s.intermediate));
    for (std::size_t i = 0; i < channel.size(); ++i)
      channel[i] = rows_up[i] + cols_down[i] + (gpt2 ? 0.0 : rows_gate[i]);
    for (std::size_t i = 0; i < channel.size(); ++i)
      if (!std::isfinite(channel[i]))
        throw InputError(ck.dir() + ": " + ck.ffn_name(l, FfnMatrix::Up) + " (layer " + str(l) +
                         ", channel " + str(std::int64_t(i)) +
                         "): weights are not finite (NaN or infinity); cannot rank channels");
    if (!options.ffn_importance.empty()) {
      check_importance(options.ffn_importance, l, L, s.intermediate, "feed-forward channels");
      n.ffn_order = rank(options.ffn_importance[std::size_t(l)]);
    } else {
      n.ffn_order = rank(channel);
    }
    if (!gpt2) n.gate = prefix(rows_gate, n.ffn_order);
    n.up = prefix(rows_up, n.ffn_order);
    n.down = prefix(cols_down, n.ffn_order);

    // Key/value groups: q rows and o columns of their query heads, k and v rows of their head.
    const std::int64_t group_q = s.heads_per_group * s.head_dim;
    const std::vector<double> gq = blocks(rows_q, group_q), go = blocks(cols_o, group_q),
                              gk = blocks(rows_k, s.head_dim), gv = blocks(rows_v, s.head_dim);
    std::vector<double> group(std::size_t(s.groups));
    for (std::size_t g = 0; g < group.size(); ++g) group[g] = gq[g] + gk[g] + gv[g] + go[g];
    for (std::size_t g = 0; g < group.size(); ++g)
      if (!std::isfinite(group[g]))
        throw InputError(ck.dir() + ": " + ck.attention_name(l, AttnMatrix::Q) + " (layer " +
                         str(l) + ", key/value group " + str(std::int64_t(g)) +
                         "): weights are not finite (NaN or infinity); cannot rank heads");
    if (!options.kv_importance.empty()) {
      check_importance(options.kv_importance, l, L, s.groups, "key/value groups");
      n.kv_order = rank(options.kv_importance[std::size_t(l)]);
    } else {
      n.kv_order = rank(group);
    }
    n.q = prefix(gq, n.kv_order);
    n.k = prefix(gk, n.kv_order);
    n.v = prefix(gv, n.kv_order);
    n.o = prefix(go, n.kv_order);
    total_norm_ += n.q.back() + n.k.back() + n.v.back() + n.o.back() + n.up.back() + n.down.back() +
                   (gpt2 ? 0.0 : n.gate.back());
    norms_.push_back(std::move(n));

    // The grid.
    const std::int64_t I = s.intermediate;
    const std::int64_t m = options.ffn_multiple > 0 ? options.ffn_multiple : (I >= 1024 ? 64 : 8);
    std::vector<std::int64_t> ff;
    for (double f : options.ffn_fractions) {
      if (f == 1) {
        ff.push_back(I);
        continue;
      }
      std::int64_t kept = std::int64_t(std::llround(f * double(I) / double(m))) * m;
      kept = std::min(std::max(kept, m), I);
      ff.push_back(kept);
    }
    ffn_grid_.push_back(distinct_desc(ff));
    std::vector<std::int64_t> kv;
    for (double f : options.kv_fractions)
      kv.push_back(std::max<std::int64_t>(1, std::llround(f * double(s.groups))));
    kv_grid_.push_back(distinct_desc(kv));
  }
  max_dropped_ = std::min(L - 1, int(std::floor(options.max_drop_fraction * L + 1e-9)));

  if (options.uniform)
    for (int l = 1; l < L; ++l)
      if (ffn_grid_[l] != ffn_grid_[0] || kv_grid_[l] != kv_grid_[0])
        throw InputError(
            "prune grid: uniform: layer " + str(l) + " (ff {" + list(ffn_grid_[l]) + "} x kv {" +
            list(kv_grid_[l]) + "}) has another shape than layer 0 (ff {" + list(ffn_grid_[0]) +
            "} x kv {" + list(kv_grid_[0]) + "}): expected a checkpoint whose layers are alike");

  const int D = max_dropped_ + 1;
  ways_.assign(std::size_t((L + 1) * D), 0.0);
  drop_ways_.assign(std::size_t((L + 1) * D), 0.0);
  for (int d = 0; d < D; ++d)
    ways_[std::size_t(L * D + d)] = drop_ways_[std::size_t(L * D + d)] = 1;
  for (int l = L - 1; l >= 0; --l) {
    const double n = double(ffn_grid_[l].size() * kv_grid_[l].size());
    for (int d = 0; d < D; ++d) {
      ways_[std::size_t(l * D + d)] = n * ways(l + 1, d) + (d > 0 ? ways(l + 1, d - 1) : 0.0);
      drop_ways_[std::size_t(l * D + d)] =
          drop_ways(l + 1, d) + (d > 0 ? drop_ways(l + 1, d - 1) : 0.0);
    }
  }
}

double PruneSpace::ways(int from_layer, int drops_left) const {
  return ways_[std::size_t(from_layer * (max_dropped_ + 1) + drops_left)];
}
double PruneSpace::drop_ways(int from_layer, int drops_left) const {
  return drop_ways_[std::size_t(from_layer * (max_dropped_ + 1) + drops_left)];
}

std::string PruneSpace::describe() const {
  std::string s = "prune space over a " + checkpoint_family_name(family_) + " checkpoint, " +
                  str(layers()) + " layers; per layer: ";
  std::vector<std::string> seen;
  for (int l = 0; l < layers(); ++l) {
    const std::string g = "ff {" + list(ffn_grid_[l]) + "} x kv {" + list(kv_grid_[l]) + "}";
    if (std::find(seen.begin(), seen.end(), g) == seen.end()) seen.push_back(g);
  }
  for (std::size_t i = 0; i < seen.size(); ++i) s += (i ? " or " : "") + seen[i];
  s += max_dropped_ > 0 ? ", or drop (at most " + str(max_dropped_) + " layers dropped)"
                        : ", no layer dropped";
  if (options_.uniform) s += "; uniform: every kept layer the same counts";
  if (!options_.importance.empty()) s += "; kept first: " + options_.importance;
  return s;
}

double PruneSpace::count() const {
  if (options_.uniform)
    return double(ffn_grid_[0].size() * kv_grid_[0].size()) * drop_ways(0, max_dropped_);
  return ways(0, max_dropped_);
}

PruneChoice PruneSpace::full() const {
  PruneChoice c(static_cast<std::size_t>(layers()));
  for (int l = 0; l < layers(); ++l) c[std::size_t(l)] = {false, ffn_grid_[l][0], kv_grid_[l][0]};
  return c;
}

PruneChoice PruneSpace::sample(Rng& rng) const {
  // Layer by layer, drop with the share of the remaining sub-networks that drop it: uniform over
  // the space, which is each layer's field uniform conditioned on the drop cap.
  PruneChoice c(static_cast<std::size_t>(layers()));
  int left = max_dropped_;
  if (options_.uniform) {
    const LayerChoice kept{false, ffn_grid_[0][rng.below(ffn_grid_[0].size())],
                           kv_grid_[0][rng.below(kv_grid_[0].size())]};
    for (int l = 0; l < layers(); ++l) {
      const bool drop = left > 0 && rng.uniform() * drop_ways(l, left) < drop_ways(l + 1, left - 1);
      c[std::size_t(l)] = drop ? LayerChoice{true, 0, 0} : kept;
      left -= drop;
    }
    return c;
  }
  for (int l = 0; l < layers(); ++l) {
    LayerChoice& lc = c[std::size_t(l)];
    if (left > 0 && rng.uniform() * ways(l, left) < ways(l + 1, left - 1)) {
      lc.dropped = true;
      --left;
      continue;
    }
    lc.ffn = ffn_grid_[l][rng.below(ffn_grid_[l].size())];
    lc.kv = kv_grid_[l][rng.below(kv_grid_[l].size())];
  }
  return c;
}

PruneChoice PruneSpace::mutate_uniform(const PruneChoice& choice, Rng& rng) const {
  int dropped = 0;
  LayerChoice kept;
  for (const LayerChoice& lc : choice) {
    dropped += lc.dropped;
    if (!lc.dropped) kept = lc;
  }
  // Alternatives: the other shared (ffn, kv) pairs, then each layer dropped (within the cap) or
  // restored.
  const std::size_t nkv = kv_grid_[0].size(), pairs = ffn_grid_[0].size() * nkv;
  std::vector<int> toggles;
  for (int l = 0; l < layers(); ++l)
    if (choice[std::size_t(l)].dropped || dropped < max_dropped_) toggles.push_back(l);
  const std::size_t n = pairs - 1 + toggles.size();
  if (n == 0) throw std::logic_error("prune space: a single sub-network, nothing to mutate");
  std::size_t pick = rng.below(n);
  PruneChoice out = choice;
  if (pick < pairs - 1) {
    const auto fi = std::size_t(std::find(ffn_grid_[0].begin(), ffn_grid_[0].end(), kept.ffn) -
                                ffn_grid_[0].begin());
    const auto ki = std::size_t(std::find(kv_grid_[0].begin(), kv_grid_[0].end(), kept.kv) -
                                kv_grid_[0].begin());
    if (pick >= fi * nkv + ki) ++pick;
    const LayerChoice to{false, ffn_grid_[0][pick / nkv], kv_grid_[0][pick % nkv]};
    for (LayerChoice& lc : out)
      if (!lc.dropped) lc = to;
    return out;
  }
  LayerChoice& lc = out[std::size_t(toggles[pick - (pairs - 1)])];
  lc = lc.dropped ? kept : LayerChoice{true, 0, 0};
  return out;
}

PruneChoice PruneSpace::mutate(const PruneChoice& choice, Rng& rng) const {
  validate(choice, encode(choice));
  if (options_.uniform) return mutate_uniform(choice, rng);
  int dropped = 0;
  for (const LayerChoice& lc : choice) dropped += lc.dropped;
  // Each layer's alternatives: its other (ffn, kv) pairs and, within the cap, drop.
  std::vector<std::int64_t> alternatives(choice.size());
  std::vector<int> open;
  for (int l = 0; l < layers(); ++l) {
    const std::int64_t n = std::int64_t(ffn_grid_[l].size() * kv_grid_[l].size());
    const LayerChoice& lc = choice[std::size_t(l)];
    alternatives[std::size_t(l)] = lc.dropped ? n : n - 1 + (dropped < max_dropped_ ? 1 : 0);
    if (alternatives[std::size_t(l)] > 0) open.push_back(l);
  }
  if (open.empty()) throw std::logic_error("prune space: a single sub-network, nothing to mutate");
  const int l = open[rng.below(open.size())];
  PruneChoice out = choice;
  LayerChoice& lc = out[std::size_t(l)];
  const std::int64_t nkv = std::int64_t(kv_grid_[l].size());
  std::int64_t pick = std::int64_t(rng.below(std::uint64_t(alternatives[std::size_t(l)])));
  if (lc.dropped) {
    lc = {false, ffn_grid_[l][std::size_t(pick / nkv)], kv_grid_[l][std::size_t(pick % nkv)]};
    return out;
  }
  // Pairs in grid order without the current one, then drop.
  const auto fi =
      std::find(ffn_grid_[l].begin(), ffn_grid_[l].end(), lc.ffn) - ffn_grid_[l].begin();
  const auto ki = std::find(kv_grid_[l].begin(), kv_grid_[l].end(), lc.kv) - kv_grid_[l].begin();
  const std::int64_t current = fi * nkv + ki;
  const std::int64_t pairs = std::int64_t(ffn_grid_[l].size()) * nkv;
  if (pick >= current) ++pick;
  if (pick >= pairs) {
    lc = {true, 0, 0};
  } else {
    lc.ffn = ffn_grid_[l][std::size_t(pick / nkv)];
    lc.kv = kv_grid_[l][std::size_t(pick % nkv)];
  }
  return out;
}

std::string PruneSpace::encode(const PruneChoice& choice) const {
  std::string s = "PRUNE";
  for (const LayerChoice& lc : choice)
    s += lc.dropped ? std::string("|drop") : "|ff" + str(lc.ffn) + "-kv" + str(lc.kv);
  return s;
}

namespace {

// A decimal count without sign or leading zeros, below 2^53; false otherwise.
bool parse_count(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 15 || (s.size() > 1 && s[0] == '0')) return false;
  std::int64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  out = v;
  return true;
}

}  // namespace

PruneChoice PruneSpace::parse(std::string_view encoding) const {
  const std::string where = "encoding " + quoted_input(encoding);
  const std::string form = "PRUNE|<layer>|... with one field per layer (" + str(layers()) +
                           "), each ff<channels>-kv<groups> or drop";
  if (encoding.substr(0, 6) != "PRUNE|") throw InputError(where + ": expected " + form);
  std::vector<std::string_view> fields;
  std::string_view rest = encoding.substr(6);
  while (true) {
    const std::size_t bar = rest.find('|');
    fields.push_back(rest.substr(0, bar));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  if (int(fields.size()) != layers())
    throw InputError(where + ": " + str(std::int64_t(fields.size())) + " layer fields, expected " +
                     str(layers()) + " (one per layer of the checkpoint)");
  PruneChoice c(fields.size());
  for (std::size_t l = 0; l < fields.size(); ++l) {
    const std::string_view f = fields[l];
    LayerChoice& lc = c[l];
    if (f == "drop") {
      lc.dropped = true;
      continue;
    }
    const std::size_t dash = f.find("-kv");
    if (f.substr(0, 2) != "ff" || dash == std::string_view::npos ||
        !parse_count(f.substr(2, dash - 2), lc.ffn) || !parse_count(f.substr(dash + 3), lc.kv))
      throw InputError(where + ": layer " + str(std::int64_t(l)) + ": field " + quoted_input(f) +
                       ": expected ff<channels>-kv<groups> or drop");
  }
  validate(c, encoding);
  return c;
}

void PruneSpace::validate(const PruneChoice& choice, std::string_view input) const {
  const std::string where = "encoding " + quoted_input(input);
  if (int(choice.size()) != layers())
    throw InputError(where + ": " + str(std::int64_t(choice.size())) + " layers, expected " +
                     str(layers()));
  int dropped = 0;
  for (int l = 0; l < layers(); ++l) {
    const LayerChoice& lc = choice[std::size_t(l)];
    const std::string at = where + ": layer " + str(l) + ": ";
    if (lc.dropped) {
      if (lc.ffn != 0 || lc.kv != 0)
        throw InputError(at + "dropped with kept counts (expected none)");
      if (max_dropped_ == 0)
        throw InputError(at + "drop: this space drops no layer (expected ff<channels>-kv<groups>)");
      ++dropped;
      continue;
    }
    const auto& ff = ffn_grid_[l];
    if (std::find(ff.begin(), ff.end(), lc.ffn) == ff.end())
      throw InputError(at + "ff" + str(lc.ffn) + ": expected one of ff" + list(ff) +
                       " feed-forward channels");
    const auto& kv = kv_grid_[l];
    if (std::find(kv.begin(), kv.end(), lc.kv) == kv.end())
      throw InputError(at + "kv" + str(lc.kv) + ": expected one of kv" + list(kv) +
                       " key/value groups");
  }
  if (dropped > max_dropped_)
    throw InputError(where + ": " + str(dropped) + " layers dropped, expected at most " +
                     str(max_dropped_) + " of " + str(layers()));
  if (options_.uniform) {
    const LayerChoice* first = nullptr;
    for (int l = 0; l < layers(); ++l) {
      const LayerChoice& lc = choice[std::size_t(l)];
      if (lc.dropped) continue;
      if (!first) first = &lc;
      if (lc != *first)
        throw InputError(where + ": layer " + str(l) + " keeps ff" + str(lc.ffn) + "-kv" +
                         str(lc.kv) + ", another kept layer ff" + str(first->ffn) + "-kv" +
                         str(first->kv) +
                         " (the uniform space keeps the same counts in every "
                         "kept layer)");
    }
  }
}

PruneKeep PruneSpace::keep(const PruneChoice& choice) const {
  validate(choice, encode(choice));
  PruneKeep k(choice.size());
  for (std::size_t l = 0; l < choice.size(); ++l) {
    const LayerChoice& lc = choice[l];
    if (lc.dropped) {
      k[l].dropped = true;
      continue;
    }
    const PruneLayerNorms& n = norms_[l];
    k[l].ffn_channels.assign(n.ffn_order.begin(), n.ffn_order.begin() + lc.ffn);
    std::sort(k[l].ffn_channels.begin(), k[l].ffn_channels.end());
    k[l].kv_groups.assign(n.kv_order.begin(), n.kv_order.begin() + lc.kv);
    std::sort(k[l].kv_groups.begin(), k[l].kv_groups.end());
  }
  return k;
}

PruneChoice PruneSpace::choice_of(const PruneKeep& keep) const {
  if (int(keep.size()) != layers())
    throw InputError("pruned sub-network: " + str(std::int64_t(keep.size())) +
                     " layers, expected " + str(layers()));
  PruneChoice c(keep.size());
  const auto prefix_of = [](const std::vector<std::int64_t>& kept,
                            const std::vector<std::int64_t>& order) {
    if (kept.size() > order.size()) return false;
    std::vector<std::int64_t> top(order.begin(), order.begin() + std::ptrdiff_t(kept.size()));
    std::sort(top.begin(), top.end());
    return top == kept;
  };
  for (std::size_t l = 0; l < keep.size(); ++l) {
    const LayerKeep& k = keep[l];
    const std::string at = "pruned sub-network: layer " + str(std::int64_t(l)) + ": ";
    if (k.dropped) {
      c[l].dropped = true;
      continue;
    }
    if (!prefix_of(k.ffn_channels, norms_[l].ffn_order))
      throw InputError(at + "the kept feed-forward channels are not the " +
                       str(std::int64_t(k.ffn_channels.size())) +
                       " most important (expected a prefix of the importance order)");
    if (!prefix_of(k.kv_groups, norms_[l].kv_order))
      throw InputError(at + "the kept key/value groups are not the " +
                       str(std::int64_t(k.kv_groups.size())) +
                       " most important (expected a prefix of the importance order)");
    c[l] = {false, std::int64_t(k.ffn_channels.size()), std::int64_t(k.kv_groups.size())};
  }
  validate(c, encode(c));
  return c;
}

std::int64_t PruneSpace::params(const PruneChoice& choice) const {
  std::int64_t n = fixed_params_;
  for (std::size_t l = 0; l < choice.size(); ++l)
    if (!choice[l].dropped)
      n += layer_params(family_, shapes_[l], {attention_bias_, mlp_bias_}, choice[l].ffn,
                        choice[l].kv);
  return n;
}

std::int64_t kept_params(const CheckpointConfig& c, const PruneKeep& keep) {
  const PruneLayerShape s = config_shape(c);
  const bool gpt2 = c.family == CheckpointFamily::Gpt2;
  std::int64_t n = outside_params(c);
  for (const LayerKeep& k : keep)
    if (!k.dropped)
      n += layer_params(c.family, s, {gpt2 || c.attention_bias, gpt2 || c.mlp_bias},
                        std::int64_t(k.ffn_channels.size()), std::int64_t(k.kv_groups.size()));
  return n;
}

std::vector<PruneSlice> prune_slices(const HfCheckpoint& ck, const PruneKeep& keep) {
  const CheckpointConfig& c = ck.config();
  if (std::int64_t(keep.size()) != c.layers)
    throw InputError(ck.dir() + ": pruned sub-network with " + str(std::int64_t(keep.size())) +
                     " layers, expected " + str(c.layers));
  const std::int64_t hd = c.head_dim, hpg = c.heads / c.kv_heads;
  std::vector<PruneSlice> out;
  for (int l = 0; l < int(keep.size()); ++l) {
    const LayerKeep& k = keep[std::size_t(l)];
    if (k.dropped) continue;
    const auto all = [](std::int64_t n) {
      std::vector<std::int64_t> v(static_cast<std::size_t>(n));
      std::iota(v.begin(), v.end(), 0);
      return v;
    };
    // Rows of the kept query heads (per group: its heads), and of the kept key/value heads.
    std::vector<std::int64_t> q_rows, kv_rows;
    for (std::int64_t g : k.kv_groups) {
      for (std::int64_t r = g * hpg * hd; r < (g + 1) * hpg * hd; ++r) q_rows.push_back(r);
      for (std::int64_t r = g * hd; r < (g + 1) * hd; ++r) kv_rows.push_back(r);
    }
    const auto add = [&](bool attention, const char* role, const Matrix& m,
                         std::vector<std::int64_t> rows, std::vector<std::int64_t> cols) {
      out.push_back({l, attention, role, m, std::move(rows), std::move(cols)});
    };
    const Matrix q = ck.attention(l, AttnMatrix::Q), kk = ck.attention(l, AttnMatrix::K),
                 v = ck.attention(l, AttnMatrix::V), o = ck.attention(l, AttnMatrix::O);
    add(true, "q", q, q_rows, all(q.cols));
    add(true, "k", kk, kv_rows, all(kk.cols));
    add(true, "v", v, kv_rows, all(v.cols));
    add(true, "o", o, all(o.rows), q_rows);
    if (ck.gated()) {
      const Matrix gate = ck.ffn(l, FfnMatrix::Gate);
      add(false, "gate", gate, k.ffn_channels, all(gate.cols));
    }
    const Matrix up = ck.ffn(l, FfnMatrix::Up), down = ck.ffn(l, FfnMatrix::Down);
    add(false, "up", up, k.ffn_channels, all(up.cols));
    add(false, "down", down, all(down.rows), k.ffn_channels);
  }
  return out;
}

std::vector<double> slice_values(const PruneSlice& s) {
  std::vector<double> out(s.rows.size() * s.cols.size());
  std::vector<double> row(std::size_t(s.matrix.cols));
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    s.matrix.row(s.rows[i], row.data());
    for (std::size_t j = 0; j < s.cols.size(); ++j)
      out[i * s.cols.size() + j] = row.at(std::size_t(s.cols[j]));
  }
  return out;
}

}  // namespace zerolm
