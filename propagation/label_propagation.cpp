// Static label propagation (Zhou et al. 2004, bipartite form): validation, seeds, and
// the iteration loop over the backend's fused half-steps. See label_propagation.hpp.
#include "propagation/label_propagation.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "core/memory.hpp"
#include "propagation/reorder.hpp"

namespace driftrec::propagation {
namespace {

using graph::Index;
using graph::Offset;

void check_finite(const DenseMatrix& m, const char* what) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      if (!std::isfinite(m(r, c)))
        throw InputError(fmt::format("{}: the value at row {}, column {} is not finite", what, r, c));
}

// Weights finite and >= 0, checked before relabelling so that a message names the
// caller's row (make_bipartite_graph checks again, on the relabelled rows).
void check_weights(const graph::CsrMatrix& w, const char* what) {
  for (Index r = 0; r < w.n_rows; ++r)
    for (Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e)
      if (!std::isfinite(w.data[e]) || w.data[e] < 0)
        throw InputError(fmt::format(
            "{}: the value at row {}, column {} is {}; edge weights must be finite and >= 0", what,
            r, w.indices[e], w.data[e]));
}

// F_U, F_I computed on the graph in `order` back to the original ids.
void to_original_ids(PropagationResult& r, const VertexOrder& order, int threads) {
  DenseMatrix users(r.user_labels.rows(), r.user_labels.cols());
  from_order(view(std::as_const(r.user_labels)), order.user_old, view(users), threads);
  r.user_labels = std::move(users);
  DenseMatrix items(r.item_labels.rows(), r.item_labels.cols());
  from_order(view(std::as_const(r.item_labels)), order.item_old, view(items), threads);
  r.item_labels = std::move(items);
}

}  // namespace

void LabelPropagationOptions::validate() const {
  if (!(alpha >= 0 && alpha < 1))
    throw InputError(fmt::format("alpha: expected a value in [0, 1), got {}", alpha));
  if (!(tolerance >= 0 && std::isfinite(tolerance)))
    throw InputError(fmt::format("tolerance: expected a finite value >= 0, got {}", tolerance));
  if (max_iterations < 1)
    throw InputError(fmt::format("max_iterations: expected at least 1, got {}", max_iterations));
  if (threads < 0)
    throw InputError(
        fmt::format("threads: expected 0 (OpenMP's default) or a positive count, got {}", threads));
}

Footprint estimate_footprint(Index users, Index items, Offset nnz, Index labels, bool user_prior, bool reordered) {
  const double u = static_cast<double>(users), i = static_cast<double>(items), n = static_cast<double>(nnz);
  const double row = 4.0 * static_cast<double>(labels);  // one dense float row
  // W's copy, its float degree scales, the build's double degrees (and the degree order's
  // counts and permutations, smaller).
  const double graph = 8 * n + 8 * (u + 1) + 4 * (u + i) + 8 * (u + i);
  double dense = row * (i + u + i);  // Y_I, F_U, F_I
  if (reordered) dense += row * (i + (user_prior ? u : 0) + u);  // seeds permuted in, F_U mapped back
  // With W^T: W^T and the tiles that replace W and then W^T (6 bytes per entry, 6 per
  // non-empty (row, panel) pair: 12 at most each). The peak is W, W^T and W's tiles, or,
  // once W is freed, W^T and both tilings.
  const double wt = 8 * n + 8 * (i + 1);
  const double tiling = std::max(graph + wt + 12 * n, graph - (8 * n + 8 * (u + 1)) + wt + 24 * n);
  return {tiling + dense, graph + dense + row * i};
}

bool runs_low_memory(LowMemory mode, const Footprint& f, std::uint64_t available) {
  if (mode != LowMemory::automatic) return mode == LowMemory::on;
  return available != 0 && f.with_transpose > static_cast<double>(available);
}

Transpose choose_transpose(const LabelPropagationOptions& options, const Footprint& f, const char* what,
                           bool announce) {
  if (options.low_memory != LowMemory::automatic)
    return options.low_memory == LowMemory::on ? Transpose::none : Transpose::stored;
  const std::uint64_t available = options.memory_budget != 0 ? options.memory_budget : core::available_memory();
  if (!runs_low_memory(options.low_memory, f, available)) return Transpose::stored;
  if (announce)
    fmt::print(stderr,
               "driftrec: label propagation on {}: W and W^T would need about {} but {} is available; "
               "keeping W alone (about {}, one pass per iteration, same results, 1.2-1.5x slower). "
               "low_memory = off / --no-low-memory keeps W^T.\n",
               what, core::format_bytes(f.with_transpose), core::format_bytes(static_cast<double>(available)),
               core::format_bytes(f.low_memory));
  return Transpose::none;
}

DenseMatrix item_seed_labels(const graph::CsrMatrix& item_labels) {
  graph::validate_csr(item_labels, "item_labels");
  DenseMatrix y = DenseMatrix::Zero(item_labels.n_rows, item_labels.n_cols);
  for (Index i = 0; i < item_labels.n_rows; ++i) {
    double sum = 0;
    for (Offset e = item_labels.indptr[i]; e < item_labels.indptr[i + 1]; ++e) {
      const float v = item_labels.data[e];
      if (!std::isfinite(v) || v < 0)
        throw InputError(fmt::format(
            "item_labels: the weight of item {} on label {} is {}; expected finite and >= 0", i,
            item_labels.indices[e], v));
      sum += v;
    }
    if (sum <= 0) continue;  // unlabelled: a zero row
    for (Offset e = item_labels.indptr[i]; e < item_labels.indptr[i + 1]; ++e)
      y(i, item_labels.indices[e]) = static_cast<float>(item_labels.data[e] / sum);
  }
  return y;
}

DenseMatrix row_normalized(const DenseMatrix& f) {
  DenseMatrix out = f;
  for (Eigen::Index r = 0; r < out.rows(); ++r) {
    double sum = 0;
    for (Eigen::Index c = 0; c < out.cols(); ++c) sum += out(r, c);
    if (sum > 0)
      for (Eigen::Index c = 0; c < out.cols(); ++c)
        out(r, c) = static_cast<float>(out(r, c) / sum);
  }
  return out;
}

PropagationResult propagate_labels(const graph::CsrMatrix& w, const graph::CsrMatrix& item_labels,
                                   const DenseMatrix* user_prior,
                                   const LabelPropagationOptions& options,
                                   const ProgressCallback& progress) {
  options.validate();
  if (item_labels.n_rows != w.n_cols)
    throw InputError(fmt::format("item_labels: has {} rows (items) but W has {} columns (items)",
                                 item_labels.n_rows, w.n_cols));
  const DenseMatrix y_items = item_seed_labels(item_labels);
  Seeds seeds;
  seeds.items = view(y_items);
  if (user_prior) {
    if (user_prior->rows() != w.n_rows || user_prior->cols() != item_labels.n_cols)
      throw InputError(fmt::format("user_prior: is {} x {}, expected users x labels = {} x {}",
                                   user_prior->rows(), user_prior->cols(), w.n_rows,
                                   item_labels.n_cols));
    check_finite(*user_prior, "user_prior");
    seeds.users = view(*user_prior);
  }
  std::unique_ptr<Backend> owned;
  const Backend& backend = backend_or_cpu(options.backend, options.threads, owned);
  const bool reordered = options.reorders(w.nnz());
  const Transpose transpose = choose_transpose(
      options, estimate_footprint(w.n_rows, w.n_cols, w.nnz(), item_labels.n_cols, user_prior, reordered), "W");
  if (!reordered)  // the handle owns the graph: nothing else reads it
    return propagate_labels(*backend.prepare(make_bipartite_graph(w, "W", transpose)), seeds, options, progress);
  // Degree order: W relabelled from the caller's matrix (no copy in the original order),
  // the seeds permuted in, F_U and F_I mapped back.
  graph::validate_csr(w, "W");
  check_weights(w, "W");
  const VertexOrder order = degree_order(w);
  auto g = backend.prepare(make_bipartite_graph(relabel(w, order, options.threads), "W", transpose));
  DenseMatrix items_ordered = to_order(seeds.items, order.item_old, options.threads);
  DenseMatrix users_ordered;
  seeds.items = view(std::as_const(items_ordered));
  if (seeds.users.data) {
    users_ordered = to_order(seeds.users, order.user_old, options.threads);
    seeds.users = view(std::as_const(users_ordered));
  }
  PropagationResult r = propagate_labels(*g, seeds, options, progress);
  g.reset();  // the graph and the permuted seeds are not needed for the mapping back
  DenseMatrix().swap(users_ordered);
  DenseMatrix().swap(items_ordered);
  to_original_ids(r, order, options.threads);
  return r;
}

PropagationResult propagate_labels(const PreparedGraph& g, const Seeds& seeds,
                                   const LabelPropagationOptions& options,
                                   const ProgressCallback& progress, std::size_t period) {
  options.validate();
  const Backend& backend = g.backend();
  if (options.backend && options.backend != &backend)
    throw InputError(fmt::format(
        "backend: the options name a '{}' backend but the graph was prepared by another ('{}')",
        options.backend->name(), backend.name()));
  const Index labels = seeds.items.cols;
  if (seeds.items.rows != g.items() || (seeds.items.data == nullptr && labels > 0 && g.items() > 0))
    throw InputError(fmt::format("item seeds: are {} x {}, expected {} items", seeds.items.rows,
                                 labels, g.items()));
  if (seeds.users.data && (seeds.users.rows != g.users() || seeds.users.cols != labels))
    throw InputError(fmt::format("user seeds: are {} x {}, expected users x labels = {} x {}",
                                 seeds.users.rows, seeds.users.cols, g.users(), labels));

  if ((seeds.start_users.data && (seeds.start_users.rows != g.users() || seeds.start_users.cols != labels)) ||
      (seeds.start_items.data && (seeds.start_items.rows != g.items() || seeds.start_items.cols != labels)))
    throw InputError(fmt::format("warm start: is users {} x {} and items {} x {}, expected {} x {} and {} x {}",
                                 seeds.start_users.rows, seeds.start_users.cols, seeds.start_items.rows,
                                 seeds.start_items.cols, g.users(), labels, g.items(), labels));

  PropagationResult result;
  // F(0) = Y: F_U = user_scale * Y_U, F_I = Y_I (or the warm start where given).
  result.user_labels = DenseMatrix::Zero(g.users(), labels);
  if (seeds.users.data)
    result.user_labels =
        seeds.user_scale *
        Eigen::Map<const DenseMatrix>(seeds.users.data, seeds.users.rows, seeds.users.cols);
  result.item_labels = labels > 0 ? DenseMatrix(Eigen::Map<const DenseMatrix>(
                                        seeds.items.data, seeds.items.rows, seeds.items.cols))
                                  : DenseMatrix(g.items(), 0);
  if (seeds.start_users.data)
    result.user_labels = Eigen::Map<const DenseMatrix>(seeds.start_users.data, g.users(), labels);
  if (seeds.start_items.data)
    result.item_labels = Eigen::Map<const DenseMatrix>(seeds.start_items.data, g.items(), labels);

  // F_U <- alpha * S * F_I + (1 - alpha) * user_scale * Y_U, then
  // F_I <- alpha * S^T * F_U + (1 - alpha) * Y_I, on the backend (which may keep F on a device).
  IterationLoop loop;
  loop.alpha = options.alpha;
  loop.f_users = view(result.user_labels);
  loop.f_items = view(result.item_labels);
  loop.seed_users = seeds.users;
  loop.user_seed_scale = seeds.user_scale;
  loop.seed_items = seeds.items;
  loop.max_iterations = options.max_iterations;
  loop.after_iteration = [&](int it, double change_users, double change_items) {
    if (!std::isfinite(change_users) || !std::isfinite(change_items))
      throw NumericalError(fmt::format(
          "label propagation: the scores stopped being finite at iteration {} (period {}); "
          "check the edge weights for values near the float range",
          it, period));
    result.iterations = it;
    result.residual = std::max(change_users, change_items);
    if (progress) progress({period, it, result.residual});
    result.converged = result.residual <= options.tolerance;
    return result.converged;
  };
  backend.iterate(g, loop);
  return result;
}

}  // namespace driftrec::propagation
