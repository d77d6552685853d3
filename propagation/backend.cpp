// BipartiteGraph: W, its stored transpose and the inverse square roots of the weighted
// degrees, D_U^-1/2 and D_I^-1/2 of S = D_U^-1/2 W D_I^-1/2 (Zhou et al. 2004, in the
// bipartite form of docs/math.md, "Temporal label propagation"); and the public entry points
// of Backend, which check every argument once so that no backend's kernels need to.
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "propagation/backend.hpp"

namespace driftrec::propagation {
namespace {

using graph::Index;
using graph::Offset;

void check_owner(const Backend& backend, const PreparedGraph& g, const char* what) {
  if (&g.backend() != &backend)
    throw InputError(fmt::format(
        "{}: the graph was prepared by another backend ('{}'); prepare it with this one ('{}')",
        what, g.backend().name(), backend.name()));
}

// y = A x with A rows x cols: x is cols x k, y rows x k.
void check_product_shape(const char* what, Index a_rows, Index a_cols, ConstDenseView x,
                         DenseView y) {
  if (x.rows != a_cols || y.rows != a_rows || x.cols != y.cols)
    throw InputError(fmt::format(
        "{}: operands are x {} x {} and y {} x {}, expected x {} x k and y {} x k", what,
        x.rows, x.cols, y.rows, y.cols, a_cols, a_rows));
  if (x.cols < 0) throw InputError(fmt::format("{}: negative column count {}", what, x.cols));
  if ((x.data == nullptr && x.rows > 0 && x.cols > 0) ||
      (y.data == nullptr && y.rows > 0 && y.cols > 0))
    throw InputError(fmt::format("{}: a non-empty operand has no data", what));
}

std::vector<float> inv_sqrt(const std::vector<double>& degree) {
  std::vector<float> out(degree.size());
  for (std::size_t i = 0; i < degree.size(); ++i)
    out[i] = degree[i] > 0 ? static_cast<float>(1.0 / std::sqrt(degree[i])) : 0.0f;
  return out;
}

}  // namespace

void check_edge_weights(const graph::CsrMatrix& w, const char* what, Index row0) {
  for (Index r = 0; r < w.n_rows; ++r)
    for (Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e)
      if (const float v = w.data[e]; !std::isfinite(v) || v < 0)
        throw InputError(fmt::format(
            "{}: the value at row {}, column {} is {}; edge weights must be finite and >= 0",
            what, row0 + r, w.indices[e], v));
}

BipartiteGraph make_bipartite_graph(graph::CsrMatrix w, const char* what, Transpose transpose) {
  graph::validate_csr(w, what);
  check_edge_weights(w, what);
  std::vector<double> user_degree(static_cast<std::size_t>(w.n_rows), 0.0);
  std::vector<double> item_degree(static_cast<std::size_t>(w.n_cols), 0.0);
  for (Index r = 0; r < w.n_rows; ++r)
    for (Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e) {
      user_degree[r] += w.data[e];
      item_degree[w.indices[e]] += w.data[e];
    }
  BipartiteGraph g;
  g.transpose_stored = transpose == Transpose::stored;
  if (g.transpose_stored) {
    g.item_users = graph::transpose(w);
  } else {
    g.item_users.n_rows = 0;  // 0 x 0: nothing stored
    g.item_users.n_cols = 0;
  }
  g.user_items = std::move(w);
  g.user_inv_sqrt_degree = inv_sqrt(user_degree);
  g.item_inv_sqrt_degree = inv_sqrt(item_degree);
  return g;
}

void BackendOptions::validate() const {
  if (threads < 0)
    throw InputError(fmt::format(
        "threads: expected 0 (OpenMP's default) or a positive count, got {}", threads));
}

std::unique_ptr<PreparedGraph> Backend::prepare(const BipartiteGraph& g) const {
  std::unique_ptr<PreparedGraph> out = prepare_impl(g);
  DRIFTREC_ASSERT(out && &out->backend() == this);
  return out;
}

std::unique_ptr<PreparedGraph> Backend::prepare(BipartiteGraph&& g) const {
  std::unique_ptr<PreparedGraph> out = prepare_impl(std::move(g));
  DRIFTREC_ASSERT(out && &out->backend() == this);
  return out;
}

graph::CsrMatrix Backend::take_user_items(std::unique_ptr<PreparedGraph> g) const {
  if (!g || &g->backend() != this)
    throw std::logic_error("take_user_items: the handle is null or was prepared by another backend");
  if (!hands_back_user_items())
    throw std::logic_error(fmt::format("take_user_items: the '{}' backend does not hand W back", name()));
  return take_user_items_impl(*g);
}

graph::CsrMatrix Backend::take_user_items_impl(PreparedGraph&) const {
  throw std::logic_error(fmt::format("take_user_items: the '{}' backend does not hand W back", name()));
}

void Backend::multiply(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const {
  const bool users = out == Side::users;
  const char* what = users ? "multiply (W x)" : "multiply (W^T x)";
  check_owner(*this, g, what);
  check_product_shape(what, users ? g.users() : g.items(), users ? g.items() : g.users(), x, y);
  multiply_impl(g, out, x, y);
}

double Backend::half_step(const PreparedGraph& g, const HalfStep& step) const {
  const bool users = step.out == Side::users;
  const char* what = users ? "half_step (users)" : "half_step (items)";
  check_owner(*this, g, what);
  check_product_shape(what, users ? g.users() : g.items(), users ? g.items() : g.users(),
                      step.f_in, step.f_out);
  if (step.seed.data && (step.seed.rows != step.f_out.rows || step.seed.cols != step.f_out.cols))
    throw InputError(fmt::format("{}: seed is {} x {}, expected {} x {}", what, step.seed.rows,
                                 step.seed.cols, step.f_out.rows, step.f_out.cols));
  return half_step_impl(g, step);
}

int Backend::iterate(const PreparedGraph& g, const IterationLoop& loop) const {
  const char* what = "iterate";
  check_owner(*this, g, what);
  check_product_shape("iterate (users)", g.users(), g.items(), loop.f_items, loop.f_users);
  check_product_shape("iterate (items)", g.items(), g.users(), loop.f_users, loop.f_items);
  for (const auto& [seed, f, side] : {std::tuple{loop.seed_users, loop.f_users, "user"},
                                      std::tuple{loop.seed_items, loop.f_items, "item"}})
    if (seed.data && (seed.rows != f.rows || seed.cols != f.cols))
      throw InputError(fmt::format("{}: the {} seed is {} x {}, expected {} x {}", what, side, seed.rows, seed.cols,
                                   f.rows, f.cols));
  if (loop.max_iterations < 1 || !loop.after_iteration)
    throw InputError(fmt::format("{}: expected max_iterations >= 1 and an after_iteration callback", what));
  return iterate_impl(g, loop);
}

int Backend::iterate_impl(const PreparedGraph& g, const IterationLoop& loop) const {
  for (int it = 1; it <= loop.max_iterations; ++it) {
    // F_U <- alpha * S * F_I + (1 - alpha) * user_seed_scale * Y_U, then
    // F_I <- alpha * S^T * F_U + (1 - alpha) * Y_I, as one iteration_impl (the CPU backend
    // fuses the two products into one pass over W).
    Iteration step;
    step.alpha = loop.alpha;
    step.f_users = loop.f_users;
    step.f_items = loop.f_items;
    step.seed_users = loop.seed_users;
    step.seed_scale_users = loop.user_seed_scale;
    step.seed_items = loop.seed_items;
    const IterationChange change = iteration_impl(g, step);
    if (loop.after_iteration(it, change.users, change.items)) return it;
  }
  return loop.max_iterations;
}

IterationChange Backend::iteration(const PreparedGraph& g, const Iteration& it) const {
  check_owner(*this, g, "iteration");
  check_product_shape("iteration (users)", g.users(), g.items(), it.f_items, it.f_users);
  check_product_shape("iteration (items)", g.items(), g.users(), it.f_users, it.f_items);
  if (it.seed_users.data && (it.seed_users.rows != it.f_users.rows || it.seed_users.cols != it.f_users.cols))
    throw InputError(fmt::format("iteration: the users' seed is {} x {}, expected {} x {}",
                                 it.seed_users.rows, it.seed_users.cols, it.f_users.rows, it.f_users.cols));
  if (it.seed_items.data && (it.seed_items.rows != it.f_items.rows || it.seed_items.cols != it.f_items.cols))
    throw InputError(fmt::format("iteration: the items' seed is {} x {}, expected {} x {}",
                                 it.seed_items.rows, it.seed_items.cols, it.f_items.rows, it.f_items.cols));
  return iteration_impl(g, it);
}

IterationChange Backend::iteration_impl(const PreparedGraph& g, const Iteration& it) const {
  return two_half_steps(g, it);
}

IterationChange Backend::two_half_steps(const PreparedGraph& g, const Iteration& it) const {
  HalfStep users{Side::users, it.alpha, it.f_items, it.f_users, it.seed_users, it.seed_scale_users};
  IterationChange out;
  out.users = half_step_impl(g, users);
  HalfStep items{Side::items, it.alpha, it.f_users, it.f_items, it.seed_items, it.seed_scale_items};
  out.items = half_step_impl(g, items);
  return out;
}

const Backend& backend_or_cpu(const Backend* chosen, int threads, std::unique_ptr<Backend>& owned) {
  if (chosen) return *chosen;
  owned = make_backend("cpu", BackendOptions{threads});
  return *owned;
}

}  // namespace driftrec::propagation
