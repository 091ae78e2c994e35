// `zerolm bench`: how well each proxy ranks a benchmark's trained architectures — the ZeroLM
// paper's table, with bootstrap intervals, alpha strategies, published reference rows, alpha
// sweeps (and their plot) and within-group correlations. With several benchmarks, one table with
// a column group per benchmark, and the protocols that keep a fitted alpha honest: transfer
// (sample:K fitted on one benchmark, reported on the others) and leave one benchmark out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "driver/bench_protocol.h"
#include "driver/benchmark.h"
#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/options.h"
#include "proxy/metrics.h"
#include "proxy/parallel.h"
#include "proxy/ranking.h"
#include "proxy/torch_runtime.h"
#include "report/bench_report.h"
#include "report/progress.h"
#include "report/table.h"
#include "rundir/log.h"

namespace zerolm {

namespace {

struct BenchCli {
  ScoringCli scoring;
  std::vector<std::string> benchmarks;  // FILE[,key=value...] as given
  BenchmarkSource defaults;             // what --truth, --reference-prefix, ... set for all
  bool lower_is_better = false;
  int splits = 20;
  int resamples = 1000;
  int heuristic_samples = 1000;
  bool sweep = false;
  std::string plot;
  std::string format = "table";
  std::string output = "-";
};

// The proxies' scores of one benchmark's rows under one profile.
struct Scores {
  std::map<std::string, std::vector<double>> of;  // by proxy, with params (pw10 pairs by it)
  std::vector<double> attn, ffn;                  // ZeroLM's parts, when zerolm is scored
};

// A row to compute (in parallel with the others) and what the progress lines call it.
struct Job {
  std::size_t benchmark;
  std::string what;
  std::function<BenchRow()> run;
};

// One run of the command: the benchmarks read, their scores (a decoder benchmark is scored once
// for all profiles), and heuristic alphas (per space and profile).
struct Run {
  const BenchCli& cli;
  AlphaChoice alpha;
  std::vector<Benchmark> benchmarks;
  std::vector<BenchInfo> info;
  std::map<std::pair<std::size_t, std::string>, Scores> scores;
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> heuristic;
  // Threads of each row's bootstrap: the rows already run in parallel, so the cores are shared
  // between them (all of them for a single row) instead of every row taking every core.
  int bootstrap_threads = 1;

  bool multi() const { return benchmarks.size() > 1; }
  bool has_proxy(const std::string& n) const {
    const auto& p = cli.scoring.proxies;
    return std::find(p.begin(), p.end(), n) != p.end();
  }
  // The profile as it applies to a benchmark: "as encoded" where it changes nothing.
  std::string profile_of(std::size_t b, const std::string& profile) const {
    return info[b].as_encoded ? "as encoded" : profile;
  }
};

const Scores& scores_of(Run& run, std::size_t bi, const std::string& profile,
                        const EvalOptions& opt) {
  const auto key = std::make_pair(bi, run.profile_of(bi, profile));
  auto it = run.scores.find(key);
  if (it != run.scores.end()) return it->second;
  const Benchmark& b = run.benchmarks[bi];
  std::vector<std::string> names = run.cli.scoring.proxies;
  if (!run.has_proxy("params")) names.push_back("params");
  log::info(shapes_label(run.info[bi], profile) + ": scoring " + std::to_string(b.archs.size()) +
            " architectures of " + b.name + " with " +
            std::to_string(run.cli.scoring.proxies.size()) +
            (run.cli.scoring.proxies.size() == 1 ? " proxy on " : " proxies on ") +
            std::to_string(run.cli.scoring.threads) + " threads");
  const auto evals = evaluate_all(b.archs, names, opt, run.cli.scoring.threads);
  Scores s;
  const std::size_t z = std::find(names.begin(), names.end(), "zerolm") - names.begin();
  for (const Evaluation& e : evals) {
    for (std::size_t p = 0; p < names.size(); ++p) s.of[names[p]].push_back(e.results[p].score);
    if (z < names.size()) {
      s.attn.push_back(e.results[z].parts[0]);
      s.ffn.push_back(e.results[z].parts[1]);
    }
  }
  return run.scores.emplace(key, std::move(s)).first->second;
}

// A proxy's row on one benchmark: bootstrap intervals, or correlations within groups.
BenchRow proxy_row(const Run& run, std::size_t bi, const Scores& s, const std::string& proxy,
                   const std::string& source, const std::vector<double>& x, std::uint64_t seed) {
  const Benchmark& b = run.benchmarks[bi];
  if (!run.cli.defaults.group_by.empty())
    return grouped_row(proxy, source, x, b.truth_values, s.of.at("params"), b.group_keys);
  return metric_row(proxy, source, x, b.truth_values, s.of.at("params"), run.cli.resamples, seed,
                    run.bootstrap_threads);
}

// The published columns of a benchmark, correlated where present.
BenchRow published_row(const Run& run, std::size_t bi, const Scores& s, std::size_t p,
                       std::uint64_t seed) {
  const Benchmark& b = run.benchmarks[bi];
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < b.truth_values.size(); ++i)
    if (!std::isnan(b.published[p].second[i])) rows.push_back(i);
  const auto x = select(b.published[p].second, rows), t = select(b.truth_values, rows),
             pr = select(s.of.at("params"), rows);
  std::vector<std::string> k;
  for (std::size_t i : rows) k.push_back(b.group_keys[i]);
  return run.cli.defaults.group_by.empty()
             ? metric_row(b.published[p].first, "published", x, t, pr, run.cli.resamples, seed,
                          run.bootstrap_threads)
             : grouped_row(b.published[p].first, "published", x, t, pr, k);
}

const std::string kGrid = "[-1.5, 1.5] step 0.05";

TunableScore tunable_zerolm(const Benchmark& b, const Scores& s) {
  const std::vector<double>*attn = &s.attn, *ffn = &s.ffn;
  return {[attn, ffn](double a, const std::vector<std::size_t>& rows) {
            return combine(*attn, *ffn, a, rows);
          },
          b.truth_values, s.of.at("params")};
}

std::string alpha_list(const std::vector<double>& alphas) {
  std::string list;
  for (double a : alphas) list += (list.empty() ? "" : " ") + fixed(a, 2);
  return list;
}

std::string median_alpha(std::vector<double> alphas) {
  std::sort(alphas.begin(), alphas.end());
  return fixed(alphas[alphas.size() / 2], 2);
}

// The zerolm rows of `--alpha sample:K`: per fitting benchmark, alpha fitted on K random rows of
// it, reported on its other rows (and, with several benchmarks, on every other benchmark).
std::vector<MultiRow> transfer_rows(Run& run, const std::vector<const Scores*>& scores,
                                    const std::string& profile, std::uint64_t seed,
                                    std::vector<std::string>& notes) {
  const BenchCli& cli = run.cli;
  const std::size_t nb = run.benchmarks.size(), k = run.alpha.rows;
  std::vector<TunableScore> tunable;
  for (std::size_t b = 0; b < nb; ++b)
    tunable.push_back(tunable_zerolm(run.benchmarks[b], *scores[b]));
  std::vector<TransferResult> results(nb);
  {
    ProgressReporter progress("alpha splits", nb * std::size_t(cli.splits), "splits");
    parallel_for(nb, cli.scoring.threads, [&](std::size_t f) {
      results[f] = transfer(tunable, f, k, cli.splits, seed, alpha_grid(), [&](int) {
        progress.step("fitting on " + run.benchmarks[f].name + ", profile " + profile);
      });
    });
  }
  std::vector<MultiRow> out;
  for (std::size_t f = 0; f < nb; ++f) {
    const TransferResult& t = results[f];
    const std::string& name = run.benchmarks[f].name;
    MultiRow m;
    m.proxy = run.multi() ? "zerolm (alpha " + run.alpha.text + " on " + name + ")" : "zerolm";
    m.source = "zerolm";
    m.alpha = run.alpha.text + " median " + median_alpha(t.constants);
    for (std::size_t b = 0; b < nb; ++b) {
      m.on.push_back(sd_row(m.proxy, m.source, t.mean[b], t.sd[b], t.rows[b]));
      m.on.back().alpha = m.alpha;
      m.on.back().profile = run.profile_of(b, profile);
    }
    out.push_back(m);
    std::string others;
    for (std::size_t b = 0; b < nb; ++b)
      if (b != f) others += (others.empty() ? "" : ", ") + run.benchmarks[b].name;
    notes.push_back(run.multi() ? "zerolm alpha " + run.alpha.text + " on " + name +
                                      ": fitted on " + std::to_string(k) + " random rows of " +
                                      name + " over " + kGrid + ", reported on its other " +
                                      std::to_string(t.rows[f]) + " rows and on all rows of " +
                                      others + ", mean +- sd over " + std::to_string(cli.splits) +
                                      " splits; chosen alphas: " + alpha_list(t.constants)
                                : "zerolm alpha " + run.alpha.text + ": fitted on " +
                                      std::to_string(k) + " random rows over " + kGrid +
                                      ", reported on the other " + std::to_string(t.rows[f]) +
                                      " rows, mean +- sd over " + std::to_string(cli.splits) +
                                      " splits; chosen alphas: " + alpha_list(t.constants));
  }
  return out;
}

// The zerolm row of one benchmark for a fixed or heuristic alpha, or (lobo) the alpha fitted on
// the other benchmarks.
Job zerolm_job(Run& run, std::size_t bi, const Scores& s, const std::string& profile,
               const EvalOptions& opt, double lobo_alpha, std::vector<std::string>& notes) {
  const Benchmark& b = run.benchmarks[bi];
  double alpha = 0;
  std::string label;
  switch (run.alpha.kind) {
    case AlphaChoice::Kind::Heuristic: {
      // Data-free: architectures sampled from the space, never the benchmark's rows.
      const auto key = std::make_pair(b.space->name(), run.profile_of(bi, profile));
      auto it = run.heuristic.find(key);
      if (it == run.heuristic.end()) {
        double tau = 0;
        const double a = heuristic_alpha(*b.space, opt, run.cli.heuristic_samples,
                                         run.cli.scoring.threads, &tau);
        it = run.heuristic.emplace(key, std::make_pair(a, tau)).first;
      }
      alpha = it->second.first;
      label = "heuristic " + fixed(alpha, 2);
      notes.push_back(
          "zerolm alpha heuristic: " + fixed(alpha, 2) + ", the grid alpha whose score ranks " +
          std::to_string(run.cli.heuristic_samples) + " architectures sampled from " +
          b.space->name() + " (seed " + std::to_string(opt.seed) +
          ") most like their parameter count (Kendall " + fixed(it->second.second) + ")");
      break;
    }
    case AlphaChoice::Kind::LeaveOneOut:
      alpha = lobo_alpha;
      label = "lobo " + fixed(alpha, 2);
      break;
    default:
      alpha = run.alpha.value;
      label = fixed(alpha, 2);
  }
  const std::string proxy =
      run.alpha.kind == AlphaChoice::Kind::LeaveOneOut ? "zerolm (alpha lobo)" : "zerolm";
  auto x = combine(s.attn, s.ffn, alpha);
  const std::uint64_t seed = derive_seed(opt.seed, 1);
  return {bi, "proxy zerolm, benchmark " + b.name, [&run, bi, &s, proxy, x, seed, label] {
            BenchRow r = proxy_row(run, bi, s, proxy, "zerolm", x, seed);
            r.alpha = label;
            return r;
          }};
}

// The rows of every proxy in the order asked (zerolm's from `zerolm`, absent when it has no row
// here), then the published columns, of one benchmark.
void add_proxy_jobs(Run& run, std::size_t bi, const Scores& s, const EvalOptions& opt,
                    std::vector<Job>& jobs, std::optional<Job> zerolm) {
  const Benchmark& b = run.benchmarks[bi];
  for (std::size_t p = 0; p < run.cli.scoring.proxies.size(); ++p) {
    const std::string& n = run.cli.scoring.proxies[p];
    if (n == "zerolm") {
      if (zerolm) jobs.push_back(std::move(*zerolm));
      continue;
    }
    const std::uint64_t seed = derive_seed(opt.seed, 100 + p);
    jobs.push_back({bi, "proxy " + n + ", benchmark " + b.name, [&run, bi, &s, n, seed] {
                      return proxy_row(run, bi, s, n, "zerolm", s.of.at(n), seed);
                    }});
  }
  for (std::size_t p = 0; p < b.published.size(); ++p) {
    const std::uint64_t seed = derive_seed(opt.seed, 1000 + p);
    jobs.push_back({bi, "published " + b.published[p].first + ", benchmark " + b.name,
                    [&run, bi, &s, p, seed] { return published_row(run, bi, s, p, seed); }});
  }
}

ProfileResult bench_profile(Run& run, const std::string& profile) {
  const BenchCli& cli = run.cli;
  const AlphaChoice::Kind kind = run.alpha.kind;
  const EvalOptions opt = to_eval_options(cli.scoring, profile, kind == AlphaChoice::Kind::Fixed);
  const bool zerolm = run.has_proxy("zerolm");
  const std::size_t nb = run.benchmarks.size();
  std::vector<const Scores*> scores;
  for (std::size_t b = 0; b < nb; ++b) scores.push_back(&scores_of(run, b, profile, opt));

  ProfileResult out;
  if (cli.sweep) {
    if (!zerolm) throw InputError("--alpha-sweep needs the zerolm proxy");
    for (std::size_t b = 0; b < nb; ++b) {
      out.sweeps.emplace_back();
      for (double a : alpha_grid())
        out.sweeps.back().push_back(
            {a, compute_metrics(combine(scores[b]->attn, scores[b]->ffn, a),
                                run.benchmarks[b].truth_values, scores[b]->of.at("params"))});
    }
    return out;
  }

  std::vector<MultiRow> fitted;  // sample:K rows, first in the table
  std::vector<double> lobo;
  if (zerolm && kind == AlphaChoice::Kind::Sample)
    fitted = transfer_rows(run, scores, profile, opt.seed, out.notes);
  if (zerolm && kind == AlphaChoice::Kind::LeaveOneOut) {
    std::vector<TunableScore> tunable;
    for (std::size_t b = 0; b < nb; ++b)
      tunable.push_back(tunable_zerolm(run.benchmarks[b], *scores[b]));
    lobo = leave_one_out(tunable, alpha_grid());
    std::string list;
    for (std::size_t b = 0; b < nb; ++b) {
      std::string from;
      for (std::size_t o = 0; o < nb; ++o)
        if (o != b) from += (from.empty() ? "" : " and ") + run.benchmarks[o].name;
      list += (list.empty() ? "" : ", ") + run.benchmarks[b].name + " " + fixed(lobo[b], 2) +
              " (fitted on " + from + ")";
    }
    out.notes.push_back(
        "zerolm alpha lobo (leave one benchmark out): for each benchmark, alpha fitted on all rows "
        "of the others over " +
        kGrid +
        " (highest Kendall; with several, the highest mean Kendall over them), reported on it: " +
        list);
  }

  std::vector<Job> jobs;
  std::vector<std::string> notes;
  for (std::size_t b = 0; b < nb; ++b) {
    std::optional<Job> z;
    if (zerolm && kind != AlphaChoice::Kind::Sample)
      z = zerolm_job(run, b, *scores[b], profile, opt, lobo.empty() ? 0.0 : lobo[b], notes);
    add_proxy_jobs(run, b, *scores[b], opt, jobs, std::move(z));
  }
  std::vector<BenchRow> rows(jobs.size());
  run.bootstrap_threads =
      std::max(1, cli.scoring.threads / int(std::max<std::size_t>(1, jobs.size())));
  {
    const bool bootstrap = cli.resamples > 0 && cli.defaults.group_by.empty();
    ProgressReporter progress(
        bootstrap ? "bootstrap (" + std::to_string(cli.resamples) + " resamples per row)"
                  : "correlations",
        jobs.size(), "rows");
    parallel_for(jobs.size(), cli.scoring.threads, [&](std::size_t i) {
      rows[i] = jobs[i].run();
      progress.step(jobs[i].what + (run.multi() ? ", profile " + profile : ""));
    });
  }
  for (std::size_t i = 0; i < jobs.size(); ++i)
    rows[i].profile = run.profile_of(jobs[i].benchmark, profile);
  // Notes once each (benchmarks of one space share their heuristic alpha).
  for (const auto& n : notes)
    if (std::find(out.notes.begin(), out.notes.end(), n) == out.notes.end()) out.notes.push_back(n);
  if (!cli.defaults.group_by.empty())
    out.notes.push_back("correlations within groups of equal " + cli.defaults.group_by +
                        " (mean over groups of 3 or more rows, weighted by group size)");

  if (!run.multi()) {
    for (const MultiRow& m : fitted) out.rows.push_back(m.on.front());
    out.rows.insert(out.rows.end(), rows.begin(), rows.end());
    return out;
  }
  std::vector<std::vector<BenchRow>> per(nb);
  for (std::size_t i = 0; i < jobs.size(); ++i) per[jobs[i].benchmark].push_back(rows[i]);
  out.multi = fitted;
  const auto merged = merge_rows(per);
  out.multi.insert(out.multi.end(), merged.begin(), merged.end());
  return out;
}

// Rejects what cannot run before any scoring: lobo with one benchmark, sample:K with too few
// rows left to report on, sample:K within groups.
void check_alpha(const Run& run) {
  const AlphaChoice& a = run.alpha;
  if (a.kind == AlphaChoice::Kind::LeaveOneOut && !run.multi())
    throw InputError(
        "--alpha lobo: leaving one benchmark out needs two or more --benchmark, got 1");
  if (a.kind != AlphaChoice::Kind::Sample) return;
  if (!run.cli.defaults.group_by.empty())
    throw InputError("--group-by works with a fixed, heuristic or lobo alpha, not " + a.text);
  // The held-out figures are only worth reporting over at least as many rows as were fitted on,
  // and at least 10.
  for (const Benchmark& b : run.benchmarks) {
    const std::size_t n = b.archs.size(), k = a.rows;
    const std::size_t left = n > k ? n - k : 0;
    if (left >= std::max<std::size_t>(k, 10)) continue;
    const std::size_t most = std::min(n / 2, n >= 10 ? n - 10 : 0);
    throw InputError("--alpha " + a.text + ": " + b.name + " (" + b.path + ") has " +
                     std::to_string(n) + " rows; fitting on " + std::to_string(k) + " leaves " +
                     std::to_string(left) + " to report on, expected at least " +
                     std::to_string(std::max<std::size_t>(k, 10)) +
                     (most >= 2 ? " (sample:K with K <= " + std::to_string(most) + ")"
                                : " (too few rows for sample:K)"));
  }
}

int run_bench(BenchCli& cli) {
  if (cli.scoring.proxies.empty())
    cli.scoring.proxies = {"zerolm",  "params", "params-nonemb", "flops",
                           "synflow", "snip",   "grad-norm"};
  // The same default as score and search (ScoringConfig): the shapes FlexiBERT defines.
  if (cli.scoring.profiles.empty()) cli.scoring.profiles = {cli.scoring.config.profile};
  const Format format = parse_format(cli.format);
  if (!cli.plot.empty() && !cli.sweep)
    throw InputError("--plot draws the alpha sweep: add --alpha-sweep");
  for (const auto& p : cli.scoring.profiles)
    to_eval_options(cli.scoring, p, false);  // validate early
  Run run{cli, parse_alpha(cli.scoring.config.alpha), {}, {}, {}, {}};
  if (run.alpha.kind == AlphaChoice::Kind::LeaveOneOut && cli.benchmarks.size() < 2)
    check_alpha(run);  // before reading anything
  cli.defaults.space = cli.scoring.config.space;
  if (cli.lower_is_better) cli.defaults.orientation = Orientation::LowerIsBetter;
  std::vector<BenchmarkSource> sources;
  for (const auto& arg : cli.benchmarks) sources.push_back(parse_benchmark_arg(arg, cli.defaults));
  for (const auto& src : sources) {
    run.benchmarks.push_back(read_benchmark(src));
    const Benchmark& b = run.benchmarks.back();
    run.info.push_back(
        {b.name, b.path, b.truth, b.lower_is_better, b.archs.size(), !shapes_follow_profile(b)});
  }
  // Two benchmarks of one file stem (say, two truth columns) are told apart by their truth.
  for (std::size_t i = 0; i < run.info.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (run.info[i].name == run.info[j].name && sources[i].name.empty()) {
        run.info[i].name += ":" + run.info[i].truth;
        if (run.info[i].name == run.info[j].name) run.info[i].name += "#" + std::to_string(i + 1);
        run.benchmarks[i].name = run.info[i].name;
      }
  check_alpha(run);
  // A table per profile only where a profile changes some benchmark's models.
  if (std::all_of(run.info.begin(), run.info.end(),
                  [](const BenchInfo& b) { return b.as_encoded; }) &&
      cli.scoring.profiles.size() > 1) {
    log::info("the profile does not change these benchmarks' models: one table, shapes as encoded");
    cli.scoring.profiles.resize(1);
  }
  set_torch_threads(1);
  std::vector<ProfileResult> results;
  for (const auto& p : cli.scoring.profiles) results.push_back(bench_profile(run, p));
  ReportContext ctx;
  ctx.profiles = cli.scoring.profiles;
  ctx.benchmarks = run.info;
  ctx.resamples = cli.resamples;
  ctx.grouped = !cli.defaults.group_by.empty();
  ctx.sweep = cli.sweep;
  ctx.plot = cli.plot;
  write_file_atomic(cli.output, render_report(ctx, results, format));
  if (!cli.plot.empty()) plot_alpha_sweep(ctx, results);
  return 0;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto cli = std::make_shared<BenchCli>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Rank correlations of proxies against a benchmark's ground truth");
  cmd->add_option("--benchmark", cli->benchmarks,
                  "CSV with arch_encoding (or LTS's GPT-2 columns) and ground truth; repeatable. "
                  "Per benchmark, options may follow: FILE,truth=COLUMN,lower-is-better,"
                  "higher-is-better,space=SPACE,reference-prefix=PREFIX,name=NAME")
      ->required()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  std::string truths;
  for (const auto& [name, lower] : default_truth_columns())
    truths += (truths.empty() ? "" : ", ") + name;
  cmd->add_option("--truth", cli->defaults.truth,
                  "ground-truth column (default: the first of " + truths +
                      " in the file; glue is higher is better, the others lower, also when named)");
  cmd->add_flag("--truth-lower-is-better", cli->lower_is_better,
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
  cmd->add_option("--group-by", cli->defaults.group_by,
                  "correlations within groups, e.g. hidden,layers (or benchmark column names)");
  cmd->add_option("--reference-prefix", cli->defaults.reference_prefixes,
                  "benchmark columns reported as published reference rows")
      ->capture_default_str()
      ->allow_extra_args(false);
  cmd->add_flag("--skip-invalid", cli->defaults.skip_invalid,
                "skip rows the space cannot express (each reported on stderr) instead of stopping");
  add_format_option(cmd, cli->format);
  cmd->add_option("--output,-o", cli->output, "output file (written atomically); - for stdout")
      ->capture_default_str();
  return [cli] { return run_bench(*cli); };
}

}  // namespace zerolm
