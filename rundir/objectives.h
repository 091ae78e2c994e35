// What a multi-objective search optimises and the budgets it respects: objectives
// (`--objective NAME[:max|:min]`) are proxies or costs, budgets (`--constraint 'latency<=12ms'`)
// bound costs. LibTorch-free: parsing, units and the columns each quantity takes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zerolm {

// The costs: params (backbone parameter count under the profile, the `params` proxy), flops
// (forward FLOPs per token at sequence length 128, the `flops` proxy), latency (ms, measured) and
// memory (bytes, measured). Any other name is a proxy.
enum class Quantity { Proxy, Params, Flops, Latency, Memory };

Quantity quantity_of(const std::string& name);
bool is_cost(const std::string& name);
bool is_measured(const std::string& name);  // latency, memory: taken on the worker's device
// The column of evaluations.csv and pareto.csv holding it: latency_ms, memory_bytes, else NAME.
std::string quantity_column(const std::string& name);
// A value for people: "12.3 ms", "1.50 GiB", "124.4M" (params), "2.1 GFLOP" (flops), else the
// number.
std::string format_quantity(const std::string& name, double value);

struct SearchObjective {
  std::string name;
  bool maximize = true;
  std::string text() const { return name + (maximize ? ":max" : ":min"); }
};

// "NAME[:max|:min]": proxies are maximised by default, costs minimised. Throws InputError for an
// unknown name or sense (naming the input and what was expected).
SearchObjective parse_objective(const std::string& spec);
// Every spec parsed; two objectives on the same quantity are refused.
std::vector<SearchObjective> parse_objectives(const std::vector<std::string>& specs);

struct Constraint {
  std::string name;          // a cost
  std::string op;            // <=, <, >=, >
  double value = 0;          // in the quantity's base unit (ms, bytes, count, FLOPs)
  std::string text() const;  // canonical, e.g. "latency<=12ms"
  bool allows(double v) const;
  // Why `v` is outside: "latency 14.2 ms > budget 12 ms".
  std::string violation(double v) const;
  bool upper() const { return op[0] == '<'; }
};

// "latency<=12ms", "params<=125M", "memory<=2GiB", "flops<=1.5G". Units: latency us, ms, s
// (required); memory B, KB, MB, GB, KiB, MiB, GiB (required); params and flops a plain number
// or with K, M, G (or B for params), T suffixes. Throws InputError naming the budget.
Constraint parse_constraint(const std::string& spec);

}  // namespace zerolm
