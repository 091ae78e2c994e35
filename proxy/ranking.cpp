#include "proxy/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "proxy/metrics.h"
#include "proxy/parallel.h"
#include "spaces/rng.h"

namespace zerolm {

namespace {

// Whether rows with parameter counts x and y are compared by pw_kendall: the one definition both
// versions use, so that they choose the same pairs to the last bit.
bool similar_size(double x, double y, double rel) {
  const double big = std::max(std::abs(x), std::abs(y));
  return std::abs(x - y) < rel * big;
}

// Ranks 0, 1, ... of x in increasing order (equal values share one); returns how many there are.
int dense_ranks(const std::vector<double>& x, std::vector<int>& rank) {
  std::vector<std::pair<double, int>> v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) v[i] = {x[i], int(i)};
  std::sort(v.begin(), v.end());
  rank.resize(x.size());
  int r = -1;
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (k == 0 || v[k].first != v[k - 1].first) ++r;
    rank[std::size_t(v[k].second)] = r;
  }
  return r + 1;
}

// Counts per rank with a Fenwick tree for "how many below"; clear() is O(1): a node written in
// an earlier epoch reads as zero, so a divide-and-conquer level does not pay to undo its inserts.
class RankCounts {
 public:
  explicit RankCounts(int n) : n_(n), tree_(std::size_t(n) + 1), count_(std::size_t(n)) {}
  void clear() {
    ++epoch_;
    inserted_ = 0;
  }
  void add(int r) {
    ++inserted_;
    ++at(count_, r);
    for (int i = r + 1; i <= n_; i += i & -i) ++at(tree_, i);
  }
  // The sum of sign(r - r') over the inserted ranks r': those below minus those above.
  long long sign_sum(int r) {
    long long below = 0;
    for (int i = r; i > 0; i -= i & -i) below += at(tree_, i);
    return 2 * below + at(count_, r) - inserted_;
  }

 private:
  struct Node {
    int value = 0;
    unsigned epoch = 0;
  };
  int& at(std::vector<Node>& v, int i) {
    Node& node = v[std::size_t(i)];
    if (node.epoch != epoch_) node = {0, epoch_};
    return node.value;
  }
  int n_;
  std::vector<Node> tree_, count_;
  unsigned epoch_ = 1;
  long long inserted_ = 0;
};

// A row as a point (counted) or a query (counting the points before it in the sequence).
struct Event {
  int ra, rb;
  bool query;
};

bool by_ra(const Event& x, const Event& y) {
  return x.ra < y.ra;
}

// The sum of sign(rb_q - rb_p) over every query q and every point p before it in ev[lo, hi) with
// ra_p < ra_q, by divide and conquer (CDQ): the pairs split by the middle are counted with both
// halves sorted by ra and a Fenwick tree over rb. Leaves ev[lo, hi) sorted by ra, stably.
long long below_in_a(std::vector<Event>& ev, std::vector<Event>& buf, std::size_t lo,
                     std::size_t hi, RankCounts& counts) {
  if (hi - lo <= 32) {
    long long s = 0;
    for (std::size_t q = lo; q < hi; ++q) {
      if (!ev[q].query) continue;
      for (std::size_t p = lo; p < q; ++p)
        if (!ev[p].query && ev[p].ra < ev[q].ra) s += (ev[q].rb > ev[p].rb) - (ev[q].rb < ev[p].rb);
    }
    std::stable_sort(ev.begin() + long(lo), ev.begin() + long(hi), by_ra);
    return s;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  long long s = below_in_a(ev, buf, lo, mid, counts) + below_in_a(ev, buf, mid, hi, counts);
  counts.clear();
  std::size_t p = lo;
  for (std::size_t q = mid; q < hi; ++q) {
    if (!ev[q].query) continue;
    for (; p < mid && ev[p].ra < ev[q].ra; ++p)
      if (!ev[p].query) counts.add(ev[p].rb);
    s += counts.sign_sum(ev[q].rb);
  }
  std::merge(ev.begin() + long(lo), ev.begin() + long(mid), ev.begin() + long(mid),
             ev.begin() + long(hi), buf.begin() + long(lo), by_ra);
  std::copy(buf.begin() + long(lo), buf.begin() + long(hi), ev.begin() + long(lo));
  return s;
}

// The sum of sign(ra_q - ra_p) * sign(rb_q - rb_p) over every query q and every point p before it
// in `ev`. With b = sign(rb_q - rb_p), the sign of a is 2 [ra_p < ra_q] + [ra_p = ra_q] - 1, so
// the sum is 2 x (pairs with ra_p < ra_q: below_in_a) + (pairs with ra_p = ra_q) - (all pairs);
// the last two need one sweep each. Reorders `ev`.
long long points_before_queries(std::vector<Event>& ev, RankCounts& counts) {
  counts.clear();
  long long all = 0;
  for (const Event& e : ev) {
    if (e.query)
      all += counts.sign_sum(e.rb);
    else
      counts.add(e.rb);
  }
  std::vector<Event> buf(ev.size());
  const long long below = ev.empty() ? 0 : below_in_a(ev, buf, 0, ev.size(), counts);
  // Now sorted by ra, each run of equal ra in sequence order.
  long long equal = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (i == 0 || ev[i].ra != ev[i - 1].ra) counts.clear();
    if (ev[i].query)
      equal += counts.sign_sum(ev[i].rb);
    else
      counts.add(ev[i].rb);
  }
  return 2 * below + equal - all;
}

// Positions 0..n-1 grouped by rank r (a counting sort: in order within a group); group g is
// by_rank[start[g], start[g + 1]).
struct Grouped {
  std::vector<std::size_t> start, by_rank, slot;  // slot[k]: where position k is in by_rank
};
Grouped group_by_rank(const std::vector<int>& r, int rank_count) {
  const std::size_t n = r.size();
  Grouped g{std::vector<std::size_t>(std::size_t(rank_count) + 1, 0), std::vector<std::size_t>(n),
            std::vector<std::size_t>(n)};
  for (int x : r) ++g.start[std::size_t(x) + 1];
  for (std::size_t i = 0; i < std::size_t(rank_count); ++i) g.start[i + 1] += g.start[i];
  std::vector<std::size_t> next(g.start.begin(), g.start.end() - 1);
  for (std::size_t k = 0; k < n; ++k) {
    g.slot[k] = next[std::size_t(r[k])]++;
    g.by_rank[g.slot[k]] = k;
  }
  return g;
}

// Kendall's S over all pairs, from ranks: groups of equal ra in increasing order, each counted
// against the rows of lower ra in a Fenwick tree over rb before it is inserted.
long long kendall_s_of_ranks(const Grouped& by_a, const std::vector<int>& rb, RankCounts& counts) {
  counts.clear();
  long long s = 0;
  for (std::size_t g = 0; g + 1 < by_a.start.size(); ++g) {
    for (std::size_t i = by_a.start[g]; i < by_a.start[g + 1]; ++i)
      s += counts.sign_sum(rb[by_a.by_rank[i]]);
    for (std::size_t i = by_a.start[g]; i < by_a.start[g + 1]; ++i) counts.add(rb[by_a.by_rank[i]]);
  }
  return s;
}

// The pairs (i, k), first[k] <= i < k, whose ranks are equal: each row counts the rows of its
// group in its window.
long long tied_in_windows(const Grouped& g, const std::vector<int>& r,
                          const std::vector<std::size_t>& first) {
  long long tied = 0;
  for (std::size_t k = 0; k < r.size(); ++k) {
    const auto group = g.by_rank.begin() + long(g.start[std::size_t(r[k])]),
               self = g.by_rank.begin() + long(g.slot[k]);
    tied += self - std::lower_bound(group, self, first[k]);
  }
  return tied;
}

}  // namespace

double pw_kendall_quadratic(const std::vector<double>& a, const std::vector<double>& b,
                            const std::vector<double>& params, double rel) {
  if (a.size() != b.size() || a.size() != params.size())
    throw std::invalid_argument("pw_kendall of vectors of different sizes");
  return kendall_tau_b_where(
      a, b, [&](std::size_t i, std::size_t j) { return similar_size(params[i], params[j], rel); });
}

// Sorted by parameter count, the rows compared with row k among the rows before it are a window
// [first[k], k): |p_k - p_i| grows as p_i falls. Kendall's S over the windows is S over all pairs
// (kendall_s_of_ranks) less the pairs (i, k) with i < first[k]: these are counted as points before
// queries in a sequence where row k's query is placed just before row first[k]
// (points_before_queries). The pair and tie totals within the windows follow from positions, so
// every count is the pair loop's, and so is the value.
double pw_kendall(const std::vector<double>& a, const std::vector<double>& b,
                  const std::vector<double>& params, double rel) {
  if (a.size() != b.size() || a.size() != params.size())
    throw std::invalid_argument("pw_kendall of vectors of different sizes");
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i)
    if (std::isnan(a[i]) || std::isnan(b[i]) || std::isnan(params[i]) || params[i] < 0)
      return pw_kendall_quadratic(a, b, params, rel);
  std::vector<std::pair<double, std::size_t>> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = {params[i], i};
  std::sort(order.begin(), order.end());
  std::vector<double> sa(n), sb(n), sp(n);
  for (std::size_t k = 0; k < n; ++k) {
    sp[k] = order[k].first;
    sa[k] = a[order[k].second];
    sb[k] = b[order[k].second];
  }
  std::vector<int> ra, rb;
  const int a_count = dense_ranks(sa, ra), b_count = dense_ranks(sb, rb);

  // first[k] by binary search: similar_size(sp[i], sp[k]) holds for i in a suffix of [0, k).
  std::vector<std::size_t> first(n);
  long long pairs = 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t lo = 0, hi = k;  // the answer is in [lo, hi]
    while (lo < hi) {
      const std::size_t m = lo + (hi - lo) / 2;
      if (similar_size(sp[m], sp[k], rel))
        hi = m;
      else
        lo = m + 1;
    }
    first[k] = lo;
    pairs += static_cast<long long>(k - lo);
  }
  const Grouped by_a = group_by_rank(ra, a_count), by_b = group_by_rank(rb, b_count);
  const long long tied_a = tied_in_windows(by_a, ra, first),
                  tied_b = tied_in_windows(by_b, rb, first);

  // The sequence: for each position x, the queries of the rows whose window starts at x, then
  // row x as a point (windows starting at 0 leave nothing out).
  std::vector<std::size_t> starts(n + 1, 0), starting(n);
  for (std::size_t k = 0; k < n; ++k) ++starts[first[k] + 1];
  for (std::size_t x = 0; x < n; ++x) starts[x + 1] += starts[x];
  {
    std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
    for (std::size_t k = 0; k < n; ++k) starting[next[first[k]]++] = k;
  }
  std::vector<Event> ev;
  ev.reserve(2 * n);
  for (std::size_t x = 0; x < n; ++x) {
    if (x > 0)
      for (std::size_t j = starts[x]; j < starts[x + 1]; ++j) {
        const std::size_t k = starting[j];
        ev.push_back({ra[k], rb[k], true});
      }
    ev.push_back({ra[x], rb[x], false});
  }
  RankCounts counts(std::max(1, b_count));
  const long long s = kendall_s_of_ranks(by_a, rb, counts) - points_before_queries(ev, counts);

  const double n1 = double(pairs - tied_b), n2 = double(pairs - tied_a);
  if (n1 <= 0 || n2 <= 0) return std::numeric_limits<double>::quiet_NaN();
  return double(s) / std::sqrt(n1 * n2);
}

Metrics compute_metrics(const std::vector<double>& proxy, const std::vector<double>& truth,
                        const std::vector<double>& params) {
  return {kendall_tau_b(proxy, truth), spearman(proxy, truth), pearson(proxy, truth),
          pw_kendall(proxy, truth, params)};
}

namespace {

double percentile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const auto lo = std::size_t(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

}  // namespace

Metrics mean_of(const std::vector<Metrics>& v) {
  Metrics m;
  for (const Metrics& x : v) {
    m.kendall += x.kendall / v.size();
    m.spearman += x.spearman / v.size();
    m.pearson += x.pearson / v.size();
    m.pw10 += x.pw10 / v.size();
  }
  return m;
}

Metrics sd_of(const std::vector<Metrics>& v, const Metrics& mean) {
  auto sd = [&](double Metrics::*f) {
    double acc = 0;
    for (const Metrics& x : v) acc += (x.*f - mean.*f) * (x.*f - mean.*f);
    return v.size() > 1 ? std::sqrt(acc / double(v.size() - 1)) : 0.0;
  };
  return {sd(&Metrics::kendall), sd(&Metrics::spearman), sd(&Metrics::pearson), sd(&Metrics::pw10)};
}

MetricIntervals bootstrap(const std::vector<double>& proxy, const std::vector<double>& truth,
                          const std::vector<double>& params, int resamples, std::uint64_t seed,
                          int threads, const BootstrapProgress& progress) {
  const std::uint64_t stream = derive_seed(seed, fnv1a("bootstrap"));
  const std::size_t n = proxy.size();
  const std::size_t count = std::size_t(std::max(0, resamples));
  std::vector<Metrics> m(count);
  std::mutex mutex;
  int done = 0;
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  parallel_for(count, threads, [&](std::size_t r) {
    Rng rng(derive_seed(stream, r));
    std::vector<double> a(n), b(n), c(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = rng.below(n);
      a[i] = proxy[j];
      b[i] = truth[j];
      c[i] = params[j];
    }
    m[r] = compute_metrics(a, b, c);
    if (progress) {
      std::lock_guard<std::mutex> lock(mutex);
      progress(++done, resamples);
    }
  });
  auto iv = [&](double Metrics::*f) {
    std::vector<double> v;
    v.reserve(count);
    for (const Metrics& x : m) v.push_back(x.*f);
    return Interval{percentile(v, 0.025), percentile(v, 0.975)};
  };
  return {iv(&Metrics::kendall), iv(&Metrics::spearman), iv(&Metrics::pearson), iv(&Metrics::pw10)};
}

std::vector<double> alpha_grid(double lo, double hi, double step) {
  std::vector<double> g;
  const int n = int(std::lround((hi - lo) / step));
  for (int i = 0; i <= n; ++i) g.push_back(std::round((lo + i * step) * 1e6) / 1e6);
  return g;
}

std::vector<double> select(const std::vector<double>& v, const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (std::size_t i : rows) out.push_back(v[i]);
  return out;
}

std::vector<double> combine(const std::vector<double>& attn, const std::vector<double>& ffn,
                            double alpha, const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  if (rows.empty()) {
    for (std::size_t i = 0; i < attn.size(); ++i)
      out.push_back(alpha * attn[i] + (1 - alpha) * ffn[i]);
  } else {
    for (std::size_t i : rows) out.push_back(alpha * attn[i] + (1 - alpha) * ffn[i]);
  }
  return out;
}

double best_alpha(const std::vector<double>& attn, const std::vector<double>& ffn,
                  const std::vector<double>& target, const std::vector<std::size_t>& rows,
                  const std::vector<double>& grid) {
  const std::vector<double> t = rows.empty() ? target : select(target, rows);
  double best = grid.front(), best_tau = -2;
  for (double a : grid) {
    const double tau = kendall_tau_b(combine(attn, ffn, a, rows), t);
    if (tau > best_tau) {
      best_tau = tau;
      best = a;
    }
  }
  return best;
}

Split make_split(std::size_t n, std::size_t k, std::uint64_t seed, int split) {
  Rng rng(derive_seed(seed, fnv1a("alpha-split-" + std::to_string(split))));
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  // Partial Fisher-Yates: the first k positions become a uniform sample without replacement.
  k = std::min(k, n);
  for (std::size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + rng.below(n - i)]);
  Split s;
  s.fit.assign(idx.begin(), idx.begin() + k);
  s.report.assign(idx.begin() + k, idx.end());
  std::sort(s.fit.begin(), s.fit.end());
  std::sort(s.report.begin(), s.report.end());
  return s;
}

SampledAlpha sample_alpha(const std::vector<double>& attn, const std::vector<double>& ffn,
                          const std::vector<double>& truth, const std::vector<double>& params,
                          std::size_t k, int splits, std::uint64_t seed,
                          const std::vector<double>& grid) {
  SampledAlpha r;
  for (int s = 0; s < splits; ++s) {
    const Split sp = make_split(attn.size(), k, seed, s);
    const double a = best_alpha(attn, ffn, truth, sp.fit, grid);
    r.alphas.push_back(a);
    r.held_out.push_back(compute_metrics(combine(attn, ffn, a, sp.report), select(truth, sp.report),
                                         select(params, sp.report)));
  }
  r.mean = mean_of(r.held_out);
  r.sd = sd_of(r.held_out, r.mean);
  return r;
}

Metrics grouped_metrics(const std::vector<double>& proxy, const std::vector<double>& truth,
                        const std::vector<double>& params, const std::vector<std::string>& keys,
                        std::size_t* used) {
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(i);
  Metrics m;
  double weight = 0;
  auto add = [](double& acc, double v, double w) {
    if (!std::isnan(v)) acc += w * v;
  };
  // Each metric is averaged over the groups where it is defined.
  double wk = 0, ws = 0, wp = 0, ww = 0;
  for (const auto& [key, rows] : groups) {
    if (rows.size() < 3) continue;
    const Metrics g =
        compute_metrics(select(proxy, rows), select(truth, rows), select(params, rows));
    const double w = double(rows.size());
    weight += w;
    add(m.kendall, g.kendall, w);
    add(m.spearman, g.spearman, w);
    add(m.pearson, g.pearson, w);
    add(m.pw10, g.pw10, w);
    wk += std::isnan(g.kendall) ? 0 : w;
    ws += std::isnan(g.spearman) ? 0 : w;
    wp += std::isnan(g.pearson) ? 0 : w;
    ww += std::isnan(g.pw10) ? 0 : w;
  }
  if (used) *used = std::size_t(weight);
  m.kendall = wk > 0 ? m.kendall / wk : std::nan("");
  m.spearman = ws > 0 ? m.spearman / ws : std::nan("");
  m.pearson = wp > 0 ? m.pearson / wp : std::nan("");
  m.pw10 = ww > 0 ? m.pw10 / ww : std::nan("");
  return m;
}

}  // namespace zerolm
