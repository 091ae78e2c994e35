// The zerolm executable: subcommand dispatch and the one place errors become exit codes.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "driver/commands.h"
#include "driver/options.h"
#include "rundir/log.h"
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

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The name among `names` closest to `word`, if close enough to be a slip of the keyboard (at most
// a third of its letters off) or a prefix of exactly one name; else "".
std::string closest(const std::string& word, const std::vector<std::string>& names) {
  std::string best, only_prefix;
  std::size_t best_d = std::max<std::size_t>(1, word.size() / 3) + 1, prefixed = 0;
  for (const std::string& n : names) {
    const std::size_t d = edit_distance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
    if (n.rfind(word, 0) == 0) {
      ++prefixed;
      only_prefix = n;
    }
  }
  return best.empty() && prefixed == 1 ? only_prefix : best;
}

// What a parse error adds for the user: the option or command meant, and where the help is.
std::string parse_hint(const CLI::App& app, const CLI::App* cmd, int argc, char** argv) {
  if (!cmd) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      names.push_back(sub->get_name());
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--log-level") ++i;  // its value is no command
      if (a.empty() || a[0] == '-') continue;
      if (std::find(names.begin(), names.end(), a) != names.end()) break;
      const std::string guess = closest(a, names);
      return "unknown command \"" + a + "\"" +
             (guess.empty() ? "" : "; did you mean " + guess + "?") + " Commands: " + list +
             "; see zerolm --help";
    }
    return "";
  }
  std::vector<std::string> options;
  for (const CLI::Option* o : cmd->get_options())
    for (const std::string& n : o->get_lnames())
      if (!o->get_group().empty()) options.push_back("--" + n);
  std::string guess;
  for (int i = 1; i < argc && guess.empty(); ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    a = a.substr(0, a.find('='));
    if (std::find(options.begin(), options.end(), a) != options.end() || a == "--log-level" ||
        a == "--help")
      continue;
    const std::string g = closest(a, options);
    if (!g.empty()) guess = "did you mean " + g + "? ";
  }
  return " (" + guess + "see zerolm " + cmd->get_name() + " --help)";
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
    const CLI::App* cmd = nullptr;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->parsed()) cmd = sub;
    // An unknown command replaces CLI11's "A subcommand is required"; else the hint follows.
    const std::string hint = parse_hint(app, cmd, argc, argv);
    if (launcher_rank() == 0)
      print_error(!cmd && !hint.empty() ? hint
                  : hint.empty()        ? std::string(e.what()) + " (see zerolm --help)"
                                        : std::string(e.what()) + hint);
    else
      // mpiexec ends the whole job when the first rank exits non-zero: the others leave a
      // moment after rank 0, so that its line is written even on a loaded machine.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return kInputErrorExit;
  }
  try {
    log::init(log::parse_level(level));
    if (launcher_rank() == 0) warn_deprecated_options();
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
