// zerolm pareto RUN [RUN...]: the front of a multi-objective search run (finished or running:
// it reads evaluations.csv), or the best architecture within budgets; with several runs of the
// same objectives, their fronts' hypervolumes against one common ideal and reference point, as
// strategies are compared.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "driver/commands.h"
#include "driver/inputs.h"
#include "driver/options.h"
#include "report/table.h"
#include "rundir/front.h"
#include "rundir/run_dir.h"

namespace zerolm {

namespace {

struct ParetoCli {
  std::vector<std::string> runs;
  std::vector<std::string> objectives;  // read the runs with these (e.g. a single-objective run)
  std::vector<std::string> constraints;
  std::string format = "table";
};

struct Loaded {
  std::string path;
  SearchConfig config;
  std::vector<Record> records;
};

Loaded load(const std::string& path) {
  RunDir dir(path);
  if (!std::filesystem::is_directory(path)) throw InputError(path + ": no such run directory");
  if (!dir.has_run())
    throw InputError(path +
                     ": not a search run (no config.json); expected the --out directory of "
                     "zerolm search");
  Loaded l{path, dir.read_config(), {}};
  for (auto& [index, r] : dir.read_log()) l.records.push_back(std::move(r));
  return l;
}

std::string exact(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

std::string fixed(double v, int digits) {
  char b[40];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

int run_pareto(const ParetoCli& cli) {
  const Format format = parse_format(cli.format);
  std::vector<Constraint> budgets;
  for (const auto& c : cli.constraints) budgets.push_back(parse_constraint(c));
  std::vector<Loaded> runs;
  for (const auto& p : cli.runs) runs.push_back(load(p));
  if (!cli.objectives.empty()) {
    // Any quantity a run recorded may be an objective: its proxy, params, its other columns.
    const auto wanted = parse_objectives(cli.objectives);
    for (Loaded& l : runs) {
      for (const auto& o : wanted) {
        bool recorded = o.name == l.config.proxy || o.name == "params";
        for (const auto& n : l.config.value_names()) recorded = recorded || n == o.name;
        if (!recorded)
          throw InputError("--objective " + o.text() + ": run " + l.path + " did not record " +
                           o.name + " (it recorded " + l.config.proxy + ", params" +
                           [&] {
                             std::string t;
                             for (const auto& n : l.config.value_names()) t += ", " + n;
                             return t;
                           }() +
                           ")");
      }
      // The run's own measured budgets stay what decides feasibility (its over-budget records);
      // the recorded values move to the columns the new objectives give them.
      const auto before = l.config.value_names();
      l.config.objectives.clear();
      for (const auto& o : wanted) l.config.objectives.push_back(o.text());
      const auto after = l.config.value_names();
      for (Record& r : l.records) {
        std::vector<double> v;
        for (const auto& n : after) {
          const auto at = std::size_t(std::find(before.begin(), before.end(), n) - before.begin());
          v.push_back(at < r.values.size() ? r.values[at] : std::nan(""));
        }
        r.values = std::move(v);
      }
    }
  }
  const SearchConfig& c = runs[0].config;
  const auto obj = c.objective_list();
  for (const Constraint& b : budgets) {
    bool known = b.name == "params";
    for (const auto& n : c.value_names()) known = known || n == b.name;
    for (const auto& o : obj) known = known || o.name == b.name;
    if (!known)
      throw InputError("--constraint " + b.text() + ": run " + runs[0].path + " did not record " +
                       b.name + " (its objectives: " +
                       [&] {
                         std::string t;
                         for (const auto& o : obj) t += (t.empty() ? "" : ", ") + o.name;
                         return t;
                       }() +
                       ")");
  }

  if (runs.size() > 1) {
    for (const Loaded& l : runs)
      if (l.config.objectives != c.objectives || l.config.space != c.space)
        throw InputError(l.path + ": other objectives or space than " + runs[0].path +
                         "; hypervolumes compare runs of the same objectives and space");
    // One ideal and reference point for all: those of the union of their evaluations.
    std::vector<Record> all;
    for (const Loaded& l : runs) all.insert(all.end(), l.records.begin(), l.records.end());
    const Front u = compute_front(c, all, budgets);
    TextTable t{{"run", "strategy", "evaluations", "feasible", "front", "hypervolume"}, {}};
    for (const Loaded& l : runs) {
      const Front f = compute_front(l.config, l.records, budgets, &u.ideal, &u.reference);
      std::size_t ok = 0;
      for (const Record& r : l.records) ok += r.status == Status::Ok;
      t.rows.push_back({l.path, l.config.strategy, std::to_string(l.records.size()),
                        std::to_string(ok), std::to_string(f.rows.size()),
                        fixed(f.hypervolume, 4)});
    }
    std::cout << t.render(format);
    if (format == Format::Table) {
      std::string ref;
      for (std::size_t k = 0; k < obj.size(); ++k)
        ref += (k ? ", " : "") + obj[k].name + " " + format_quantity(obj[k].name, u.ideal[k]) +
               " .. " + format_quantity(obj[k].name, u.reference[k]);
      std::cout << "hypervolume: fraction of the box from the ideal to the reference point of "
                   "all runs' feasible evaluations (" +
                       ref + ")\n";
    }
    return 0;
  }

  const Loaded& l = runs[0];
  const Front f = compute_front(c, l.records, budgets);
  if (f.rows.empty())
    throw InputError(l.path + ": no evaluated architecture " +
                     (budgets.empty() ? std::string("succeeded yet") : "meets the budget"));
  TextTable t{{"rank"}, {}};
  bool params_is_objective = false;
  for (const auto& o : obj) {
    t.columns.push_back(quantity_column(o.name));
    params_is_objective = params_is_objective || o.name == "params";
  }
  if (!params_is_objective) t.columns.push_back("params");
  t.columns.push_back("encoding");
  const bool people = format == Format::Table || format == Format::Markdown;
  auto row_of = [&](std::size_t i) {
    std::vector<std::string> row{std::to_string(i + 1)};
    for (std::size_t k = 0; k < obj.size(); ++k)
      row.push_back(people ? format_quantity(obj[k].name, f.values[i][k]) : exact(f.values[i][k]));
    if (!params_is_objective) row.push_back(std::to_string(f.rows[i].params));
    row.push_back(f.rows[i].encoding);
    return row;
  };
  if (!budgets.empty()) {
    // The best model the budget affords: the front member best on the quality objective.
    const std::size_t q = quality_objective(c);
    std::size_t best = 0;
    for (std::size_t i = 1; i < f.rows.size(); ++i) {
      const double a = f.values[i][q], b = f.values[best][q];
      if (obj[q].maximize ? a > b : a < b) best = i;
    }
    t.rows.push_back(row_of(best));
    if (format == Format::Table) {
      std::string within;
      for (const auto& b : budgets) within += (within.empty() ? "" : ", ") + b.text();
      std::cout << "best " << obj[q].name << " within " << within << " (" << f.rows.size()
                << " of the front meet it; rank = position along the front):\n";
    }
    std::cout << t.render(format);
    return 0;
  }
  for (std::size_t i = 0; i < f.rows.size(); ++i) t.rows.push_back(row_of(i));
  std::cout << t.render(format);
  if (format == Format::Table)
    std::cout << f.rows.size() << " architectures on the front of " << l.records.size()
              << " evaluations; hypervolume " << fixed(f.hypervolume, 4) << "\n";
  return 0;
}

}  // namespace

Runner add_pareto_command(CLI::App& app) {
  auto cli = std::make_shared<ParetoCli>();
  CLI::App* cmd = app.add_subcommand(
      "pareto",
      "The quality/cost front of a search run (finished or running), the best architecture "
      "within a budget, or several runs' hypervolumes");
  cmd->add_option("run", cli->runs, "search run directory (several: compare hypervolumes)")
      ->required();
  add_objective_options(cmd, cli->objectives, cli->constraints,
                        "read the runs with these objectives (default: each run's own), e.g. to "
                        "compare a single-objective run's front");
  add_format_option(cmd, cli->format);
  return [cli] { return run_pareto(*cli); };
}

}  // namespace zerolm
