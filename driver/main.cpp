// The zerolm executable: subcommand dispatch and the one place errors become exit codes.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "driver/commands.h"
#include "driver/log.h"
#include "spaces/arch.h"

namespace {

// The rank a launcher gave this process, before MPI is initialised (0 when not launched by one).
int launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace zerolm;
  CLI::App app{"zerolm: data-free Transformer architecture search with the ZeroLM proxy"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level may also follow the subcommand
  std::string level = "info";
  app.add_option("--log-level", level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  std::vector<std::pair<CLI::App*, Runner>> commands;
  auto add = [&](Runner r) { commands.emplace_back(app.get_subcommands({}).back(), std::move(r)); };
  add(add_search_command(app, level));
  add(add_score_command(app));
  add(add_bench_command(app));
  add(add_finetune_command(app, level));
  add(add_list_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Under mpirun/srun every rank parses the same line: one of them says what is wrong.
    if (launcher_rank() == 0)
      std::cerr << "zerolm: error: " << e.what() << " (see zerolm --help)\n";
    return 2;
  }
  try {
    log::init(log::parse_level(level));
    for (auto& [cmd, run] : commands)
      if (cmd->parsed()) return run();
    return 2;
  } catch (const InputError& e) {
    std::cerr << "zerolm: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "zerolm: error: " << e.what() << "\n";
    return 1;
  }
}
