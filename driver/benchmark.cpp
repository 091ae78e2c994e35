#include "driver/benchmark.h"

#include <cmath>
#include <cstdlib>

#include "driver/inputs.h"
#include "driver/log.h"
#include "driver/table.h"

namespace zerolm {

namespace {

double parse_number(const std::string& s, bool& ok) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  ok = !s.empty() && *end == '\0' && std::isfinite(v);
  return v;
}

}  // namespace

Benchmark read_benchmark(const BenchmarkSource& src) {
  const Csv csv = read_csv(src.path);
  const std::vector<std::string> encodings = csv_encodings(csv, src.path);
  Benchmark b;
  b.space = &infer_space(src.space, encodings);
  const Space& space = *b.space;
  const int truth = csv.column(src.truth);
  if (truth < 0)
    throw InputError(src.path + ": no ground-truth column \"" + src.truth + "\" (--truth)");
  std::vector<int> published;
  for (std::size_t c = 0; c < csv.header.size(); ++c)
    for (const auto& prefix : src.reference_prefixes)
      if (csv.header[c].rfind(prefix, 0) == 0) published.push_back(int(c));
  const auto group_names = split_list(src.group_by);
  std::vector<int> group_cols;
  for (const auto& g : group_names) {
    if (g == "hidden" || g == "layers") {
      group_cols.push_back(-1);
    } else {
      const int c = csv.column(g);
      if (c < 0)
        throw InputError("--group-by " + g + ": expected hidden, layers or a column of " +
                         src.path);
      group_cols.push_back(c);
    }
  }
  b.published.resize(published.size());
  for (std::size_t p = 0; p < published.size(); ++p)
    b.published[p].first = csv.header[published[p]];
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& row = csv.rows[i];
    bool ok;
    const double t = parse_number(row[truth], ok);
    if (!ok) {
      ++skipped;
      continue;
    }
    try {
      b.archs.push_back(space.parse(encodings[i]));
    } catch (const InputError& e) {
      throw InputError(src.path + ":" + std::to_string(csv.lines[i]) + ": " + e.what());
    }
    b.truth.push_back(src.lower_is_better ? -t : t);
    for (std::size_t p = 0; p < published.size(); ++p) {
      const double v = parse_number(row[published[p]], ok);
      b.published[p].second.push_back(ok ? v : std::nan(""));
    }
    std::string key;
    for (std::size_t g = 0; g < group_names.size(); ++g) {
      const Arch& a = b.archs.back();
      key += (g ? "," : "");
      if (group_cols[g] >= 0)
        key += row[group_cols[g]];
      else
        key += std::to_string(group_names[g] == "hidden" ? a.layers.front().hidden
                                                         : int(a.layers.size()));
    }
    b.group_keys.push_back(key);
  }
  if (b.archs.size() < 3)
    throw InputError(src.path + ": fewer than 3 rows with a numeric \"" + src.truth + "\"");
  if (skipped)
    log::warn(std::to_string(skipped) + " rows without a numeric " + src.truth + " skipped");
  return b;
}

}  // namespace zerolm
