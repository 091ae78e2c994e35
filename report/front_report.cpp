#include "report/front_report.h"

#include <algorithm>
#include <cstdio>

#include "report/plot.h"
#include "rundir/csv.h"

namespace zerolm {

namespace {

std::string exact(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

std::string front_csv(const SearchConfig& config, const Front& f) {
  const auto obj = config.objective_list();
  bool params_is_objective = false;
  std::string s = "rank,index,encoding";
  for (const auto& o : obj) {
    s += "," + quantity_column(o.name);
    params_is_objective = params_is_objective || o.name == "params";
  }
  if (!params_is_objective) s += ",params";
  s += ",device\n";
  for (std::size_t i = 0; i < f.rows.size(); ++i) {
    const Record& r = f.rows[i];
    s += std::to_string(i + 1) + "," + std::to_string(r.index) + "," + r.encoding;
    for (std::size_t k = 0; k < obj.size(); ++k)
      s += "," + (obj[k].name == "params" ? std::to_string(r.params) : exact(f.values[i][k]));
    if (!params_is_objective) s += "," + std::to_string(r.params);
    s += "," + csv_escape(r.device) + "\n";
  }
  return s;
}

void plot_front(const std::string& png, const SearchConfig& config,
                const std::vector<Record>& records, const Front& f) {
  const auto obj = config.objective_list();
  const std::size_t q = quality_objective(config);
  std::string data = "# every feasible evaluation: objective values\n";
  std::size_t n = 0;
  for (const Record& r : records) {
    if (r.status != Status::Ok) continue;
    const auto v = objective_values(config, r);
    for (std::size_t k = 0; k < v.size(); ++k) data += (k ? " " : "") + exact(v[k]);
    data += "\n";
    ++n;
  }
  data += "\n\n# the front\n";
  for (const auto& v : f.values) {
    for (std::size_t k = 0; k < v.size(); ++k) data += (k ? " " : "") + exact(v[k]);
    data += "\n";
  }
  std::vector<std::size_t> panels;
  for (std::size_t k = 0; k < obj.size(); ++k)
    if (k != q) panels.push_back(k);
  auto label = [](const std::string& name) {
    if (name == "latency") return std::string("latency (ms)");
    if (name == "memory") return std::string("peak memory (MiB)");
    if (name == "params") return std::string("parameters (M)");
    if (name == "flops") return std::string("forward GFLOPs per token");
    return name;
  };
  auto column = [&](std::size_t k) {
    const std::string c = "$" + std::to_string(k + 1);
    if (obj[k].name == "memory") return "(" + c + "/1048576)";
    if (obj[k].name == "params") return "(" + c + "/1e6)";
    if (obj[k].name == "flops") return "(" + c + "/1e9)";
    return "(" + c + ")";
  };
  std::string cmd = "set multiplot layout 1," + std::to_string(panels.size()) + " title '" +
                    config.space + ": " + std::to_string(n) + " evaluated, " +
                    std::to_string(f.rows.size()) + " on the front' noenhanced\n";
  cmd += "set grid\nset key bottom right noenhanced\n";
  for (std::size_t k : panels) {
    cmd += "set xlabel '" + label(obj[k].name) + "' noenhanced\nset ylabel '" + label(obj[q].name) +
           "' noenhanced\n";
    cmd += "plot '" + png + ".dat' index 0 using " + column(k) + ":" + column(q) +
           " with points pt 7 ps 0.3 lc rgb '#9aa5b1' title 'evaluated', '' index 1 using " +
           column(k) + ":" + column(q) +
           " with points pt 7 ps 0.9 lc rgb '#c0392b' title 'front'\n";
  }
  cmd += "unset multiplot\n";
  const std::string size = std::to_string(std::max<std::size_t>(1, panels.size()) * 560) + ",520";
  gnuplot_png(png, data, cmd, size);
}

}  // namespace zerolm
