// `zerolm bench`: how well each proxy ranks a benchmark's trained architectures — the ZeroLM
// paper's table, with bootstrap intervals, alpha strategies, published reference rows, alpha
// sweeps (and their plot) and within-group correlations.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/log.h"
#include "driver/options.h"
#include "driver/table.h"
#include "proxy/metrics.h"
#include "proxy/ranking.h"

namespace zerolm {

namespace {

struct BenchCli {
  ScoringCli scoring;
  std::string benchmark;
  std::string truth = "glue";
  bool lower_is_better = false;
  int splits = 20;
  int resamples = 1000;
  int heuristic_samples = 1000;
  bool sweep = false;
  std::string plot;
  std::string group_by;
  std::vector<std::string> reference_prefixes = {"tfm_"};
  std::string format = "table";
  std::string output = "-";
};

// One value of a metric: a point estimate with either an interval or a standard deviation.
struct Cell {
  double value = std::nan("");
  double lo = std::nan(""), hi = std::nan(""), sd = std::nan("");
};

struct Row {
  std::string proxy, source, profile, alpha;
  Cell kendall, spearman, pearson, pw10;
  std::size_t n = 0;
};

std::string fixed(double v, int digits = 3) {
  if (std::isnan(v)) return "nan";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string show(const Cell& c) {
  if (!std::isnan(c.sd)) return fixed(c.value) + " +- " + fixed(c.sd);
  if (!std::isnan(c.lo)) return fixed(c.value) + " [" + fixed(c.lo) + ", " + fixed(c.hi) + "]";
  return fixed(c.value);
}

Row metric_row(const std::string& proxy, const std::string& source, const std::vector<double>& x,
               const std::vector<double>& truth, const std::vector<double>& params, int resamples,
               std::uint64_t seed) {
  Row r;
  r.proxy = proxy;
  r.source = source;
  r.n = x.size();
  const Metrics m = compute_metrics(x, truth, params);
  r.kendall.value = m.kendall;
  r.spearman.value = m.spearman;
  r.pearson.value = m.pearson;
  r.pw10.value = m.pw10;
  if (resamples > 0) {
    const MetricIntervals iv = bootstrap(x, truth, params, resamples, seed);
    r.kendall.lo = iv.kendall.lo, r.kendall.hi = iv.kendall.hi;
    r.spearman.lo = iv.spearman.lo, r.spearman.hi = iv.spearman.hi;
    r.pearson.lo = iv.pearson.lo, r.pearson.hi = iv.pearson.hi;
    r.pw10.lo = iv.pw10.lo, r.pw10.hi = iv.pw10.hi;
  }
  return r;
}

Row grouped_row(const std::string& proxy, const std::string& source, const std::vector<double>& x,
                const std::vector<double>& truth, const std::vector<double>& params,
                const std::vector<std::string>& keys) {
  Row r;
  r.proxy = proxy;
  r.source = source;
  const Metrics m = grouped_metrics(x, truth, params, keys, &r.n);
  r.kendall.value = m.kendall;
  r.spearman.value = m.spearman;
  r.pearson.value = m.pearson;
  r.pw10.value = m.pw10;
  return r;
}

// The benchmark as read: architectures, ground truth (oriented: higher is better), published
// columns and grouping keys, restricted to rows whose truth is a number.
struct Benchmark {
  const Space* space = nullptr;  // --space, or inferred from the encodings
  std::vector<Arch> archs;
  std::vector<double> truth;
  std::vector<std::pair<std::string, std::vector<double>>> published;
  std::vector<std::string> group_keys;
};

double parse_number(const std::string& s, bool& ok) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  ok = !s.empty() && *end == '\0' && std::isfinite(v);
  return v;
}

Benchmark read_benchmark(const BenchCli& cli) {
  const Csv csv = read_csv(cli.benchmark);
  const std::vector<std::string> encodings = csv_encodings(csv, cli.benchmark);
  Benchmark b;
  b.space = &infer_space(cli.scoring.space, encodings);
  const Space& space = *b.space;
  const int truth = csv.column(cli.truth);
  if (truth < 0)
    throw InputError(cli.benchmark + ": no ground-truth column \"" + cli.truth + "\" (--truth)");
  std::vector<int> published;
  for (std::size_t c = 0; c < csv.header.size(); ++c)
    for (const auto& prefix : cli.reference_prefixes)
      if (csv.header[c].rfind(prefix, 0) == 0) published.push_back(int(c));
  const auto group_names = split_list(cli.group_by);
  std::vector<int> group_cols;
  for (const auto& g : group_names) {
    if (g == "hidden" || g == "layers") {
      group_cols.push_back(-1);
    } else {
      const int c = csv.column(g);
      if (c < 0)
        throw InputError("--group-by " + g + ": expected hidden, layers or a column of " +
                         cli.benchmark);
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
      throw InputError(cli.benchmark + ":" + std::to_string(csv.lines[i]) + ": " + e.what());
    }
    b.truth.push_back(cli.lower_is_better ? -t : t);
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
    throw InputError(cli.benchmark + ": fewer than 3 rows with a numeric \"" + cli.truth + "\"");
  if (skipped)
    log::warn(std::to_string(skipped) + " rows without a numeric " + cli.truth + " skipped");
  return b;
}

// Runs jobs on `threads` threads; results in job order.
std::vector<Row> run_parallel(const std::vector<std::function<Row()>>& jobs, int threads) {
  std::vector<Row> out(jobs.size());
  parallel_for(jobs.size(), threads, [&](std::size_t i) { out[i] = jobs[i](); });
  return out;
}

struct ProfileResult {
  std::vector<Row> rows;
  std::vector<std::string> notes;
  std::vector<std::pair<double, Metrics>> sweep;
};

ProfileResult bench_profile(const BenchCli& cli, const Space& space, const Benchmark& b,
                            const std::string& profile) {
  const bool numeric_alpha =
      cli.scoring.alpha != "heuristic" && cli.scoring.alpha.rfind("sample:", 0) != 0;
  EvalOptions opt = to_eval_options(cli.scoring, profile, numeric_alpha);
  std::vector<std::string> names = cli.scoring.proxies;
  const auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  const bool zerolm = has("zerolm");
  if (!has("params")) names.push_back("params");  // the 10%-PW metric pairs by parameter count

  log::info("profile " + profile + ": scoring " + std::to_string(b.archs.size()) +
            " architectures with " + std::to_string(names.size()) + " proxies on " +
            std::to_string(cli.scoring.threads) + " threads");
  const auto evals = evaluate_all(b.archs, names, opt, cli.scoring.threads);
  std::map<std::string, std::vector<double>> score;
  std::vector<double> attn, ffn;
  for (const Evaluation& e : evals) {
    for (std::size_t p = 0; p < names.size(); ++p) score[names[p]].push_back(e.results[p].score);
    if (zerolm) {
      const auto& z = e.results[std::find(names.begin(), names.end(), "zerolm") - names.begin()];
      attn.push_back(z.parts[0]);
      ffn.push_back(z.parts[1]);
    }
  }
  const std::vector<double>& params = score["params"];
  const std::vector<std::string>& keys = b.group_keys;
  const bool grouped = !cli.group_by.empty();
  auto row_of = [&](const std::string& proxy, const std::string& source,
                    const std::vector<double>& x, std::uint64_t stream) {
    return grouped ? grouped_row(proxy, source, x, b.truth, params, keys)
                   : metric_row(proxy, source, x, b.truth, params, cli.resamples,
                                derive_seed(opt.seed, stream));
  };

  ProfileResult out;
  const auto grid = alpha_grid();
  if (cli.sweep) {
    if (!zerolm) throw InputError("--alpha-sweep needs the zerolm proxy");
    for (double a : grid)
      out.sweep.push_back({a, compute_metrics(combine(attn, ffn, a), b.truth, params)});
    return out;
  }

  std::vector<std::function<Row()>> jobs;
  std::string zerolm_alpha;
  if (zerolm) {
    if (cli.scoring.alpha.rfind("sample:", 0) == 0) {
      const std::string k_text = cli.scoring.alpha.substr(7);
      const double k = std::stod(k_text);  // checked by check_alpha
      const SampledAlpha s =
          sample_alpha(attn, ffn, b.truth, params, std::size_t(k), cli.splits, opt.seed, grid);
      Row r;
      r.proxy = "zerolm";
      r.source = "zerolm";
      r.n = b.archs.size() - std::size_t(k);
      r.kendall = {s.mean.kendall, std::nan(""), std::nan(""), s.sd.kendall};
      r.spearman = {s.mean.spearman, std::nan(""), std::nan(""), s.sd.spearman};
      r.pearson = {s.mean.pearson, std::nan(""), std::nan(""), s.sd.pearson};
      r.pw10 = {s.mean.pw10, std::nan(""), std::nan(""), s.sd.pw10};
      std::vector<double> sorted = s.alphas;
      std::sort(sorted.begin(), sorted.end());
      std::string list;
      for (double a : s.alphas) list += (list.empty() ? "" : " ") + fixed(a, 2);
      r.alpha = cli.scoring.alpha + " median " + fixed(sorted[sorted.size() / 2], 2);
      out.notes.push_back("zerolm alpha " + cli.scoring.alpha + ": fitted on " + k_text +
                          " random rows over [-1.5, 1.5] step 0.05, reported on the other " +
                          std::to_string(r.n) + " rows, mean +- sd over " +
                          std::to_string(cli.splits) + " splits; chosen alphas: " + list);
      jobs.push_back([r] { return r; });
    } else {
      double alpha = 0;
      if (cli.scoring.alpha == "heuristic") {
        // Data-free: architectures sampled from the space, never the benchmark's rows.
        double tau = 0;
        alpha = heuristic_alpha(space, opt, cli.heuristic_samples, cli.scoring.threads, &tau);
        zerolm_alpha = "heuristic " + fixed(alpha, 2);
        out.notes.push_back("zerolm alpha heuristic: " + fixed(alpha, 2) +
                            ", the grid alpha whose score ranks " +
                            std::to_string(cli.heuristic_samples) + " architectures sampled from " +
                            space.name() + " (seed " + std::to_string(opt.seed) +
                            ") most like their parameter count (Kendall " + fixed(tau) + ")");
      } else {
        alpha = parse_alpha_number(cli.scoring.alpha);
        zerolm_alpha = fixed(alpha, 2);
      }
      auto x = combine(attn, ffn, alpha);
      jobs.push_back([=] {
        Row r = row_of("zerolm", "zerolm", x, 1);
        r.alpha = zerolm_alpha;
        return r;
      });
    }
  }
  for (std::size_t p = 0; p < cli.scoring.proxies.size(); ++p) {
    const std::string& n = cli.scoring.proxies[p];
    if (n == "zerolm") continue;
    jobs.push_back([&, n, p] { return row_of(n, "zerolm", score.at(n), 100 + p); });
  }
  for (std::size_t p = 0; p < b.published.size(); ++p) {
    jobs.push_back([&, p] {
      // Published values can be missing on some rows; correlate where present.
      std::vector<std::size_t> rows;
      for (std::size_t i = 0; i < b.truth.size(); ++i)
        if (!std::isnan(b.published[p].second[i])) rows.push_back(i);
      const auto x = select(b.published[p].second, rows), t = select(b.truth, rows),
                 pr = select(params, rows);
      std::vector<std::string> k;
      for (std::size_t i : rows) k.push_back(keys[i]);
      Row r = grouped ? grouped_row(b.published[p].first, "published", x, t, pr, k)
                      : metric_row(b.published[p].first, "published", x, t, pr, cli.resamples,
                                   derive_seed(opt.seed, 1000 + p));
      return r;
    });
  }
  out.rows = run_parallel(std::move(jobs), cli.scoring.threads);
  for (Row& r : out.rows) r.profile = profile;
  if (grouped)
    out.notes.push_back("correlations within groups of equal " + cli.group_by +
                        " (mean over groups of 3 or more rows, weighted by group size)");
  return out;
}

std::string render(const BenchCli& cli, const std::vector<ProfileResult>& results, Format format,
                   std::size_t rows_used) {
  std::string text;
  if (cli.sweep) {
    TextTable t{{"alpha", "kendall", "spearman", "pearson", "pw10_kendall", "profile"}, {}};
    for (std::size_t p = 0; p < results.size(); ++p)
      for (const auto& [a, m] : results[p].sweep)
        t.rows.push_back({fixed(a, 2), fixed(m.kendall, 4), fixed(m.spearman, 4),
                          fixed(m.pearson, 4), fixed(m.pw10, 4), cli.scoring.profiles[p]});
    return t.render(format);
  }
  if (format == Format::Csv || format == Format::Json) {
    TextTable t{{"proxy",           "kendall",         "spearman",
                 "pearson",         "pw10_kendall",    "kendall_lo",
                 "kendall_hi",      "spearman_lo",     "spearman_hi",
                 "pearson_lo",      "pearson_hi",      "pw10_kendall_lo",
                 "pw10_kendall_hi", "kendall_sd",      "spearman_sd",
                 "pearson_sd",      "pw10_kendall_sd", "n",
                 "source",          "profile",         "alpha"},
                {}};
    auto num = [](double v) { return std::isnan(v) ? std::string() : format_number(v); };
    for (const auto& pr : results)
      for (const Row& r : pr.rows) {
        std::vector<std::string> cells = {r.proxy};
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pearson, &r.pw10})
          cells.push_back(num(c->value));
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pearson, &r.pw10}) {
          cells.push_back(num(c->lo));
          cells.push_back(num(c->hi));
        }
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pearson, &r.pw10})
          cells.push_back(num(c->sd));
        cells.insert(cells.end(), {std::to_string(r.n), r.source, r.profile, r.alpha});
        t.rows.push_back(cells);
      }
    return t.render(format);
  }
  for (std::size_t p = 0; p < results.size(); ++p) {
    std::string head =
        "profile " + cli.scoring.profiles[p] + ": " + std::to_string(rows_used) +
        " architectures of " + cli.benchmark + ", truth " + cli.truth +
        (cli.lower_is_better ? " (lower is better, negated)" : "") +
        (cli.resamples > 0 && cli.group_by.empty() ? "; [95% bootstrap interval]" : "") + "\n";
    text += (format == Format::Markdown ? "\n**" + head.substr(0, head.size() - 1) + "**\n\n"
                                        : "\n" + head);
    TextTable t{{"proxy", "kendall", "spearman", "pearson", "pw10_kendall", "source", "alpha"}, {}};
    for (const Row& r : results[p].rows)
      t.rows.push_back({r.proxy + (r.source == "published" ? " (published)" : ""), show(r.kendall),
                        show(r.spearman), show(r.pearson), show(r.pw10), r.source, r.alpha});
    text += t.render(format);
    for (const auto& note : results[p].notes)
      text += (format == Format::Markdown ? "\n- " : "  ") + note + "\n";
  }
  return text;
}

// Writes the sweep as data and a gnuplot script next to the PNG, then runs gnuplot.
void plot_sweep(const BenchCli& cli, const std::vector<ProfileResult>& results) {
  std::string data;
  for (std::size_t p = 0; p < results.size(); ++p) {
    data += "# profile " + cli.scoring.profiles[p] + "\n";
    for (const auto& [a, m] : results[p].sweep)
      data += fixed(a, 2) + " " + fixed(m.kendall, 5) + " " + fixed(m.spearman, 5) + "\n";
    data += "\n\n";
  }
  const std::string dat = cli.plot + ".dat", gp = cli.plot + ".gp";
  write_file_atomic(dat, data);
  std::string script =
      "set terminal pngcairo noenhanced size 900,560 font 'sans,11'\n"
      "set output '" +
      cli.plot +
      ".tmp'\n"
      "set title 'ZeroLM on " +
      cli.benchmark.substr(cli.benchmark.find_last_of('/') + 1) + ": Kendall tau against " +
      cli.truth +
      " as alpha varies'\n"
      "set xlabel 'alpha (weight of attention; 1 - alpha on feed-forward)'\nset ylabel 'Kendall "
      "tau'\n"
      "set grid\nset key bottom right\nset xrange [-1.5:1.5]\n"
      "plot ";
  for (std::size_t p = 0; p < results.size(); ++p)
    script += std::string(p ? ", " : "") + "'" + dat + "' index " + std::to_string(p) +
              " using 1:2 with lines lw 2 title '" + cli.scoring.profiles[p] + "'";
  script += "\n";
  write_file_atomic(gp, script);
  const std::string cmd = "gnuplot '" + gp + "'";
  if (std::system(cmd.c_str()) != 0 ||
      std::rename((cli.plot + ".tmp").c_str(), cli.plot.c_str()) != 0)
    throw std::runtime_error("plotting failed: `" + cmd + "` (is gnuplot-nox installed?)");
}

// Rejects a bad --alpha before any scoring: fixed number, heuristic, or sample:<rows>.
void check_alpha(const BenchCli& cli, std::size_t rows) {
  const std::string& a = cli.scoring.alpha;
  if (a == "heuristic") return;
  if (a.rfind("sample:", 0) == 0) {
    bool ok;
    const double k = parse_number(a.substr(7), ok);
    if (!ok || k < 2 || k != std::floor(k) || k >= double(rows))
      throw InputError("--alpha " + a + ": expected sample:<rows>, 2 <= rows < " +
                       std::to_string(rows));
    if (!cli.group_by.empty())
      throw InputError("--group-by works with a fixed or heuristic alpha, not " + a);
    return;
  }
  try {
    parse_alpha_number(a);
  } catch (const InputError&) {
    throw InputError("--alpha \"" + a +
                     "\": expected a number such as 0.75, sample:<rows> or heuristic");
  }
}

int run_bench(BenchCli& cli) {
  if (cli.scoring.proxies.empty())
    cli.scoring.proxies = {"zerolm",  "params", "params-nonemb", "flops",
                           "synflow", "snip",   "grad-norm"};
  if (cli.scoring.profiles.empty()) cli.scoring.profiles = {"compat"};
  const Format format = parse_format(cli.format);
  if (!cli.plot.empty() && !cli.sweep)
    throw InputError("--plot draws the alpha sweep: add --alpha-sweep");
  for (const auto& p : cli.scoring.profiles)
    to_eval_options(cli.scoring, p, false);  // validate early
  const Benchmark b = read_benchmark(cli);
  const Space& space = *b.space;
  check_alpha(cli, b.archs.size());
  set_torch_threads(1);
  std::vector<ProfileResult> results;
  for (const auto& p : cli.scoring.profiles) results.push_back(bench_profile(cli, space, b, p));
  write_file_atomic(cli.output, render(cli, results, format, b.archs.size()));
  if (!cli.plot.empty()) plot_sweep(cli, results);
  return 0;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto cli = std::make_shared<BenchCli>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Rank correlations of proxies against a benchmark's ground truth");
  cmd->add_option("--benchmark", cli->benchmark, "CSV with arch_encoding and ground-truth columns")
      ->required();
  cmd->add_option("--truth", cli->truth, "ground-truth column")->capture_default_str();
  cmd->add_flag("--truth-lower-is-better", cli->lower_is_better,
                "negate the truth (perplexity, loss)");
  add_scoring_options(cmd, cli->scoring, true);
  cmd->add_option("--splits", cli->splits, "random splits for --alpha sample:K")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--bootstrap", cli->resamples,
                  "bootstrap resamples for the 95% intervals (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--heuristic-samples", cli->heuristic_samples,
                  "architectures sampled from the space for --alpha heuristic")
      ->capture_default_str()
      ->check(CLI::Range(3, 10000000));
  cmd->add_flag("--alpha-sweep", cli->sweep,
                "Kendall/Spearman of ZeroLM for every alpha of [-1.5, 1.5] step 0.05");
  cmd->add_option("--plot", cli->plot,
                  "with --alpha-sweep: draw tau against alpha into this PNG (gnuplot)");
  cmd->add_option("--group-by", cli->group_by,
                  "correlations within groups, e.g. hidden,layers (or benchmark column names)");
  cmd->add_option("--reference-prefix", cli->reference_prefixes,
                  "benchmark columns reported as published reference rows")
      ->capture_default_str()
      ->allow_extra_args(false);
  cmd->add_option("--format", cli->format, "table, csv, json or markdown")->capture_default_str();
  cmd->add_option("--output,-o", cli->output, "output file (written atomically); - for stdout")
      ->capture_default_str();
  return [cli] { return run_bench(*cli); };
}

}  // namespace zerolm
