// The zerolm executable: subcommand dispatch and the one place errors become exit codes.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "driver/commands.h"
#include "driver/log.h"
#include "spaces/errors.h"

namespace {

// The rank a launcher gave this process, before MPI is initialised (0 when not launched by one).
int launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 0;
}

// One "zerolm: error: ..." line in one write, so that lines of ranks failing at once never
// interleave; control characters are escaped and a huge message is cut.
void print_error(const std::string& msg) {
  const std::string line = "zerolm: error: " + zerolm::printable(msg) + "\n";
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
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
  add(add_pareto_command(app));
  add(add_list_command(app));
  add(add_export_command(app));
  add(add_checkpoint_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Under mpirun/srun every rank parses the same line: one of them says what is wrong.
    if (launcher_rank() == 0) print_error(std::string(e.what()) + " (see zerolm --help)");
    return kInputErrorExit;
  }
  try {
    log::init(log::parse_level(level));
    for (auto& [cmd, run] : commands)
      if (cmd->parsed()) return run();
    return kInputErrorExit;
  } catch (const InputError& e) {
    print_error(e.what());
    return kInputErrorExit;
  } catch (const IoError& e) {
    print_error(e.what());
    return kIoErrorExit;
  } catch (const std::exception& e) {
    print_error(e.what());
    return kFailureExit;
  }
}
