// The subcommands of the zerolm executable; each adds its options and returns its runner.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace zerolm {

using Runner = std::function<int()>;

Runner add_score_command(CLI::App& app);
Runner add_list_command(CLI::App& app);
Runner add_pareto_command(CLI::App& app);
Runner add_export_command(CLI::App& app);
Runner add_checkpoint_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);
Runner add_finetune_command(CLI::App& app, const std::string& log_level);
// `log_level` is read when the runner runs (after parsing).
Runner add_search_command(CLI::App& app, const std::string& log_level);

}  // namespace zerolm
