// `zerolm search`: its options and the configuration they resolve to (normalised, checked, merged
// with a resumed run's saved one). Every rank parses the same command line; the search itself runs
// in farm/search_job.cpp, where rank 0 resolves (resolve() below) and all ranks agree that
// start-up succeeded before anyone works.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "checkpoints/prune_space.h"
#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/options.h"
#include "farm/farm.h"
#include "proxy/capacity_stat.h"
#include "proxy/torch_runtime.h"
#include "report/table.h"
#include "rundir/log.h"
#include "search/strategy.h"
#include "spaces/rng.h"
#include "train/calibration.h"
#include "train/cost.h"

namespace zerolm {

namespace {

struct SearchCli {
  SearchConfig c;
  FinetuneJob finetune;  // --finetune-top-k K: brief training of the top K after the search
  std::string out, resume;
  bool force = false;
  std::int64_t stop_after = 0;
  std::map<std::string, CLI::Option*> given;  // search options, to tell given from defaulted
};

// Given under its current or its old spelling (NAME_old_name).
bool given(const SearchCli& cli, const std::string& name) {
  for (const std::string& n : {name, name + "_old_name"}) {
    auto it = cli.given.find(n);
    if (it != cli.given.end() && it->second->count() > 0) return true;
  }
  return false;
}

void need_positive(int v, const std::string& name) {
  if (v < 1) throw InputError(name + " " + std::to_string(v) + ": expected at least 1");
}

std::string timestamp_dir() {
  char b[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "runs/search-%Y%m%d-%H%M%S", std::gmtime(&t));
  return b;
}

// Canonical objectives and budgets; the proxy is the first proxy objective; two or more
// objectives search with NSGA-II unless a strategy was asked for.
void normalize(SearchCli& cli) {
  SearchConfig& c = cli.c;
  // The run records where its checkpoint and calibration text are as absolute paths, so that
  // `zerolm export RUN` and --resume find them from any working directory.
  for (std::string* path : {&c.checkpoint, &c.calibration})
    if (!path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
  // The space's own score when none is given (`zerolm list` says which and why), and its capacity
  // statistic for ZeroLM unless --capacity is given (the pruning space's is spectral).
  const DefaultScore d =
      c.space == "prune" ? prune_default_score() : find_space(c.space).spec().score;
  if (c.objectives.empty() && !given(cli, "proxy")) c.proxy = d.proxy;
  if (!given(cli, "capacity")) c.capacity = d.capacity;
  if (!c.objectives.empty()) {
    const auto obj = parse_objectives(c.objectives);
    c.objectives.clear();
    for (const auto& o : obj) c.objectives.push_back(o.text());
    std::string first_proxy;
    for (const auto& o : obj)
      if (!is_cost(o.name) && first_proxy.empty()) first_proxy = o.name;
    if (!first_proxy.empty()) {
      if (given(cli, "proxy") && c.proxy != first_proxy)
        throw InputError("--proxy " + c.proxy + " and --objective " + first_proxy +
                         ": with objectives, the proxy is the first proxy objective; give it "
                         "with --objective only");
      c.proxy = first_proxy;
    }
    if (obj.size() == 1) {
      if (is_cost(obj[0].name) || !obj[0].maximize)
        throw InputError("--objective " + obj[0].text() +
                         ": a single objective must be a proxy to maximise; a cost needs a "
                         "second objective (e.g. --objective zerolm --objective " +
                         obj[0].name + ")");
      c.objectives.clear();  // one proxy: today's single-objective search
    }
    if (obj.size() >= 2 && !given(cli, "strategy")) c.strategy = "nsga2";
  }
  std::vector<std::string> budgets;
  for (const auto& b : c.constraints) budgets.push_back(parse_constraint(b).text());
  c.constraints = budgets;
  // Every score of a checkpoint's sub-networks rises with what is kept: alone and unbudgeted, the
  // search can only return the whole model.
  if (c.space == "prune" && c.objectives.empty() && c.constraints.empty() && c.max_params == 0)
    log::warn("--space prune with no budget: " + c.proxy +
              " rises with what a sub-network keeps, so the search returns the unpruned model; "
              "give a budget (--constraint 'params<=N') or a second objective");
}

std::string open_checkpoint_space(const SearchConfig& c);

void validate(SearchConfig& c) {
  // The order the pruning space keeps channels in is recorded with the run; a resumed run whose
  // calibration text changed would score other slices than its recorded evaluations did.
  const std::string order = open_checkpoint_space(c);
  if (!c.importance_detail.empty() && c.importance_detail != order)
    throw InputError("--calibration " + c.calibration + ": the run kept channels by " +
                     c.importance_detail + ", now by " + order +
                     " (the file changed); a resumed run keeps its order");
  c.importance_detail = order;
  if (c.space == "prune") {
    for (const auto& n : c.value_names())
      if (is_measured(n))
        throw InputError("--space prune: " + n +
                         " is not measured on a checkpoint's sub-networks; use params or flops");
    if (c.alpha == "heuristic")
      throw InputError(
          "--space prune --alpha heuristic: the heuristic samples the families' "
          "spaces; give alpha as a number");
    const std::vector<std::string> known = checkpoint_proxies();
    std::vector<std::string> wanted{c.proxy};
    for (const auto& n : c.value_names())
      if (!is_measured(n)) wanted.push_back(n);
    for (const auto& p : wanted)
      if (std::find(known.begin(), known.end(), p) == known.end())
        throw InputError("--space prune: " + p +
                         " is not computed on a checkpoint's sub-networks (" + join_list(known) +
                         " are)");
  }
  validate_scoring(c);
  const auto obj = c.objective_list();
  if (c.multi_objective() && c.strategy == "evolution")
    throw InputError("--strategy evolution maximises one objective; with " +
                     std::to_string(obj.size()) + " objectives use nsga2, lts or random");
  for (const auto& b : c.constraint_list())
    if (b.name == "params" && (c.min_params > 0 || c.max_params > 0))
      throw InputError("--constraint " + b.text() +
                       " and --min-params/--max-params: give the parameter budget once");
  need_positive(c.latency_batch, "--latency-batch");
  need_positive(c.latency_seq, "--latency-seq");
  need_positive(c.latency_repeats, "--latency-repeats");
  if (c.precision != "fp32" && c.precision != "bf16")
    throw InputError("--precision " + c.precision + ": expected fp32 or bf16");
  SearchSettings settings;
  settings.space = &find_space(c.space);
  make_strategy(c.strategy, settings);
  auto need = [](bool ok, const std::string& msg) {
    if (!ok) throw InputError(msg);
  };
  need(c.evaluations >= 1,
       "--evaluations " + std::to_string(c.evaluations) + ": expected at least 1");
  need(c.population >= 2, "--population " + std::to_string(c.population) + ": expected at least 2");
  // The tournament size is evolution's; nsga2's tournament is binary, lts has none.
  need(c.sample >= 1 && (c.strategy != "evolution" || c.sample <= c.population),
       "--sample " + std::to_string(c.sample) + ": expected 1 to the population size " +
           std::to_string(c.population));
  need(c.generation >= 1, "--generation " + std::to_string(c.generation) + ": expected at least 1");
  need(c.top_k >= 1, "--top-k " + std::to_string(c.top_k) + ": expected at least 1");
  need(c.min_params >= 0 && c.max_params >= 0, "--min-params/--max-params: expected counts >= 0");
  need(c.max_params == 0 || c.min_params <= c.max_params,
       "--min-params " + std::to_string(c.min_params) + " exceeds --max-params " +
           std::to_string(c.max_params));
  need(c.threads >= 1, "--threads: expected at least 1");
  need(std::isfinite(c.checkpoint_every) && std::isfinite(c.progress_every) &&
           c.checkpoint_every > 0 && c.progress_every > 0,
       "--state-every/--progress-every: expected seconds > 0");
  need(std::isfinite(c.memory_limit_mb) && c.memory_limit_mb >= 0,
       "--memory-limit " + format_number(c.memory_limit_mb) + ": expected MiB >= 0 (0: no limit)");
}

// A budget no architecture of the space can meet is refused before anything starts: the shape
// budgets by sampling within them, a latency or memory budget by measuring, here, the five
// smallest architectures (by FLOPs) of 300 sampled within the shape budgets.
void check_budgets(const SearchConfig& c) {
  const auto budgets = c.constraint_list();
  if (budgets.empty()) return;
  SearchSettings s;
  s.profile = parse_profile(c.profile);
  s.min_params = c.min_params;
  s.max_params = c.max_params;
  std::string shape;
  for (const auto& b : budgets) {
    if (b.name == "params") {
      (b.upper() ? s.max_params : s.min_params) = std::int64_t(b.value);
      shape += (shape.empty() ? "" : ", ") + b.text();
    } else if (b.name == "flops") {
      (b.upper() ? s.max_flops : s.min_flops) = b.value;
      shape += (shape.empty() ? "" : ", ") + b.text();
    }
  }
  const Space& space = find_space(c.space);
  Rng rng(derive_seed(c.seed, 0x6275646765747321ULL));
  const auto fits = sample_in_range(space, s.range(), 300, rng);
  if (fits.empty())
    throw InputError("--constraint " + shape + ": no architecture of " + c.space +
                     " met it in 300,000 draws; the space's models are outside this budget");
  const bool measured_upper = std::any_of(budgets.begin(), budgets.end(), [](const Constraint& b) {
    return is_measured(b.name) && b.upper();
  });
  if (!measured_upper) return;
  // The five smallest by FLOPs, measured once each: latency is not monotone in FLOPs for small
  // models, and one timing is noisy, so only a budget missed twice over by all five is refused
  // (a clear impossibility, never a borderline one).
  const Profile profile = parse_profile(c.profile);
  std::vector<std::pair<double, std::size_t>> by_flops;
  for (std::size_t i = 0; i < fits.size(); ++i)
    by_flops.push_back({flops_per_token(make_plan(fits[i], profile, false)), i});
  std::sort(by_flops.begin(), by_flops.end());
  by_flops.resize(std::min<std::size_t>(5, by_flops.size()));
  CostSettings cs;
  cs.batch = c.latency_batch;
  cs.seq = c.latency_seq;
  cs.repeats = c.latency_repeats;
  cs.precision = c.precision;
  const std::string device = pick_device(c.device, 0);
  std::vector<CostMeasurement> m;
  for (const auto& [f, i] : by_flops)
    m.push_back(measure_forward(fits[i], profile, device, cs, c.seed));
  for (const auto& b : budgets) {
    if (!is_measured(b.name) || !b.upper()) continue;
    std::size_t best = 0;
    auto value = [&](std::size_t k) {
      return b.name == "latency" ? m[k].latency_ms : m[k].memory_bytes;
    };
    for (std::size_t k = 1; k < m.size(); ++k)
      if (value(k) < value(best)) best = k;
    const double v = value(best);
    if (v > 2 * b.value)
      throw InputError("--constraint " + b.text() + ": the smallest " + c.space +
                       " architectures sampled (" + encode(fits[by_flops[best].second]) +
                       " the least of 5) already have " + b.violation(v) + " on " +
                       device_description(device) + "; no architecture of the space can meet it");
  }
}

// Rank 0: the configuration of this run, and its directory locked (into `lock`) and prepared.
// --space prune: every rank opens the checkpoint and registers its space before anything asks for
// it by name.
std::string open_checkpoint_space(const SearchConfig& c) {
  if (c.space != "prune") {
    if (!c.checkpoint.empty())
      throw InputError("--checkpoint " + c.checkpoint +
                       ": a checkpoint's sub-networks are searched with --space prune");
    if (c.prune_uniform || c.importance != "norm" || !c.calibration.empty())
      throw InputError(
          std::string(c.prune_uniform ? "--prune-uniform" : "--importance/--calibration") +
          ": options of --space prune (space " + c.space + ")");
    return "";
  }
  if (c.checkpoint.empty())
    throw InputError("--space prune: expected --checkpoint DIR (a Hugging Face model directory)");
  const CheckpointSpace& s = use_checkpoint_space(
      c.checkpoint, prune_grid_options(c.checkpoint, c.prune_uniform, c.importance, c.calibration));
  log::info("checkpoint " + c.checkpoint + ": " + s.prune().describe() + "; prepared in " +
            format_number(s.preparation_seconds()) + " s");
  return s.prune().options().importance;
}

SearchConfig resolve(SearchCli& cli, RunDir& dir, RunLock& lock) {
  normalize(cli);
  if (cli.finetune.top_k > 0 && cli.finetune.corpus.empty())
    throw InputError("--finetune-top-k " + std::to_string(cli.finetune.top_k) +
                     " needs --corpus FILE");
  if (!cli.resume.empty()) {
    if (!cli.out.empty() && cli.out != cli.resume)
      throw InputError("--out " + cli.out + " and --resume " + cli.resume +
                       ": a resumed run stays in its directory");
    if (!std::filesystem::is_directory(cli.resume))
      throw InputError("--resume " + cli.resume +
                       ": no run there (no such directory); start one "
                       "with --out " +
                       cli.resume);
    // Locked before anything is read or written: a run still working here is refused.
    lock = RunLock::acquire(dir.path());
    if (!dir.has_run()) {
      const std::string broken = dir.broken_run_message(true);
      if (!broken.empty()) throw InputError(broken);
      throw InputError("--resume " + cli.resume +
                       ": no run there (config.json missing); start one with --out " + cli.resume);
    }
    SearchConfig saved = dir.read_config();
    if (given(cli, "seed_archs")) {
      for (const Arch& a : parse_archs(find_space(saved.space), read_arch_file(cli.c.seed_file)))
        cli.c.seed_archs.push_back(encode(a));
    } else {
      cli.c.seed_archs = saved.seed_archs;
    }
    const auto before = saved.search_fields(), asked = cli.c.search_fields();
    for (std::size_t i = 0; i < before.size(); ++i) {
      const std::string& name = before[i].first;
      if (name == "alpha_value" || !given(cli, name)) continue;
      if (asked[i].second != before[i].second)
        throw InputError("--resume " + cli.resume + ": " + name + " is " + before[i].second +
                         " in this run but " + asked[i].second +
                         " on the command line; a resumed run keeps its search configuration "
                         "(only --evaluations and run-time options may change)");
    }
    // Run-time options may change; unspecified ones keep the run's values.
    const std::int64_t saved_budget = saved.evaluations;
    if (given(cli, "evaluations")) saved.evaluations = cli.c.evaluations;
    if (given(cli, "device")) saved.device = cli.c.device;
    if (given(cli, "threads")) saved.threads = cli.c.threads;
    if (given(cli, "memory_limit_mb")) saved.memory_limit_mb = cli.c.memory_limit_mb;
    if (given(cli, "latency_table")) saved.latency_table = cli.c.latency_table;
    if (given(cli, "checkpoint_every")) saved.checkpoint_every = cli.c.checkpoint_every;
    if (given(cli, "progress_every")) saved.progress_every = cli.c.progress_every;
    validate(saved);
    if (dir.has_checkpoint()) {
      const Checkpoint ck = dir.read_checkpoint();  // corrupted: refused now, before any work
      if (ck.config_hash != saved.hash())
        throw InputError(dir.file("checkpoint.bin") + ": written by another configuration (hash " +
                         ck.config_hash + ", config.json " + saved.hash() + ")");
    }
    dir.repair_log();
    const std::size_t done = dir.read_log().size();  // unreadable logs are refused now too
    // A smaller budget than what is done is refused rather than clamped: the user probably
    // counted evaluations still to do, and a silent clamp would hide that misunderstanding.
    if (given(cli, "evaluations") && std::uint64_t(saved.evaluations) < done)
      throw InputError("--evaluations " + std::to_string(saved.evaluations) + ": this run has " +
                       std::to_string(done) + " evaluations done already; the budget counts all " +
                       "of them, so give at least " + std::to_string(done) +
                       " (or leave --evaluations out to keep " + std::to_string(saved_budget) +
                       ")");
    dir.write_config(saved);
    return saved;
  }
  SearchConfig c = cli.c;
  validate(c);
  if (!c.seed_file.empty())
    for (const Arch& a : parse_archs(find_space(c.space), read_arch_file(c.seed_file)))
      c.seed_archs.push_back(encode(a));
  if (c.alpha == "heuristic") {
    // Data-free; in closed form where the capacity statistic has one (microseconds each).
    EvalOptions o = eval_options(c, "cpu");
    if (c.capacity == "msv" || c.capacity == "msv-svd") o.proxy.mode = Mode::Analytic;
    double tau = 0;
    c.alpha_value = heuristic_alpha(find_space(c.space), o, 1000, 1, &tau);
    log::info("alpha heuristic: " + format_number(c.alpha_value) + " (Kendall " +
              format_number(tau) + " with the parameter count of 1000 architectures sampled from " +
              c.space + ")");
  } else {
    c.alpha_value = parse_alpha_number(c.alpha);
  }
  check_budgets(c);
  lock = dir.create(cli.force);
  dir.write_config(c);
  return c;
}

}  // namespace

Runner add_search_command(CLI::App& app, const std::string& log_level) {
  auto cli = std::make_shared<SearchCli>();
  CLI::App* cmd = app.add_subcommand(
      "search",
      "Search a space for the best-scoring architectures, or the quality/cost front (run under "
      "mpirun or srun)");
  SearchConfig& c = cli->c;
  auto& g = cli->given;
  ScoringOptions how;
  how.seed_and_device = false;  // declared below: a run seed, and a run-time device
  how.memory_limit = false;     // run-time: declared below
  how.prune_space = true;
  how.proxy_help = "the score to maximise";
  how.alpha_help = "ZeroLM alpha: a number, or heuristic (data-free)";
  g = add_scoring_options(cmd, c, how);
  g["strategy"] =
      cmd->add_option("--strategy", c.strategy, "strategy: " + join_list(strategy_names()))
          ->capture_default_str();
  g["seed"] = add_seed_option(cmd, c.seed, "run seed: candidates and weights");
  g["population"] = cmd->add_option("--population", c.population, "evolution: population size P")
                        ->capture_default_str()
                        ->check(whole_number(INT_MIN, INT_MAX));
  // --tournament: --sample counts architectures to draw in score and finetune.
  g["sample"] = cmd->add_option("--tournament", c.sample, "evolution: tournament size S")
                    ->capture_default_str()
                    ->check(whole_number(INT_MIN, INT_MAX));
  g["sample_old_name"] = add_deprecated_option(
      cmd, "--sample", "--tournament",
      cmd->add_option("--sample", c.sample)->check(whole_number(INT_MIN, INT_MAX)));
  g["generation"] =
      cmd->add_option("--generation", c.generation,
                      "candidates proposed per generation (independent of the rank count)")
          ->capture_default_str()
          ->check(whole_number(INT_MIN, INT_MAX));
  add_param_range_options(cmd, c.min_params, c.max_params, "", &g);
  g["top_k"] = cmd->add_option("--top-k", c.top_k, "rows of top.csv")
                   ->capture_default_str()
                   ->check(whole_number(INT_MIN, INT_MAX));
  g["seed_archs"] = cmd->add_option(
      "--seed-file", c.seed_file,
      "architectures to evaluate first (one encoding per line, or a CSV with arch_encoding)");
  g["evaluations"] =
      cmd->add_option("--evaluations", c.evaluations,
                      "evaluation budget, all evaluations of the run counted (may grow on "
                      "--resume)")
          ->capture_default_str()
          ->check(whole_number(1));
  g["device"] = add_device_option(cmd, c.device);
  // --torch-threads: not --threads, which in score, bench and finetune counts architectures
  // handled at once; the old spelling is still accepted (hidden).
  g["threads"] = cmd->add_option("--torch-threads", c.threads, "LibTorch threads per rank")
                     ->capture_default_str()
                     ->check(whole_number(1, 1024));
  g["threads_old_name"] =
      add_deprecated_option(cmd, "--threads", "--torch-threads",
                            cmd->add_option("--threads", c.threads)->check(whole_number(1, 1024)));
  g["memory_limit_mb"] = add_memory_limit_option(cmd, c.memory_limit_mb);
  // --state-every: --checkpoint names a Hugging Face checkpoint, not the search's state.
  g["checkpoint_every"] = cmd->add_option("--state-every", c.checkpoint_every,
                                          "seconds between saves of the search state "
                                          "(checkpoint.bin, what --resume continues from)")
                              ->capture_default_str()
                              ->check(finite_number(0, false));
  g["checkpoint_every_old_name"] = add_deprecated_option(
      cmd, "--checkpoint-every", "--state-every",
      cmd->add_option("--checkpoint-every", c.checkpoint_every)->check(finite_number(0, false)));
  g["progress_every"] =
      cmd->add_option("--progress-every", c.progress_every, "seconds between progress lines")
          ->capture_default_str()
          ->check(finite_number(0, false));
  add_objective_options(cmd, c.objectives, c.constraints,
                        "two or more: the Pareto front (default strategy nsga2)", &g);

  g["latency_batch"] =
      cmd->add_option("--latency-batch", c.latency_batch, "latency/memory: sequences per pass")
          ->capture_default_str()
          ->check(whole_number(INT_MIN, INT_MAX));
  g["latency_seq"] =
      cmd->add_option("--latency-seq", c.latency_seq, "latency/memory: tokens per sequence")
          ->capture_default_str()
          ->check(whole_number(INT_MIN, INT_MAX));
  g["latency_repeats"] =
      cmd->add_option("--latency-repeats", c.latency_repeats,
                      "latency: timed passes after one warm-up (the median counts)")
          ->capture_default_str()
          ->check(whole_number(INT_MIN, INT_MAX));
  g["precision"] = add_precision_option(cmd, c.precision, "latency/memory", false);
  g["checkpoint"] = cmd->add_option(
      "--checkpoint", c.checkpoint,
      "with --space prune: the Hugging Face checkpoint (config.json + safetensors) whose "
      "sub-networks are searched");
  g["prune_uniform"] = cmd->add_flag(
      "--prune-uniform", c.prune_uniform,
      "with --space prune: every kept layer keeps the same counts (layers may be dropped), so an "
      "exported sub-network is a standard LlamaConfig / GPT2Config model that stock "
      "transformers loads");
  g["importance"] = cmd->add_option("--importance", c.importance,
                                    "with --space prune: which channels and key/value groups a "
                                    "kept count keeps: norm (largest weight norm first, data-free) "
                                    "or activation (what each adds to the residual stream over "
                                    "--calibration text, as LLM-Pruner/Wanda/Minitron)")
                        ->capture_default_str();
  g["calibration"] = cmd->add_option(
      "--calibration", c.calibration,
      "with --importance activation: a text file, tokenized by the checkpoint's own tokenizer; "
      "its first 32 sequences of 128 tokens are run through the model");
  g["latency_table"] = cmd->add_option(
      "--latency-table", c.latency_table,
      "earlier measurements to reuse (CSV: encoding, device, latency_ms, memory_bytes; e.g. an "
      "earlier run's evaluations.csv)");
  cli->finetune.top_k = 0;
  cmd->add_option("--finetune-top-k", cli->finetune.top_k,
                  "after the search: train the top K briefly (zerolm finetune) on --corpus")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--corpus", cli->finetune.corpus, "text corpus for --finetune-top-k");
  cmd->add_option("--finetune-steps", cli->finetune.train.steps,
                  "training steps for --finetune-top-k")
      ->capture_default_str();
  add_out_option(cmd, cli->out, "run directory (default: runs/search-<UTC time>)");
  cmd->add_option("--resume", cli->resume, "continue the run in this directory");
  cmd->add_flag("--force", cli->force, "start over in an existing run directory (deletes its run)");
  cmd->add_option("--stop-after", cli->stop_after,
                  "testing: rank 0 signals itself SIGTERM after N evaluations")
      ->group("")
      ->check(whole_number(0));
  return [cli, &log_level] {
    SearchJob job;
    job.dir = cli->resume.empty() ? (cli->out.empty() ? timestamp_dir() : cli->out) : cli->resume;
    job.resume = !cli->resume.empty();
    job.stop_after = cli->stop_after;
    job.resolve = [cli](RunDir& dir, RunLock& lock) { return resolve(*cli, dir, lock); };
    job.prepare = [](const SearchConfig& c) { open_checkpoint_space(c); };
    job.finetune = cli->finetune;
    return run_search_job(job, log::parse_level(log_level));
  };
}

}  // namespace zerolm
