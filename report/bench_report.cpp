#include "report/bench_report.h"

#include <cstdio>
#include <map>

#include "report/plot.h"

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

std::string shapes_label(const BenchInfo& b, const std::string& profile) {
  return b.as_encoded ? "shapes as encoded" : "profile " + profile;
}

BenchRow metric_row(const std::string& proxy, const std::string& source,
                    const std::vector<double>& x, const std::vector<double>& truth,
                    const std::vector<double>& params, int resamples, std::uint64_t seed,
                    int threads) {
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
    const MetricIntervals iv = bootstrap(x, truth, params, resamples, seed, threads);
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

BenchRow sd_row(const std::string& proxy, const std::string& source, const Metrics& mean,
                const Metrics& sd, std::size_t n) {
  BenchRow r;
  r.proxy = proxy;
  r.source = source;
  r.n = n;
  r.kendall = {mean.kendall, std::nan(""), std::nan(""), sd.kendall};
  r.spearman = {mean.spearman, std::nan(""), std::nan(""), sd.spearman};
  r.pearson = {mean.pearson, std::nan(""), std::nan(""), sd.pearson};
  r.pw10 = {mean.pw10, std::nan(""), std::nan(""), sd.pw10};
  return r;
}

std::vector<MultiRow> merge_rows(const std::vector<std::vector<BenchRow>>& per_benchmark) {
  std::vector<MultiRow> out;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (std::size_t b = 0; b < per_benchmark.size(); ++b)
    for (const BenchRow& r : per_benchmark[b]) {
      auto [it, added] = index.emplace(std::make_pair(r.proxy, r.source), out.size());
      if (added)
        out.push_back({r.proxy, r.source, "", std::vector<BenchRow>(per_benchmark.size())});
      out[it->second].on[b] = r;
    }
  for (MultiRow& m : out) {
    std::vector<std::string> alphas;
    bool same = true;
    for (const BenchRow& r : m.on) {
      if (r.n == 0) continue;
      same = same && (alphas.empty() || alphas.front() == r.alpha);
      alphas.push_back(r.alpha);
    }
    if (same) {
      m.alpha = alphas.empty() ? "" : alphas.front();
    } else {
      for (const auto& a : alphas) m.alpha += (m.alpha.empty() ? "" : " / ") + a;
    }
  }
  return out;
}

namespace {

std::string num(double v) {
  return std::isnan(v) ? std::string() : format_number(v);
}

std::string label(const std::string& proxy, const std::string& source) {
  return proxy + (source == "published" ? " (published)" : "");
}

std::string bootstrap_note(const ReportContext& ctx) {
  return ctx.resamples > 0 && !ctx.grouped ? "; [95% bootstrap interval]" : "";
}

std::string benchmark_line(const BenchInfo& b) {
  return std::to_string(b.rows) + " architectures of " + b.path + ", truth " + b.truth +
         (b.lower_is_better ? " (lower is better, negated)" : "");
}

// The profile column of a row over several benchmarks: "as encoded" when it changes none of them.
std::string profile_column(const ReportContext& ctx, std::size_t p) {
  for (const BenchInfo& b : ctx.benchmarks)
    if (!b.as_encoded) return ctx.profiles[p];
  return "as encoded";
}

std::string notes_text(const std::vector<std::string>& notes, Format format) {
  std::string text;
  for (const auto& note : notes) text += (format == Format::Markdown ? "\n- " : "  ") + note + "\n";
  return text;
}

std::string render_sweep(const ReportContext& ctx, const std::vector<ProfileResult>& results,
                         Format format) {
  const bool multi = ctx.benchmarks.size() > 1;
  TextTable t{{"alpha", "kendall", "spearman", "pearson", "pw10_kendall", "profile"}, {}};
  if (multi) t.columns.push_back("benchmark");
  for (std::size_t p = 0; p < results.size(); ++p)
    for (std::size_t b = 0; b < results[p].sweeps.size(); ++b) {
      if (p > 0 && ctx.benchmarks[b].as_encoded) continue;  // the same models under every profile
      for (const auto& [a, m] : results[p].sweeps[b]) {
        t.rows.push_back({fixed(a, 2), fixed(m.kendall, 4), fixed(m.spearman, 4),
                          fixed(m.pearson, 4), fixed(m.pw10, 4),
                          ctx.benchmarks[b].as_encoded ? "as encoded" : ctx.profiles[p]});
        if (multi) t.rows.back().push_back(ctx.benchmarks[b].name);
      }
    }
  return t.render(format);
}

std::string render_single(const ReportContext& ctx, const std::vector<ProfileResult>& results,
                          Format format) {
  if (format == Format::Csv || format == Format::Json) {
    TextTable t{{"proxy",           "kendall",         "spearman",
                 "pearson",         "pw10_kendall",    "kendall_lo",
                 "kendall_hi",      "spearman_lo",     "spearman_hi",
                 "pearson_lo",      "pearson_hi",      "pw10_kendall_lo",
                 "pw10_kendall_hi", "kendall_sd",      "spearman_sd",
                 "pearson_sd",      "pw10_kendall_sd", "n",
                 "source",          "profile",         "alpha"},
                {}};
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
  std::string text;
  const BenchInfo& b = ctx.benchmarks.front();
  for (std::size_t p = 0; p < results.size(); ++p) {
    const std::string head =
        shapes_label(b, ctx.profiles[p]) + ": " + benchmark_line(b) + bootstrap_note(ctx);
    text += (format == Format::Markdown ? "\n**" + head + "**\n\n" : "\n" + head + "\n");
    TextTable t{{"proxy", "kendall", "spearman", "pearson", "pw10_kendall", "source", "alpha"}, {}};
    for (const BenchRow& r : results[p].rows)
      t.rows.push_back({label(r.proxy, r.source), show(r.kendall), show(r.spearman),
                        show(r.pearson), show(r.pw10), r.source, r.alpha});
    text += t.render(format);
    text += notes_text(results[p].notes, format);
  }
  return text;
}

// One table per profile; per benchmark the columns kendall, spearman and pw10_kendall (csv and
// json add their intervals, standard deviations and row counts).
std::string render_multi(const ReportContext& ctx, const std::vector<ProfileResult>& results,
                         Format format) {
  const auto& benchmarks = ctx.benchmarks;
  if (format == Format::Csv || format == Format::Json) {
    TextTable t{{"proxy"}, {}};
    const std::vector<std::string> metrics = {"kendall", "spearman", "pw10_kendall"};
    for (const BenchInfo& b : benchmarks) {
      for (const auto& m : metrics) t.columns.push_back(b.name + "_" + m);
      for (const auto& m : metrics) {
        t.columns.push_back(b.name + "_" + m + "_lo");
        t.columns.push_back(b.name + "_" + m + "_hi");
      }
      for (const auto& m : metrics) t.columns.push_back(b.name + "_" + m + "_sd");
      t.columns.push_back(b.name + "_n");
    }
    t.columns.insert(t.columns.end(), {"source", "profile", "alpha"});
    for (std::size_t p = 0; p < results.size(); ++p)
      for (const MultiRow& m : results[p].multi) {
        std::vector<std::string> cells = {m.proxy};
        for (const BenchRow& r : m.on) {
          const bool there = r.n > 0;
          const std::vector<const Cell*> cs = {&r.kendall, &r.spearman, &r.pw10};
          for (const Cell* c : cs) cells.push_back(there ? num(c->value) : "");
          for (const Cell* c : cs) {
            cells.push_back(there ? num(c->lo) : "");
            cells.push_back(there ? num(c->hi) : "");
          }
          for (const Cell* c : cs) cells.push_back(there ? num(c->sd) : "");
          cells.push_back(there ? std::to_string(r.n) : "");
        }
        cells.insert(cells.end(), {m.source, profile_column(ctx, p), m.alpha});
        t.rows.push_back(cells);
      }
    return t.render(format);
  }
  std::string text;
  for (std::size_t p = 0; p < results.size(); ++p) {
    bool profile_matters = false;
    std::string lines;
    for (const BenchInfo& b : benchmarks) {
      lines += (format == Format::Markdown ? "- " : "  ") + b.name + ": " + benchmark_line(b) +
               (b.as_encoded ? "; shapes as encoded" : "") + "\n";
      profile_matters = profile_matters || !b.as_encoded;
    }
    const std::string head =
        (profile_matters ? "profile " + ctx.profiles[p] : "shapes as encoded") +
        bootstrap_note(ctx);
    text += format == Format::Markdown ? "\n**" + head + "**\n\n" + lines + "\n"
                                       : "\n" + head + "\n" + lines;
    TextTable t{{"proxy"}, {}};
    for (const BenchInfo& b : benchmarks)
      for (const char* m : {" kendall", " spearman", " pw10_kendall"})
        t.columns.push_back(b.name + m);
    t.columns.insert(t.columns.end(), {"source", "alpha"});
    for (const MultiRow& m : results[p].multi) {
      std::vector<std::string> cells = {label(m.proxy, m.source)};
      for (const BenchRow& r : m.on)
        for (const Cell* c : {&r.kendall, &r.spearman, &r.pw10})
          cells.push_back(r.n > 0 ? show(*c) : "");
      cells.insert(cells.end(), {m.source, m.alpha});
      t.rows.push_back(cells);
    }
    text += t.render(format);
    text += notes_text(results[p].notes, format);
  }
  return text;
}

}  // namespace

std::string render_report(const ReportContext& ctx, const std::vector<ProfileResult>& results,
                          Format format) {
  if (ctx.sweep) return render_sweep(ctx, results, format);
  return ctx.benchmarks.size() == 1 ? render_single(ctx, results, format)
                                    : render_multi(ctx, results, format);
}

// Writes the sweep as data and a gnuplot script next to the PNG, then runs gnuplot.
void plot_alpha_sweep(const ReportContext& ctx, const std::vector<ProfileResult>& results) {
  const bool multi = ctx.benchmarks.size() > 1;
  std::string data;
  std::vector<std::string> titles;
  for (std::size_t p = 0; p < results.size(); ++p)
    for (std::size_t b = 0; b < results[p].sweeps.size(); ++b) {
      if (p > 0 && ctx.benchmarks[b].as_encoded) continue;  // drawn once
      const std::string profile = ctx.benchmarks[b].as_encoded ? "as encoded" : ctx.profiles[p];
      titles.push_back(multi ? ctx.benchmarks[b].name + " (" + profile + ")" : profile);
      data += "# " + (multi ? titles.back() : "profile " + profile) + "\n";
      for (const auto& [a, m] : results[p].sweeps[b])
        data += fixed(a, 2) + " " + fixed(m.kendall, 5) + " " + fixed(m.spearman, 5) + "\n";
      data += "\n\n";
    }
  const BenchInfo& first = ctx.benchmarks.front();
  std::string script =
      "set title 'ZeroLM on " +
      (multi ? "each benchmark: Kendall tau against its truth"
             : first.path.substr(first.path.find_last_of('/') + 1) + ": Kendall tau against " +
                   first.truth) +
      " as alpha varies'\n"
      "set xlabel 'alpha (weight of attention; 1 - alpha on feed-forward)'\nset ylabel 'Kendall "
      "tau'\n"
      "set grid\nset key bottom right\nset xrange [-1.5:1.5]\n"
      "plot ";
  for (std::size_t i = 0; i < titles.size(); ++i)
    script += std::string(i ? ", " : "") + "'" + ctx.plot + ".dat' index " + std::to_string(i) +
              " using 1:2 with lines lw 2 title '" + titles[i] + "'";
  gnuplot_png(ctx.plot, data, script + "\n");
}

}  // namespace zerolm
