// `zerolm score`: score architectures with proxies and print a table, CSV or JSON.
#include <memory>
#include <nlohmann/json.hpp>

#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/options.h"
#include "proxy/torch_runtime.h"
#include "report/table.h"
#include "rundir/log.h"

namespace zerolm {

namespace {

struct ScoreCli {
  ScoringCli scoring;
  std::vector<std::string> encodings;
  std::string input;
  std::string format = "table";
  std::string output = "-";
  int sample = 10;
};

std::string render_json(const Evaluator& ev, const std::vector<Evaluation>& evals) {
  nlohmann::json arr = nlohmann::json::array();
  const auto cols = ev.columns();
  for (const Evaluation& e : evals) {
    nlohmann::json o;
    o["encoding"] = e.encoding;
    const auto row = ev.row(e);
    for (std::size_t i = 0; i < cols.size(); ++i) o[cols[i]] = row[i];
    for (std::size_t p = 0; p < e.results.size(); ++p) {
      if (e.results[p].layers.empty()) continue;
      nlohmann::json layers = nlohmann::json::array();
      for (const LayerScore& l : e.results[p].layers)
        layers.push_back({{"attn", l.attn}, {"ffn", l.ffn}});
      o[ev.proxy_names()[p] + "_layers"] = layers;
    }
    arr.push_back(o);
  }
  return arr.dump(2) + "\n";
}

int run_score(ScoreCli& cli) {
  if (cli.scoring.proxies.empty()) cli.scoring.proxies = {"zerolm", "params"};
  // The default profile is the scoring configuration's, as in bench and search.
  const EvalOptions opt =
      to_eval_options(cli.scoring, cli.scoring.profiles.empty() ? cli.scoring.config.profile
                                                                : cli.scoring.profiles.back());
  const Format format = parse_format(cli.format);
  std::vector<ArchSource> sources;
  for (std::size_t i = 0; i < cli.encodings.size(); ++i)
    sources.push_back({cli.encodings[i], "argument " + std::to_string(i + 1)});
  if (!cli.input.empty()) {
    auto from_file = read_arch_file(cli.input);
    sources.insert(sources.end(), from_file.begin(), from_file.end());
  }
  // A named list, not a temporary: GCC 13 warns that the returned reference might dangle.
  std::vector<std::string> texts;
  for (const ArchSource& s : sources) texts.push_back(s.text);
  const Space& space = infer_space(cli.scoring.config.space, texts);
  std::vector<Arch> archs;
  if (sources.empty()) {
    log::info("no architectures given: scoring " + std::to_string(cli.sample) +
              " sampled uniformly from " + space.name() + " (seed " +
              std::to_string(cli.scoring.config.seed) + ")");
    Rng rng(derive_seed(cli.scoring.config.seed, fnv1a("score-sample")));
    for (int i = 0; i < cli.sample; ++i) archs.push_back(space.sample(rng));
  } else {
    archs = parse_archs(space, sources);
  }
  // --memory-limit: refused before any scoring, naming the model, rather than after an hour of
  // scoring the others (the same fp32 estimate that fails a search candidate).
  if (opt.memory_limit_mb > 0)
    for (std::size_t i = 0; i < archs.size(); ++i) {
      const double mib = weights_mib(make_plan(archs[i], opt.profile, false));
      if (mib > opt.memory_limit_mb)
        throw InputError((sources.empty() ? "sampled architecture " + std::to_string(i + 1)
                                          : sources[i].origin) +
                         ": " + quoted_input(encode(archs[i])) + " needs " + format_number(mib) +
                         " MiB of fp32 weights, over --memory-limit " +
                         format_number(opt.memory_limit_mb) + " MiB");
    }

  set_torch_threads(1);
  const auto evals = evaluate_all(archs, cli.scoring.proxies, opt, cli.scoring.threads);
  Evaluator columns_of(cli.scoring.proxies, opt);

  std::string text;
  if (format == Format::Json) {
    text = render_json(columns_of, evals);
  } else {
    TextTable t;
    t.columns = {"encoding"};
    for (const auto& c : columns_of.columns()) t.columns.push_back(c);
    for (const Evaluation& e : evals) {
      std::vector<std::string> r = {e.encoding};
      for (double v : columns_of.row(e)) r.push_back(format_number(v));
      t.rows.push_back(std::move(r));
    }
    text = t.render(format);
  }
  write_file_atomic(cli.output, text);
  return 0;
}

}  // namespace

Runner add_score_command(CLI::App& app) {
  auto cli = std::make_shared<ScoreCli>();
  CLI::App* cmd = app.add_subcommand("score", "Score architectures with zero-cost proxies");
  cmd->add_option("encodings", cli->encodings,
                  "architecture encodings, e.g. H256|SA-SDP-h4-ff512x1");
  cmd->add_option("--input", cli->input,
                  "file: a CSV with an arch_encoding column, or one encoding per line");
  add_scoring_options(cmd, cli->scoring, true);
  add_format_option(cmd, cli->format);
  add_out_option(cmd, cli->output, "output file (written atomically); - for stdout")
      ->capture_default_str();
  add_deprecated_option(cmd, "--output/-o", "--out", cmd->add_option("--output,-o", cli->output));
  cmd->add_option("--sample", cli->sample, "with no input: how many architectures to sample")
      ->capture_default_str()
      ->check(whole_number(1, 100000000));
  return [cli] { return run_score(*cli); };
}

}  // namespace zerolm
