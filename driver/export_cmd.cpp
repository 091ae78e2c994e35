// `zerolm export`: what a user takes to a training framework for one architecture, from a search
// run (by rank) or given by its encoding: a Hugging Face config.json where a standard class holds
// the model, else zerolm-arch.json and the reason (checkpoints/hf_config.h, docs/export.md).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "checkpoints/hf_config.h"
#include "checkpoints/prune_space.h"
#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/options.h"
#include "report/table.h"
#include "rundir/run_dir.h"
#include "spaces/family.h"
#include "spaces/rng.h"
#include "spaces/space.h"
#include "train/calibration.h"

namespace zerolm {

namespace {

namespace fs = std::filesystem;

struct ExportCli {
  std::string run;
  int rank = 0;
  std::string encoding;
  std::string space;
  std::string profile;
  std::string out;
  std::string checkpoint;  // --space prune with --encoding
  std::string importance = "norm";
  std::string calibration;
};

// The architecture to export, where it came from, and where its files go by default.
struct Chosen {
  std::string encoding;
  std::string origin;  // for errors: "RUN/top.csv:3", "--encoding"
  std::string space;
  std::string profile;
  std::string default_out;
  std::string checkpoint;  // space prune: the checkpoint whose sub-network this is
  // space prune: which channels and groups its counts keep (the run's, or --importance).
  std::string importance = "norm";
  std::string calibration;
};

// The row of rank `rank`: in RUN/pareto.csv (a multi-objective run) the row whose rank column says
// so, else the rank-th row of RUN/top.csv.
Chosen from_run(const ExportCli& cli) {
  const RunDir dir(cli.run);
  if (!dir.has_run())
    throw InputError("RUN " + cli.run + ": no search run there (config.json missing)");
  const SearchConfig config = dir.read_config();
  Chosen c;
  c.space = config.space;
  c.profile = config.profile;
  c.checkpoint = config.checkpoint;
  c.importance = config.importance;
  c.calibration = config.calibration;
  c.default_out = dir.file("export-rank-" + std::to_string(cli.rank));
  const bool pareto = fs::exists(dir.file("pareto.csv"));
  const std::string path = dir.file(pareto ? "pareto.csv" : "top.csv");
  if (!fs::exists(path))
    throw InputError(path + ": not found; the run has no results yet (expected top.csv)");
  const Csv csv = read_csv(path);
  const int enc = csv.column("encoding"), rank = csv.column("rank");
  if (enc < 0 || (pareto && rank < 0))
    throw InputError(path + ": expected columns " + (pareto ? "rank and encoding" : "encoding"));
  const std::string n = std::to_string(cli.rank);
  const std::string rows =
      std::to_string(csv.rows.size()) + " row" + (csv.rows.size() == 1 ? "" : "s");
  std::size_t row = csv.rows.size();
  if (pareto) {
    for (std::size_t i = 0; i < csv.rows.size() && row == csv.rows.size(); ++i)
      if (csv.rows[i].at(std::size_t(rank)) == n) row = i;
    if (row == csv.rows.size())
      throw InputError("--rank " + n + ": " + path + " has no row of rank " + n + " (" + rows +
                       ")");
  } else {
    if (std::size_t(cli.rank) > csv.rows.size())
      throw InputError("--rank " + n + ": " + path + " has " + rows +
                       ", expected a rank from 1 to " + std::to_string(csv.rows.size()));
    row = std::size_t(cli.rank) - 1;
  }
  c.encoding = csv.rows[row].at(std::size_t(enc));
  c.origin = path + ":" + std::to_string(csv.lines[row]);
  return c;
}

Chosen from_encoding(const ExportCli& cli) {
  Chosen c;
  c.encoding = cli.encoding;
  c.origin = "--encoding";
  c.profile = cli.profile.empty() ? "spec" : cli.profile;
  parse_profile(c.profile);  // names the profile when unknown
  const bool prune = cli.encoding.rfind("PRUNE|", 0) == 0 || cli.space == "prune";
  c.space =
      prune ? std::string("prune")
            : (cli.space.empty() ? infer_space("", {cli.encoding}) : find_space(cli.space)).name();
  // A short name for the folder: the family and a hash of the encoding (whose '|' and ':' make
  // poor file names).
  char hash[17];
  std::snprintf(hash, sizeof hash, "%08llx",
                static_cast<unsigned long long>(fnv1a(cli.encoding) & 0xffffffffULL));
  c.default_out = "export-" +
                  (prune ? std::string("prune") : family_of_encoding(cli.encoding).name()) + "-" +
                  hash;
  return c;
}

std::string millions(std::int64_t n) {
  char s[32];
  std::snprintf(s, sizeof s, n >= 1000000000 ? "%.2fB" : "%.2fM",
                n >= 1000000000 ? double(n) / 1e9 : double(n) / 1e6);
  return s;
}

// A sub-network of a checkpoint: the pruned checkpoint itself (the kept slices of the real
// weights, in their stored dtype, and config.json), read back to check its parameter count.
int export_subnetwork(const ExportCli& cli, const Chosen& c) {
  // The general space: it holds the uniform sub-networks too.
  const CheckpointSpace& space = use_checkpoint_space(
      c.checkpoint, prune_grid_options(c.checkpoint, false, c.importance, c.calibration));
  Arch arch;
  try {
    arch = space.parse(c.encoding);
  } catch (const InputError& e) {
    throw InputError(c.origin + ": " + e.what());
  }
  const PruneChoice choice = space.choice(arch);
  const std::string dir = cli.out.empty() ? c.default_out : cli.out;
  write_pruned_checkpoint(space.checkpoint(), space.prune().keep(choice), dir);
  copy_tokenizer_files(space.checkpoint().dir(), dir);
  const HfCheckpoint back = HfCheckpoint::open(dir);
  const std::int64_t ours = space.prune().params(choice);
  if (back.num_params() != ours)
    throw std::logic_error(dir + ": the written checkpoint holds " +
                           std::to_string(back.num_params()) + " parameters, expected " +
                           std::to_string(ours));
  std::cout << c.encoding << "  (sub-network of " << c.checkpoint << ")\n";
  std::cout << "wrote " << dir << " (config.json, "
            << (back.sharded() ? "sharded safetensors" : "model.safetensors") << ")\n";
  std::cout << "parameters: " << ours << " (" << millions(ours) << ") of "
            << space.checkpoint().num_params() << "\n";
  if (!back.config().uniform())
    std::cerr << "zerolm: warning: " << dir
              << ": its layers keep different widths (config.json's zerolm_layers), which stock "
                 "transformers cannot load as "
              << back.config().architecture
              << " (zerolm finetune --checkpoint can); search with --prune-uniform for "
                 "sub-networks it loads\n";
  return 0;
}

int run_export(const ExportCli& cli, bool by_rank, bool by_encoding) {
  if (by_rank == by_encoding)
    throw InputError(by_rank ? "--rank and --encoding: expected one of them, not both"
                             : "export: expected RUN --rank N or --encoding E");
  if (by_rank) {
    if (cli.run.empty())
      throw InputError("--rank " + std::to_string(cli.rank) +
                       ": expected a search run directory RUN before it");
    if (cli.rank < 1)
      throw InputError("--rank " + std::to_string(cli.rank) + ": expected a rank of 1 or more");
    if (!cli.space.empty() || !cli.profile.empty() || !cli.checkpoint.empty())
      throw InputError(std::string(!cli.checkpoint.empty() ? "--checkpoint"
                                   : cli.space.empty()     ? "--profile"
                                                           : "--space") +
                       ": with --rank, the space, profile and checkpoint are the run's "
                       "(RUN/config.json)");
  } else if (!cli.run.empty()) {
    throw InputError("RUN " + cli.run + ": with --encoding, expected no run directory");
  }
  Chosen c = by_rank ? from_run(cli) : from_encoding(cli);
  if (c.space == "prune") {
    if (!by_rank) {
      if (cli.checkpoint.empty())
        throw InputError("--encoding " + cli.encoding +
                         ": a PRUNE encoding is a sub-network of a checkpoint; give it with "
                         "--checkpoint DIR");
      c.checkpoint = cli.checkpoint;
      c.importance = cli.importance;
      c.calibration = cli.calibration;
    } else if (cli.importance != "norm" || !cli.calibration.empty()) {
      throw InputError("--importance/--calibration: with --rank, the run's (RUN/config.json)");
    }
    return export_subnetwork(cli, c);
  }
  if (!cli.checkpoint.empty())
    throw InputError("--checkpoint " + cli.checkpoint +
                     ": only with --encoding PRUNE|... (a sub-network of that checkpoint)");
  if (cli.importance != "norm" || !cli.calibration.empty())
    throw InputError("--importance/--calibration: only with --encoding PRUNE|... and --checkpoint");
  Arch arch;
  try {
    arch = find_space(c.space).parse(c.encoding);
  } catch (const InputError& e) {
    throw InputError(c.origin + ": " + e.what());
  }
  const ArchExport e = export_architecture(arch, c.space, parse_profile(c.profile));

  // Everything is known: only now is anything written.
  const std::string dir = cli.out.empty() ? c.default_out : cli.out;
  std::error_code ec;
  // An occupied folder (a Hugging Face checkpoint, an earlier export) is refused, as for a
  // checkpoint's sub-network: an export never overwrites or deletes a file it did not write.
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    throw InputError((cli.out.empty() ? "" : "--out ") + dir + ": " +
                     (fs::is_directory(dir, ec) ? "not empty" : "not a folder") +
                     " (expected a new or empty folder; choose another with --out)");
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create the directory (" + ec.message() + ")");
  const std::string path = (fs::path(dir) / e.file).string();
  write_file_atomic(path, e.json.dump(2) + "\n");

  std::cout << encode(arch) << "  (space " << c.space << ", profile " << c.profile << ")\n";
  if (e.hf_class.empty()) std::cout << "no standard Hugging Face config: " << e.reason << "\n";
  std::cout << "wrote " << path
            << (e.hf_class.empty() ? " (per-layer description)"
                                   : " (" + e.hf_class + ", " +
                                         e.json.at("architectures").at(0).get<std::string>() + ")")
            << "\n";
  std::cout << "parameters: " << e.params << " (" << millions(e.params) << ")\n";
  return 0;
}

}  // namespace

Runner add_export_command(CLI::App& app) {
  auto cli = std::make_shared<ExportCli>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write an architecture for a training framework: a Hugging Face config.json where "
      "GPT2Config, "
      "LlamaConfig or ElectraConfig holds it, else zerolm-arch.json (per layer) and why");
  cmd->add_option("RUN", cli->run, "search run directory (with --rank)");
  CLI::Option* rank = cmd->add_option(
      "--rank", cli->rank,
      "the architecture of this rank: RUN/pareto.csv's rank column, else RUN/top.csv's N-th row");
  CLI::Option* encoding =
      cmd->add_option("--encoding", cli->encoding, "instead: the architecture's encoding");
  cmd->add_option("--space", cli->space,
                  "with --encoding: its space (default: the family's that holds it)");
  cmd->add_option("--profile", cli->profile, "with --encoding: spec (default), trained or compat");
  cmd->add_option("--checkpoint", cli->checkpoint,
                  "with --encoding PRUNE|...: the checkpoint it is a sub-network of");
  cmd->add_option("--importance", cli->importance,
                  "with --encoding PRUNE|...: which channels and groups its counts keep (norm or "
                  "activation, as the search that found it)")
      ->capture_default_str();
  cmd->add_option("--calibration", cli->calibration,
                  "with --importance activation: the search's calibration text");
  add_out_option(cmd, cli->out,
                 "directory for the file (default: RUN/export-rank-N, or "
                 "./export-<family>-<hash> with --encoding)");
  return
      [cli, rank, encoding] { return run_export(*cli, rank->count() > 0, encoding->count() > 0); };
}

}  // namespace zerolm
