// The capacity table of a checkpoint's pruning space (proxy/checkpoint_scores.h): every distinct
// slice's capacity, computed once.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <torch/torch.h>

#include "proxy/capacity.h"
#include "proxy/checkpoint_scores.h"

namespace zerolm {

namespace {

// Lanczos stops when the top Ritz pair (theta, y) of a slice's X^T X has a residual
// r = ||X^T X y - theta y|| <= kTolerance * theta: theta is then within r of an eigenvalue of
// X^T X (a residual bounds the distance to the spectrum of a symmetric matrix), so sqrt(theta) is
// within kTolerance / 2 = 5e-9 of a singular value, relatively, far inside the 1e-6 the table
// must agree with an exact SVD. A Ritz value converges faster than its vector: the error of theta
// is also at most r^2 / (theta - lambda_2) (Kato-Temple), estimated with the second Ritz value for
// lambda_2, so it also stops when r^2 / (theta - theta_2) <= kValueTolerance * theta, which bounds
// the relative error of sqrt(theta) by 5e-10 while theta_2 is near lambda_2, and by far less than
// 1e-6 while it is within 100 gaps of it. That the eigenvalue is the largest rests on the start not
// being orthogonal to its vector (the start is the slice's column norms, of one sign as a
// dominant direction of a trained matrix mostly is) and is what the tests check against exact SVDs.
constexpr double kTolerance = 1e-8;
constexpr double kValueTolerance = 1e-9;
// Steps per Lanczos cycle before a restart from the best Ritz vector (memory: kMaxSteps vectors
// of the fixed width per slice).
constexpr std::int64_t kMaxSteps = 192;

// The largest singular value of X ([m, n], double, m, n >= 1) by Lanczos iteration on X^T X
// (never formed: each step is X^T (X q), two matrix-vector products, which BLAS does several
// times faster than one product with a few columns), with full reorthogonalisation. `v` ([n]) is
// the start and returns the top right singular vector.
double lanczos_top(const torch::Tensor& X, torch::Tensor& v) {
  const std::int64_t n = X.size(1), steps = std::min(n, kMaxSteps);
  const auto cpu = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor Xt = X.t();
  torch::Tensor q = v / v.norm();
  for (int cycle = 0; cycle < 1000; ++cycle) {
    torch::Tensor basis = torch::zeros({steps, n}, X.options());
    std::vector<double> alpha, beta;
    torch::Tensor y;
    for (std::int64_t j = 0; j < steps; ++j) {
      basis[j].copy_(q);
      torch::Tensor w = Xt.mv(X.mv(q));
      alpha.push_back(w.dot(q).item<double>());
      // Twice: one classical Gram-Schmidt pass leaves rounding-sized components that grow.
      const torch::Tensor B = basis.narrow(0, 0, j + 1);
      for (int pass = 0; pass < 2; ++pass) w -= B.t().mv(B.mv(w));
      const double b = w.norm().item<double>();
      const bool last = j + 1 == steps || j + 1 == n || b == 0;
      // The Ritz values every step at first, then every fourth (an eigensolve of the growing
      // tridiagonal matrix each step would cost as much as the products): at most 3 steps more.
      if (j < 16 || j % 4 == 3 || last) {
        torch::Tensor T = torch::zeros({j + 1, j + 1}, cpu);
        auto t = T.accessor<double, 2>();
        for (std::int64_t i = 0; i <= j; ++i) {
          t[i][i] = alpha[std::size_t(i)];
          if (i > 0) t[i][i - 1] = t[i - 1][i] = beta[std::size_t(i - 1)];
        }
        const auto [values, vectors] = torch::linalg_eigh(T);
        const double theta = values[j].item<double>();
        const double second = j > 0 ? values[j - 1].item<double>() : 0.0;
        y = vectors.select(1, j);
        const double r = b * std::abs(y[j].item<double>());
        const bool value_converged =
            j >= 8 && theta > second && r * r <= kValueTolerance * theta * (theta - second);
        // Converged, or the Krylov space is invariant (exact) or the whole space.
        if (theta <= 0 || r <= kTolerance * theta || value_converged || j + 1 == n || b == 0) {
          v = B.t().mv(y.to(X.device()));
          return std::sqrt(std::max(theta, 0.0));
        }
      }
      beta.push_back(b);
      q = w / b;
    }
    // Restart from the best Ritz vector.
    q = basis.t().mv(y.to(X.device()));
    q /= q.norm();
  }
  throw std::runtime_error("Lanczos iteration did not converge");
}

// The largest singular values of the nested slices X[0:rows[s]] of X ([m, n], double), from the
// smallest up, each started from the previous one's top vector (the first from its column
// norms, of one sign as a dominant direction of a trained matrix mostly is).
std::vector<double> nested_top_singular_values(const torch::Tensor& X,
                                               const std::vector<std::int64_t>& rows) {
  std::vector<double> out(rows.size(), 0.0);
  std::vector<std::size_t> order(rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return rows[a] < rows[b]; });
  torch::Tensor v;
  for (std::size_t i : order) {
    if (rows[i] == 0 || X.size(1) == 0) continue;  // an empty slice has no capacity
    const torch::Tensor x = X.narrow(0, 0, rows[i]);
    if (!v.defined()) {
      const torch::Tensor norms = x.square().sum(0).sqrt();
      v = norms + 1e-3 * norms.max() + 1e-300;
    }
    out[i] = lanczos_top(x, v);
  }
  return out;
}

// A matrix's vectors in the order slices take them, as the rows of the result: rows of [out, in]
// for a slice of rows (q, k, v, gate, up), columns for a slice of columns (o, down: the result is
// then a transposed view); unit u is vectors [u * per_unit, (u + 1) * per_unit) of the matrix,
// taken in `order`.
torch::Tensor ordered_vectors(const Matrix& m, bool by_rows, const std::vector<std::int64_t>& order,
                              std::int64_t per_unit, const torch::Device& device) {
  std::vector<std::int64_t> index;
  index.reserve(order.size() * std::size_t(per_unit));
  for (std::int64_t u : order)
    for (std::int64_t i = 0; i < per_unit; ++i) index.push_back(u * per_unit + i);
  torch::Tensor x;
  if (by_rows) {
    // Each row straight into its place.
    x = torch::empty({std::int64_t(index.size()), m.cols}, torch::kDouble);
    double* p = x.data_ptr<double>();
    for (std::size_t i = 0; i < index.size(); ++i) m.row(index[i], p + std::int64_t(i) * m.cols);
  } else {
    torch::Tensor w = torch::empty({m.rows, m.cols}, torch::kDouble);
    double* p = w.data_ptr<double>();
    for (std::int64_t r = 0; r < m.rows; ++r) m.row(r, p + r * m.cols);
    // Gathering columns row by row reads memory in order; the vectors are then the columns of
    // this [rows, count] tensor, and a slice is a view of its first columns, transposed (no copy).
    x = w.index_select(1, torch::tensor(index, torch::kLong)).t();
  }
  return x.to(device);
}

// The statistic of each slice that keeps counts[i] units (the first counts[i] * per_unit vectors).
std::vector<double> slice_column(const torch::Tensor& vectors, std::int64_t per_unit,
                                 const std::vector<std::int64_t>& counts, CapacityStat stat) {
  if (stat == CapacityStat::Spectral) {
    std::vector<std::int64_t> rows;
    for (std::int64_t c : counts) rows.push_back(c * per_unit);
    return nested_top_singular_values(vectors, rows);
  }
  std::vector<double> out;
  for (std::int64_t c : counts) {
    const torch::Tensor x = vectors.narrow(0, 0, c * per_unit);
    out.push_back(x.size(0) == 0 || x.size(1) == 0 ? 0.0 : capacity(x, stat).item<double>());
  }
  return out;
}

}  // namespace

CapacityTable capacity_table(const HfCheckpoint& ck, const PruneSpace& space, CapacityStat stat,
                             int first, int last, const std::string& device,
                             const std::function<void(int)>& progress) {
  if (first < 0 || last > space.layers() || first > last)
    throw std::invalid_argument("capacity_table: layers [" + std::to_string(first) + ", " +
                                std::to_string(last) + ") of " + std::to_string(space.layers()));
  torch::NoGradGuard no_grad;
  const torch::Device dev(device);
  CapacityTable table;
  table.stat = stat;
  table.ffn.resize(std::size_t(space.layers()));
  table.attention.resize(std::size_t(space.layers()));
  for (int l = first; l < last; ++l) {
    const PruneLayerShape& s = space.shape(l);
    const PruneLayerNorms& n = space.norms(l);
    const std::int64_t q_unit = s.heads_per_group * s.head_dim, kv_unit = s.head_dim;
    const std::vector<std::int64_t>& ffn = space.ffn_grid(l);
    const std::vector<std::int64_t>& kv = space.kv_grid(l);
    std::vector<double>& f = table.ffn[std::size_t(l)];
    std::vector<double>& a = table.attention[std::size_t(l)];
    f.assign(ffn.size(), 0.0);
    a.assign(kv.size(), 0.0);
    const auto add = [](std::vector<double>& to, const std::vector<double>& column) {
      for (std::size_t i = 0; i < to.size(); ++i) to[i] += column[i];
    };
    // One matrix at a time, so that at most one dense copy is held.
    const auto column = [&](const Matrix& m, bool by_rows, const std::vector<std::int64_t>& order,
                            std::int64_t per_unit, const std::vector<std::int64_t>& counts) {
      return slice_column(ordered_vectors(m, by_rows, order, per_unit, dev), per_unit, counts,
                          stat);
    };
    add(a, column(ck.attention(l, AttnMatrix::Q), true, n.kv_order, q_unit, kv));
    add(a, column(ck.attention(l, AttnMatrix::K), true, n.kv_order, kv_unit, kv));
    add(a, column(ck.attention(l, AttnMatrix::V), true, n.kv_order, kv_unit, kv));
    add(a, column(ck.attention(l, AttnMatrix::O), false, n.kv_order, q_unit, kv));
    if (ck.gated()) add(f, column(ck.ffn(l, FfnMatrix::Gate), true, n.ffn_order, 1, ffn));
    add(f, column(ck.ffn(l, FfnMatrix::Up), true, n.ffn_order, 1, ffn));
    add(f, column(ck.ffn(l, FfnMatrix::Down), false, n.ffn_order, 1, ffn));
    if (progress) progress(l - first + 1);
  }
  return table;
}

namespace {

// One checkpoint space's tables by statistic; replaced when another space asks.
struct TableCache {
  std::mutex mutex;
  const CheckpointSpace* space = nullptr;
  std::string dir;
  std::map<CapacityStat, std::shared_ptr<const CapacityTable>> tables;

  // Under `mutex`: forgets the tables of another space (compared by address and directory, as a
  // later space may reuse a freed one's address).
  void use(const CheckpointSpace& s) {
    if (space == &s && dir == s.checkpoint().dir()) return;
    space = &s;
    dir = s.checkpoint().dir();
    tables.clear();
  }
};

TableCache& table_cache() {
  static TableCache cache;
  return cache;
}

}  // namespace

std::shared_ptr<const CapacityTable> cached_capacity_table(const CheckpointSpace& space,
                                                           CapacityStat stat) {
  TableCache& c = table_cache();
  // Held while computing: the evaluator's threads wait for the one table instead of each
  // computing it.
  std::lock_guard<std::mutex> lock(c.mutex);
  c.use(space);
  auto& t = c.tables[stat];
  if (!t)
    t = std::make_shared<const CapacityTable>(
        capacity_table(space.checkpoint(), space.prune(), stat, 0, space.prune().layers()));
  return t;
}

void install_capacity_table(const CheckpointSpace& space, CapacityTable table) {
  TableCache& c = table_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.use(space);
  const CapacityStat stat = table.stat;
  c.tables[stat] = std::make_shared<const CapacityTable>(std::move(table));
}

double top_singular_value(const std::vector<double>& values, std::int64_t rows, std::int64_t cols) {
  torch::NoGradGuard no_grad;
  const torch::Tensor X =
      torch::from_blob(const_cast<double*>(values.data()), {rows, cols}, torch::kDouble).clone();
  return nested_top_singular_values(X, {rows}).front();
}

}  // namespace zerolm
