#include "driver/benchmark.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>

#include "driver/inputs.h"
#include "report/table.h"
#include "rundir/log.h"
#include "spaces/plan.h"

namespace zerolm {

namespace {

double parse_number(const std::string& s, bool& ok) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  ok = !s.empty() && *end == '\0' && std::isfinite(v);
  return v;
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

// Rows a space cannot express that are named one by one with --skip-invalid; the rest are counted.
constexpr std::size_t kInvalidNamed = 10;

}  // namespace

const std::vector<std::pair<std::string, bool>>& default_truth_columns() {
  static const std::vector<std::pair<std::string, bool>> columns = {
      {"glue", false}, {"valid_ppl", true}, {"ppl", true}, {"test_ppl", true}, {"loss", true}};
  return columns;
}

std::string benchmark_stem(const std::string& path) {
  if (path == "-") return "stdin";
  std::string s = path.substr(path.find_last_of('/') + 1);
  const auto dot = s.find_last_of('.');
  if (dot != std::string::npos && dot > 0) s.erase(dot);
  return s.empty() ? path : s;
}

BenchmarkSource parse_benchmark_arg(const std::string& arg, const BenchmarkSource& defaults) {
  BenchmarkSource src = defaults;
  // A file whose name has a comma is read as it is; otherwise options follow the first comma.
  const auto comma = arg.find(',');
  if (comma == std::string::npos || is_file(arg)) {
    src.path = arg;
    return src;
  }
  src.path = arg.substr(0, comma);
  const std::string where = "--benchmark " + quoted_input(arg);
  const std::string expected =
      "expected FILE followed by truth=COLUMN, lower-is-better, higher-is-better, space=SPACE, "
      "reference-prefix=PREFIX or name=NAME, separated by commas";
  if (src.path.empty()) throw InputError(where + ": no file; " + expected);
  bool own_prefixes = false, lower = false, higher = false;
  for (const std::string& item : split_list(arg.substr(comma + 1))) {
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const bool has_value = eq != std::string::npos;
    const std::string value = has_value ? item.substr(eq + 1) : "";
    const bool flag = key == "lower-is-better" || key == "higher-is-better";
    const bool valued =
        key == "truth" || key == "space" || key == "reference-prefix" || key == "name";
    if (!flag && !valued)
      throw InputError(where + ": unknown key " + quoted_input(key, 40) + "; " + expected);
    if (flag && has_value) throw InputError(where + ": " + key + " takes no value; " + expected);
    if (valued && value.empty())
      throw InputError(where + ": " + key + " needs a value (" + key + "=...); " + expected);
    if (key == "truth") {
      src.truth = value;
    } else if (key == "lower-is-better") {
      lower = true;
    } else if (key == "higher-is-better") {
      higher = true;
    } else if (key == "space") {
      try {
        find_space(value);
      } catch (const InputError& e) {
        throw InputError(where + ": " + e.what());
      }
      src.space = value;
    } else if (key == "reference-prefix") {
      if (!own_prefixes) src.reference_prefixes.clear();
      own_prefixes = true;
      src.reference_prefixes.push_back(value);
    } else {
      src.name = value;
    }
  }
  if (lower && higher)
    throw InputError(where + ": lower-is-better and higher-is-better both given; expected one");
  if (lower) src.orientation = Orientation::LowerIsBetter;
  if (higher) src.orientation = Orientation::HigherIsBetter;
  return src;
}

Benchmark read_benchmark(const BenchmarkSource& src) {
  const Csv csv = read_csv(src.path);
  Benchmark b;
  b.path = src.path;
  b.name = src.name.empty() ? benchmark_stem(src.path) : src.name;

  // Each row's encoding on its own, so that a row whose columns describe no architecture is that
  // row's error (skippable), not the file's. A file without encoding columns fails here.
  Csv one{csv.header, {}, {}};
  csv_encodings(one, src.path);
  std::vector<std::string> encodings(csv.rows.size()), errors(csv.rows.size());
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    one.rows = {csv.rows[i]};
    one.lines = {csv.lines[i]};
    try {
      encodings[i] = csv_encodings(one, src.path).front();
    } catch (const InputError& e) {
      errors[i] = e.what();
    }
  }
  const std::string hint = "; --skip-invalid skips such rows";
  std::vector<std::string> first;  // the encodings the space is inferred from, its family first
  std::size_t i_first = csv.rows.size();
  for (std::size_t i = 0; i < csv.rows.size() && first.empty(); ++i) {
    i_first = i;
    if (!errors[i].empty()) {
      if (!src.skip_invalid) throw InputError(errors[i] + hint);
      continue;
    }
    if (!src.skip_invalid) {
      first = {encodings[i]};
      break;
    }
    try {
      family_of_encoding(encodings[i]);
      first = {encodings[i]};
    } catch (const InputError&) {
    }
  }
  // Then every other row, so that the family's space that expresses the most rows is chosen
  // when its default space cannot express them all (per-layer widths: flexibert-original).
  for (std::size_t i = i_first + 1; i < csv.rows.size() && !first.empty(); ++i)
    if (errors[i].empty()) first.push_back(encodings[i]);
  b.space = &infer_space(src.space, first);
  const Space& space = *b.space;

  int truth = -1;
  bool lower = src.orientation == Orientation::LowerIsBetter;
  if (!src.truth.empty()) {
    truth = csv.column(src.truth);
    if (truth < 0)
      throw InputError(src.path + ": no ground-truth column \"" + src.truth + "\" (--truth)");
    b.truth = src.truth;
    // A perplexity named without an orientation is still a perplexity.
    for (const auto& [name, lower_is_better] : default_truth_columns())
      if (name == src.truth && src.orientation == Orientation::Auto) lower = lower_is_better;
  } else {
    std::string names;
    for (const auto& [name, lower_is_better] : default_truth_columns()) {
      names += (names.empty() ? "" : ", ") + name;
      if (truth >= 0) continue;
      truth = csv.column(name);
      if (truth < 0) continue;
      b.truth = name;
      if (src.orientation == Orientation::Auto) lower = lower_is_better;
    }
    if (truth < 0)
      throw InputError(src.path + ": no ground-truth column: expected one of " + names +
                       ", or name one with --truth");
  }
  b.lower_is_better = lower;

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
    std::string error = errors[i];
    if (error.empty()) {
      try {
        b.archs.push_back(space.parse(encodings[i]));
      } catch (const InputError& e) {
        error = src.path + ":" + std::to_string(csv.lines[i]) + ": " + e.what();
      }
    }
    if (!error.empty()) {
      if (!src.skip_invalid) throw InputError(error + hint);
      if (++b.invalid_skipped <= kInvalidNamed) log::warn(error + " (skipped)");
      continue;
    }
    b.truth_values.push_back(lower ? -t : t);
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
  if (b.invalid_skipped)
    log::warn(src.path + ": " + std::to_string(b.invalid_skipped) + " rows skipped" +
              (b.invalid_skipped > kInvalidNamed
                   ? " (" + std::to_string(b.invalid_skipped - kInvalidNamed) + " not named above)"
                   : "") +
              ": not expressible in space " + space.name() + " (--skip-invalid)");
  if (b.archs.size() < 3)
    throw InputError(src.path + ": fewer than 3 rows with a numeric \"" + b.truth + "\"" +
                     (b.invalid_skipped ? " left after --skip-invalid skipped " +
                                              std::to_string(b.invalid_skipped)
                                        : std::string()));
  if (skipped)
    log::warn(std::to_string(skipped) + " rows without a numeric " + b.truth + " skipped");
  return b;
}

bool shapes_follow_profile(const Benchmark& b) {
  // A family that ignores the profile builds its plan as Spec whatever is asked (plan.h).
  return b.archs.empty() ||
         make_plan(b.archs.front(), Profile::Compat, false).profile == Profile::Compat;
}

}  // namespace zerolm
