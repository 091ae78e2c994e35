#include "rundir/objectives.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "proxy/proxy.h"
#include "spaces/errors.h"

namespace zerolm {

Quantity quantity_of(const std::string& name) {
  if (name == "params") return Quantity::Params;
  if (name == "flops") return Quantity::Flops;
  if (name == "latency") return Quantity::Latency;
  if (name == "memory") return Quantity::Memory;
  return Quantity::Proxy;
}

bool is_cost(const std::string& name) {
  return quantity_of(name) != Quantity::Proxy;
}

bool is_measured(const std::string& name) {
  const Quantity q = quantity_of(name);
  return q == Quantity::Latency || q == Quantity::Memory;
}

std::string quantity_column(const std::string& name) {
  if (name == "latency") return "latency_ms";
  if (name == "memory") return "memory_bytes";
  return name;
}

namespace {

bool is_proxy_name(const std::string& name) {
  for (const std::string& n : proxies().names())
    if (n == name) return true;
  return false;
}

std::string fmt(const char* f, double v) {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string with_suffix(double v, const char* unit) {
  const double a = std::fabs(v);
  if (a >= 1e12) return fmt("%.3gT", v / 1e12) + unit;
  if (a >= 1e9) return fmt("%.4gG", v / 1e9) + unit;
  if (a >= 1e6) return fmt("%.4gM", v / 1e6) + unit;
  if (a >= 1e3) return fmt("%.4gK", v / 1e3) + unit;
  return fmt("%.4g", v) + unit;
}

}  // namespace

std::string format_quantity(const std::string& name, double v) {
  switch (quantity_of(name)) {
    case Quantity::Latency:
      return v < 1 ? fmt("%.3g ms", v) : fmt("%.4g ms", v);
    case Quantity::Memory: {
      const double a = std::fabs(v);
      if (a >= 1024.0 * 1024 * 1024) return fmt("%.3f GiB", v / (1024.0 * 1024 * 1024));
      if (a >= 1024.0 * 1024) return fmt("%.1f MiB", v / (1024.0 * 1024));
      return fmt("%.0f B", v);
    }
    case Quantity::Params:
      return with_suffix(v, "");
    case Quantity::Flops:
      return with_suffix(v, "FLOP");
    case Quantity::Proxy:
      break;
  }
  return fmt("%.6g", v);
}

SearchObjective parse_objective(const std::string& spec) {
  SearchObjective o;
  std::string name = spec, sense;
  const auto colon = spec.find(':');
  if (colon != std::string::npos) {
    name = spec.substr(0, colon);
    sense = spec.substr(colon + 1);
  }
  if (name.empty())
    throw InputError("--objective \"" + spec + "\": expected NAME[:max|:min], NAME a proxy (" +
                     join_list(proxies().names()) + ") or a cost (params, flops, latency, memory)");
  if (!is_cost(name) && !is_proxy_name(name))
    throw InputError("--objective " + spec + ": unknown objective \"" + name +
                     "\"; expected a proxy (" + join_list(proxies().names()) +
                     ") or a cost (params, flops, latency, memory)");
  o.name = name;
  o.maximize = !is_cost(name);
  if (sense == "max")
    o.maximize = true;
  else if (sense == "min")
    o.maximize = false;
  else if (colon != std::string::npos)
    throw InputError("--objective " + spec + ": unknown sense \"" + sense +
                     "\"; expected max or min");
  return o;
}

std::vector<SearchObjective> parse_objectives(const std::vector<std::string>& specs) {
  std::vector<SearchObjective> out;
  std::set<std::string> seen;
  for (const std::string& s : specs) {
    SearchObjective o = parse_objective(s);
    if (!seen.insert(o.name).second)
      throw InputError("--objective " + s + ": " + o.name +
                       " is already an objective; expected each quantity once");
    out.push_back(std::move(o));
  }
  return out;
}

std::string Constraint::text() const {
  std::string v;
  switch (quantity_of(name)) {
    case Quantity::Latency:
      v = fmt("%.17g", value) + "ms";
      break;
    case Quantity::Memory:
      v = fmt("%.17g", value) + "B";
      break;
    default:
      v = fmt("%.17g", value);
  }
  return name + op + v;
}

bool Constraint::allows(double v) const {
  if (op == "<=") return v <= value;
  if (op == "<") return v < value;
  if (op == ">=") return v >= value;
  return v > value;
}

std::string Constraint::violation(double v) const {
  const char* opposite = op == "<=" ? ">" : op == "<" ? ">=" : op == ">=" ? "<" : "<=";
  return name + " " + format_quantity(name, v) + " " + opposite + " budget " +
         format_quantity(name, value);
}

Constraint parse_constraint(const std::string& spec) {
  std::string s;
  for (char ch : spec)
    if (ch != ' ') s += ch;
  const std::size_t at = s.find_first_of("<>");
  auto bad = [&](const std::string& why) {
    return InputError("--constraint '" + spec + "': " + why);
  };
  if (at == std::string::npos || at == 0)
    throw bad(
        "expected NAME<=VALUE (or <, >=, >), e.g. 'latency<=12ms', 'params<=125M', "
        "'memory<=2GiB'");
  Constraint c;
  c.name = s.substr(0, at);
  if (!is_cost(c.name))
    throw bad("unknown budget \"" + c.name + "\"; expected params, flops, latency or memory");
  std::size_t p = at + 1;
  c.op = s.substr(at, 1);
  if (p < s.size() && s[p] == '=') {
    c.op += "=";
    ++p;
  }
  const std::string rest = s.substr(p);
  double number = 0;
  std::size_t used = 0;
  try {
    number = std::stod(rest, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || !std::isfinite(number))
    throw bad("\"" + rest + "\" is not a number with a unit");
  const std::string unit = rest.substr(used);
  double scale = 0;
  const Quantity q = quantity_of(c.name);
  if (q == Quantity::Latency) {
    if (unit == "us")
      scale = 1e-3;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1e3;
    else
      throw bad(unit.empty() ? "latency needs a unit: us, ms or s"
                             : "unknown unit \"" + unit + "\"; expected us, ms or s");
  } else if (q == Quantity::Memory) {
    static const std::pair<const char*, double> units[] = {
        {"B", 1},        {"KB", 1e3},
        {"MB", 1e6},     {"GB", 1e9},
        {"KiB", 1024.0}, {"MiB", 1024.0 * 1024},
        {"TB", 1e12},    {"GiB", 1024.0 * 1024 * 1024}};
    for (const auto& [u, f] : units)
      if (unit == u) scale = f;
    if (scale == 0)
      throw bad(unit.empty()
                    ? "memory needs a unit: B, KB, MB, GB, KiB, MiB or GiB"
                    : "unknown unit \"" + unit + "\"; expected B, KB, MB, GB, KiB, MiB or GiB");
  } else {
    if (unit.empty())
      scale = 1;
    else if (unit == "K" || unit == "k")
      scale = 1e3;
    else if (unit == "M")
      scale = 1e6;
    else if (unit == "G" || (unit == "B" && q == Quantity::Params))
      scale = 1e9;
    else if (unit == "T")
      scale = 1e12;
    else
      throw bad("unknown suffix \"" + unit + "\"; expected none, K, M, G" +
                (q == Quantity::Params ? std::string(", B") : std::string()) + " or T");
  }
  c.value = number * scale;
  if (c.value <= 0 && c.upper())
    throw bad("a budget of " + format_quantity(c.name, c.value) + " admits nothing; expected > 0");
  if (c.value < 0) throw bad("expected a value >= 0");
  return c;
}

}  // namespace zerolm
