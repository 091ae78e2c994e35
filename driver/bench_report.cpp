#include "driver/bench_report.h"

#include <cstdio>

#include "driver/plot.h"

namespace zerolm {

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "nan";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string show(const Cell& c) {
  if (!std::isnan(c.sd)) return fixed(c.value) + " +- " + fixed(c.sd);
  if (!std::isnan(c.lo)) return fixed(c.value) + " [" + fixed(c.lo) + ", " + fixed(c.hi) + "]";
  return fixed(c.value);
}

BenchRow metric_row(const std::string& proxy, const std::string& source,
                    const std::vector<double>& x, const std::vector<double>& truth,
                    const std::vector<double>& params, int resamples, std::uint64_t seed) {
  BenchRow r;
  r.proxy = proxy;
  r.source = source;
  r.n = x.size();
  const Metrics m = compute_metrics(x, truth, params);
  r.kendall.value = m.kendall;
  r.spearman.value = m.spearman;
  r.pearson.value = m.pearson;
  r.pw10.value = m.pw10;
  if (resamples > 0) {
    const MetricIntervals iv = bootstrap(x, truth, params, resamples, seed);
    r.kendall.lo = iv.kendall.lo, r.kendall.hi = iv.kendall.hi;
    r.spearman.lo = iv.spearman.lo, r.spearman.hi = iv.spearman.hi;
    r.pearson.lo = iv.pearson.lo, r.pearson.hi = iv.pearson.hi;
    r.pw10.lo = iv.pw10.lo, r.pw10.hi = iv.pw10.hi;
  }
  return r;
}

BenchRow grouped_row(const std::string& proxy, const std::string& source,
                     const std::vector<double>& x, const std::vector<double>& truth,
                     const std::vector<double>& params, const std::vector<std::string>& keys) {
  BenchRow r;
  r.proxy = proxy;
  r.source = source;
  const Metrics m = grouped_metrics(x, truth, params, keys, &r.n);
  r.kendall.value = m.kendall;
  r.spearman.value = m.spearman;
  r.pearson.value = m.pearson;
  r.pw10.value = m.pw10;
  return r;
}

std::string render_report(const ReportContext& cli, const std::vector<ProfileResult>& results,
                          Format format, std::size_t rows_used) {
  std::string text;
  if (cli.sweep) {
    TextTable t{{"alpha", "kendall", "spearman", "pearson", "pw10_kendall", "profile"}, {}};
    for (std::size_t p = 0; p < results.size(); ++p)
      for (const auto& [a, m] : results[p].sweep)
        t.rows.push_back({fixed(a, 2), fixed(m.kendall, 4), fixed(m.spearman, 4),
                          fixed(m.pearson, 4), fixed(m.pw10, 4), cli.profiles[p]});
    return t.render(format);
  }
  if (format == Format::Csv || format == Format::Json) {
    TextTable t{{"proxy",           "kendall",         "spearman",
                 "pearson",         "pw10_kendall",    "kendall_lo",
                 "kendall_hi",      "spearman_lo",     "spearman_hi",
                 "pearson_lo",      "pearson_hi",      "pw10_kendall_lo",
                 "pw10_kendall_hi", "kendall_sd",      "spearman_sd",
                 "pearson_sd",      "pw10_kendall_sd", "n",
                 "source",          "profile",         "alpha"},
                {}};
    auto num = [](double v) { return std::isnan(v) ? std::string() : format_number(v); };
    for (const auto& pr : results)
      for (const BenchRow& r : pr.rows) {
        std::vector<std::string> cells = {r.proxy};
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pearson, &r.pw10})
          cells.push_back(num(c->value));
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pearson, &r.pw10}) {
          cells.push_back(num(c->lo));
          cells.push_back(num(c->hi));
        }
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pearson, &r.pw10})
          cells.push_back(num(c->sd));
        cells.insert(cells.end(), {std::to_string(r.n), r.source, r.profile, r.alpha});
        t.rows.push_back(cells);
      }
    return t.render(format);
  }
  for (std::size_t p = 0; p < results.size(); ++p) {
    std::string head = "profile " + cli.profiles[p] + ": " + std::to_string(rows_used) +
                       " architectures of " + cli.benchmark + ", truth " + cli.truth +
                       (cli.lower_is_better ? " (lower is better, negated)" : "") +
                       (cli.resamples > 0 && !cli.grouped ? "; [95% bootstrap interval]" : "") +
                       "\n";
    text += (format == Format::Markdown ? "\n**" + head.substr(0, head.size() - 1) + "**\n\n"
                                        : "\n" + head);
    TextTable t{{"proxy", "kendall", "spearman", "pearson", "pw10_kendall", "source", "alpha"}, {}};
    for (const BenchRow& r : results[p].rows)
      t.rows.push_back({r.proxy + (r.source == "published" ? " (published)" : ""), show(r.kendall),
                        show(r.spearman), show(r.pearson), show(r.pw10), r.source, r.alpha});
    text += t.render(format);
    for (const auto& note : results[p].notes)
      text += (format == Format::Markdown ? "\n- " : "  ") + note + "\n";
  }
  return text;
}

// Writes the sweep as data and a gnuplot script next to the PNG, then runs gnuplot.
void plot_alpha_sweep(const ReportContext& cli, const std::vector<ProfileResult>& results) {
  std::string data;
  for (std::size_t p = 0; p < results.size(); ++p) {
    data += "# profile " + cli.profiles[p] + "\n";
    for (const auto& [a, m] : results[p].sweep)
      data += fixed(a, 2) + " " + fixed(m.kendall, 5) + " " + fixed(m.spearman, 5) + "\n";
    data += "\n\n";
  }
  std::string script =
      "set title 'ZeroLM on " + cli.benchmark.substr(cli.benchmark.find_last_of('/') + 1) +
      ": Kendall tau against " + cli.truth +
      " as alpha varies'\n"
      "set xlabel 'alpha (weight of attention; 1 - alpha on feed-forward)'\nset ylabel 'Kendall "
      "tau'\n"
      "set grid\nset key bottom right\nset xrange [-1.5:1.5]\n"
      "plot ";
  for (std::size_t p = 0; p < results.size(); ++p)
    script += std::string(p ? ", " : "") + "'" + cli.plot + ".dat' index " + std::to_string(p) +
              " using 1:2 with lines lw 2 title '" + cli.profiles[p] + "'";
  gnuplot_png(cli.plot, data, script + "\n");
}

}  // namespace zerolm
