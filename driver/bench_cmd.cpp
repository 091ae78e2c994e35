// `zerolm bench`: how well each proxy ranks a benchmark's trained architectures — the ZeroLM
// paper's table, with bootstrap intervals, alpha strategies, published reference rows, alpha
// sweeps (and their plot) and within-group correlations.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "driver/bench_report.h"
#include "driver/benchmark.h"
#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/log.h"
#include "driver/options.h"
#include "driver/table.h"
#include "proxy/metrics.h"
#include "proxy/parallel.h"
#include "proxy/ranking.h"
#include "proxy/torch_runtime.h"

namespace zerolm {

namespace {

struct BenchCli {
  ScoringCli scoring;
  BenchmarkSource source;
  int splits = 20;
  int resamples = 1000;
  int heuristic_samples = 1000;
  bool sweep = false;
  std::string plot;
  std::string format = "table";
  std::string output = "-";
};

// Runs jobs on `threads` threads; results in job order.
std::vector<BenchRow> run_parallel(const std::vector<std::function<BenchRow()>>& jobs,
                                   int threads) {
  std::vector<BenchRow> out(jobs.size());
  parallel_for(jobs.size(), threads, [&](std::size_t i) { out[i] = jobs[i](); });
  return out;
}

ProfileResult bench_profile(const BenchCli& cli, const Space& space, const Benchmark& b,
                            const std::string& profile) {
  const AlphaChoice alpha_choice = parse_alpha(cli.scoring.config.alpha);
  EvalOptions opt =
      to_eval_options(cli.scoring, profile, alpha_choice.kind == AlphaChoice::Kind::Fixed);
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
  const bool grouped = !cli.source.group_by.empty();
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

  std::vector<std::function<BenchRow()>> jobs;
  std::string zerolm_alpha;
  if (zerolm) {
    if (alpha_choice.kind == AlphaChoice::Kind::Sample) {
      const std::size_t k = alpha_choice.rows;  // below the row count: checked by check_alpha
      const SampledAlpha s =
          sample_alpha(attn, ffn, b.truth, params, k, cli.splits, opt.seed, grid);
      BenchRow r;
      r.proxy = "zerolm";
      r.source = "zerolm";
      r.n = b.archs.size() - k;
      r.kendall = {s.mean.kendall, std::nan(""), std::nan(""), s.sd.kendall};
      r.spearman = {s.mean.spearman, std::nan(""), std::nan(""), s.sd.spearman};
      r.pearson = {s.mean.pearson, std::nan(""), std::nan(""), s.sd.pearson};
      r.pw10 = {s.mean.pw10, std::nan(""), std::nan(""), s.sd.pw10};
      std::vector<double> sorted = s.alphas;
      std::sort(sorted.begin(), sorted.end());
      std::string list;
      for (double a : s.alphas) list += (list.empty() ? "" : " ") + fixed(a, 2);
      r.alpha = cli.scoring.config.alpha + " median " + fixed(sorted[sorted.size() / 2], 2);
      out.notes.push_back("zerolm alpha " + cli.scoring.config.alpha + ": fitted on " +
                          std::to_string(k) +
                          " random rows over [-1.5, 1.5] step 0.05, reported on the other " +
                          std::to_string(r.n) + " rows, mean +- sd over " +
                          std::to_string(cli.splits) + " splits; chosen alphas: " + list);
      jobs.push_back([r] { return r; });
    } else {
      double alpha = 0;
      if (alpha_choice.kind == AlphaChoice::Kind::Heuristic) {
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
        alpha = alpha_choice.value;
        zerolm_alpha = fixed(alpha, 2);
      }
      auto x = combine(attn, ffn, alpha);
      jobs.push_back([=] {
        BenchRow r = row_of("zerolm", "zerolm", x, 1);
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
      BenchRow r = grouped ? grouped_row(b.published[p].first, "published", x, t, pr, k)
                           : metric_row(b.published[p].first, "published", x, t, pr, cli.resamples,
                                        derive_seed(opt.seed, 1000 + p));
      return r;
    });
  }
  out.rows = run_parallel(std::move(jobs), cli.scoring.threads);
  for (BenchRow& r : out.rows) r.profile = profile;
  if (grouped)
    out.notes.push_back("correlations within groups of equal " + cli.source.group_by +
                        " (mean over groups of 3 or more rows, weighted by group size)");
  return out;
}

// Rejects a bad --alpha before any scoring: fixed number, heuristic, or sample:<rows> with rows
// left to report on.
void check_alpha(const BenchCli& cli, std::size_t rows) {
  const AlphaChoice a = parse_alpha(cli.scoring.config.alpha);
  if (a.kind != AlphaChoice::Kind::Sample) return;
  if (a.rows >= rows)
    throw InputError("--alpha " + a.text + ": expected sample:<rows>, 2 <= rows < " +
                     std::to_string(rows));
  if (!cli.source.group_by.empty())
    throw InputError("--group-by works with a fixed or heuristic alpha, not " + a.text);
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
  cli.source.space = cli.scoring.config.space;
  const Benchmark b = read_benchmark(cli.source);
  const Space& space = *b.space;
  check_alpha(cli, b.archs.size());
  set_torch_threads(1);
  std::vector<ProfileResult> results;
  for (const auto& p : cli.scoring.profiles) results.push_back(bench_profile(cli, space, b, p));
  ReportContext ctx;
  ctx.profiles = cli.scoring.profiles;
  ctx.benchmark = cli.source.path;
  ctx.truth = cli.source.truth;
  ctx.lower_is_better = cli.source.lower_is_better;
  ctx.resamples = cli.resamples;
  ctx.grouped = !cli.source.group_by.empty();
  ctx.sweep = cli.sweep;
  ctx.plot = cli.plot;
  write_file_atomic(cli.output, render_report(ctx, results, format, b.archs.size()));
  if (!cli.plot.empty()) plot_alpha_sweep(ctx, results);
  return 0;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto cli = std::make_shared<BenchCli>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Rank correlations of proxies against a benchmark's ground truth");
  cmd->add_option("--benchmark", cli->source.path,
                  "CSV with arch_encoding and ground-truth columns")
      ->required();
  cmd->add_option("--truth", cli->source.truth, "ground-truth column")->capture_default_str();
  cmd->add_flag("--truth-lower-is-better", cli->source.lower_is_better,
                "negate the truth (perplexity, loss)");
  add_scoring_options(cmd, cli->scoring, false);
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
  cmd->add_option("--group-by", cli->source.group_by,
                  "correlations within groups, e.g. hidden,layers (or benchmark column names)");
  cmd->add_option("--reference-prefix", cli->source.reference_prefixes,
                  "benchmark columns reported as published reference rows")
      ->capture_default_str()
      ->allow_extra_args(false);
  cmd->add_option("--format", cli->format, "table, csv, json or markdown")->capture_default_str();
  cmd->add_option("--output,-o", cli->output, "output file (written atomically); - for stdout")
      ->capture_default_str();
  return [cli] { return run_bench(*cli); };
}

}  // namespace zerolm
