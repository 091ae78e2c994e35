#include "proxy/checkpoint_scores.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "spaces/errors.h"

namespace zerolm {

namespace {

// ZeroLM's msv of one matrix slice from its squared Frobenius norm.
double msv_term(double squared, std::int64_t rows, std::int64_t cols) {
  const std::int64_t r = std::min(rows, cols);
  return r > 0 ? squared / double(r) : 0.0;  // an empty slice has no capacity
}

}  // namespace

PruneMsv prune_msv(const PruneSpace& space, const PruneChoice& choice) {
  PruneMsv out;
  const bool gated = space.family() == CheckpointFamily::Llama;
  for (std::size_t l = 0; l < choice.size(); ++l) {
    const LayerChoice& lc = choice[l];
    if (lc.dropped) continue;
    const PruneLayerShape& s = space.shape(int(l));
    const PruneLayerNorms& n = space.norms(int(l));
    const std::size_t g = std::size_t(lc.kv), f = std::size_t(lc.ffn);
    const std::int64_t qw = lc.kv * s.heads_per_group * s.head_dim, kvw = lc.kv * s.head_dim;
    out.attention += msv_term(n.q[g], qw, s.hidden) + msv_term(n.k[g], kvw, s.hidden) +
                     msv_term(n.v[g], kvw, s.hidden) + msv_term(n.o[g], s.hidden, qw);
    out.ffn += msv_term(n.up[f], lc.ffn, s.hidden) + msv_term(n.down[f], s.hidden, lc.ffn) +
               (gated ? msv_term(n.gate[f], lc.ffn, s.hidden) : 0.0);
  }
  return out;
}

double kept_norm(const PruneSpace& space, const PruneChoice& choice) {
  if (space.total_norm() == 0) return 0;
  double kept = 0;
  for (std::size_t l = 0; l < choice.size(); ++l) {
    const LayerChoice& lc = choice[l];
    if (lc.dropped) continue;
    const PruneLayerNorms& n = space.norms(int(l));
    const std::size_t g = std::size_t(lc.kv), f = std::size_t(lc.ffn);
    kept += n.q[g] + n.k[g] + n.v[g] + n.o[g] + n.up[f] + n.down[f] +
            (n.gate.empty() ? 0.0 : n.gate[f]);
  }
  return kept / space.total_norm();
}

std::string table_rows_text(const CapacityTable& table, int first, int last) {
  std::string out;
  char buf[32];
  for (int l = first; l < last; ++l) {
    out += std::to_string(l);
    for (double v : table.ffn.at(std::size_t(l))) {
      std::snprintf(buf, sizeof buf, " %.17g", v);
      out += buf;
    }
    out += " ;";
    for (double v : table.attention.at(std::size_t(l))) {
      std::snprintf(buf, sizeof buf, " %.17g", v);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

void read_table_rows(const std::string& text, const PruneSpace& space, CapacityTable& table,
                     const std::string& where) {
  table.ffn.resize(std::size_t(space.layers()));
  table.attention.resize(std::size_t(space.layers()));
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    int l = -1;
    fields >> l;
    const std::string at = where + ":" + std::to_string(n) + ": ";
    if (!fields || l < 0 || l >= space.layers())
      throw InputError(at + "expected a layer number below " + std::to_string(space.layers()));
    std::vector<double> f, a;
    std::string token;
    bool attention = false;
    while (fields >> token) {
      if (token == ";") {
        attention = true;
        continue;
      }
      char* end = nullptr;
      const double v = std::strtod(token.c_str(), &end);
      if (*end != '\0') throw InputError(at + "\"" + token + "\" is not a number");
      (attention ? a : f).push_back(v);
    }
    if (f.size() != space.ffn_grid(l).size() || a.size() != space.kv_grid(l).size())
      throw InputError(at + "layer " + std::to_string(l) + " has " + std::to_string(f.size()) +
                       " + " + std::to_string(a.size()) + " values, expected " +
                       std::to_string(space.ffn_grid(l).size()) + " + " +
                       std::to_string(space.kv_grid(l).size()));
    table.ffn[std::size_t(l)] = std::move(f);
    table.attention[std::size_t(l)] = std::move(a);
  }
}

PruneMsv table_capacities(const PruneSpace& space, const CapacityTable& table,
                          const PruneChoice& choice) {
  PruneMsv out;
  for (std::size_t l = 0; l < choice.size(); ++l) {
    const LayerChoice& lc = choice[l];
    if (lc.dropped) continue;
    // Grids hold at most a handful of values: a scan is faster than any map.
    const std::vector<std::int64_t>& f = space.ffn_grid(int(l));
    const std::vector<std::int64_t>& g = space.kv_grid(int(l));
    const std::size_t fi = std::size_t(std::find(f.begin(), f.end(), lc.ffn) - f.begin());
    const std::size_t gi = std::size_t(std::find(g.begin(), g.end(), lc.kv) - g.begin());
    out.ffn += table.ffn[l].at(fi);
    out.attention += table.attention[l].at(gi);
  }
  return out;
}

PruneMsv msv_direct(const HfCheckpoint& ck, const PruneKeep& keep) {
  PruneMsv out;
  for (const PruneSlice& s : prune_slices(ck, keep)) {
    double sq = 0;
    for (double x : slice_values(s)) sq += x * x;
    const double c = msv_term(sq, std::int64_t(s.rows.size()), std::int64_t(s.cols.size()));
    (s.attention ? out.attention : out.ffn) += c;
  }
  return out;
}

}  // namespace zerolm
