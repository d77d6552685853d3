// The distributed iteration of mpi/label_propagation.hpp.
#include "mpi/label_propagation.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "mpi/clock.hpp"
#include "mpi/node_window.hpp"
#include "propagation/cpu/spmm.hpp"

namespace driftrec::mpi {

namespace pr = propagation;

DistributedResult propagate_labels(const Comm& c, const DistributedGraph& g, const pr::DenseMatrix& y_items,
                                   const pr::DenseMatrix* user_prior, float user_scale,
                                   const pr::LabelPropagationOptions& options, Exchange how, std::size_t period,
                                   bool overlap_exchange) {
  options.validate();
  const graph::Index k = static_cast<graph::Index>(y_items.cols());
  const graph::Index nu = g.own_users(), ni = g.own_items();
  DRIFTREC_ASSERT(y_items.rows() == ni && (!user_prior || (user_prior->rows() == nu && user_prior->cols() == k)));
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();

  // The seeds in the rank's local order (by degree when the graph is ordered).
  const pr::DenseMatrix y_local = to_local(y_items, g.item_order);
  pr::DenseMatrix prior_local;
  if (user_prior) prior_local = to_local(*user_prior, g.user_order);
  // Where F lives: with the exchange, private [own rows; ghost rows]; with Exchange::shared,
  // the node's windows (mpi/node_window.hpp), each half-step's matrix and input scales
  // with columns renumbered into window rows, and only the off-node ghosts exchanged.
  const bool shared = how == Exchange::shared;
  pr::DenseMatrix fu, fi;
  std::optional<NodeGroup> node;
  std::optional<SharedRows> wu, wi;
  GhostPlan item_plan, user_plan;
  graph::CsrMatrix user_rows, item_rows;
  std::vector<float> item_scale, user_scale_in;
  float *fu_rows = nullptr, *fi_rows = nullptr;
  pr::ConstDenseView xu, xi;  // all of F_U and F_I as the kernels read them
  if (shared) {
    node.emplace(c);
    item_plan = off_node(g.item_ghosts, *node);
    user_plan = off_node(g.user_ghosts, *node);
    wu.emplace(*node, nu + user_plan.ghosts(), k);
    wi.emplace(*node, ni + item_plan.ghosts(), k);
    const auto item_map = window_columns(g.item_ghosts, ni, *node, *wi);
    const auto user_map = window_columns(g.user_ghosts, nu, *node, *wu);
    user_rows = with_columns(g.user_rows, item_map, wi->total_rows());
    item_rows = with_columns(g.item_rows, user_map, wu->total_rows());
    item_scale = with_columns(g.item_inv_sqrt_degree, item_map, wi->total_rows());
    user_scale_in = with_columns(g.user_inv_sqrt_degree, user_map, wu->total_rows());
    fu_rows = wu->mine();
    fi_rows = wi->mine();
    xu = {wu->base(), wu->total_rows(), k};
    xi = {wi->base(), wi->total_rows(), k};
  } else {
    fu = pr::DenseMatrix::Zero(nu + g.user_ghosts.ghosts(), k);
    fi = pr::DenseMatrix::Zero(ni + g.item_ghosts.ghosts(), k);
    fu_rows = fu.data();
    fi_rows = fi.data();
    xu = pr::view(std::as_const(fu));
    xi = pr::view(std::as_const(fi));
  }
  // F(0) = Y as in the single process.
  using Rows = Eigen::Map<pr::DenseMatrix>;
  Rows(fu_rows, nu, k).setZero();
  if (user_prior) Rows(fu_rows, nu, k) = user_scale * prior_local;
  Rows(fi_rows, ni, k) = y_local;
  if (shared) wi->sync();  // every rank's F(0) in place before any reads it
  const graph::CsrMatrix& au = shared ? user_rows : g.user_rows;
  const graph::CsrMatrix& ai = shared ? item_rows : g.item_rows;

  pr::cpu::FusedScales to_users;  // F_U <- alpha S F_I + (1 - alpha) user_scale Y_U
  to_users.out_scale = std::span<const float>(g.user_inv_sqrt_degree).first(static_cast<std::size_t>(nu));
  to_users.in_scale = shared ? std::span<const float>(item_scale) : std::span<const float>(g.item_inv_sqrt_degree);
  to_users.alpha = options.alpha;
  if (user_prior) to_users.seed = pr::view(prior_local);
  to_users.seed_coef = (1.0f - options.alpha) * (user_prior ? user_scale : 1.0f);
  pr::cpu::FusedScales to_items;  // F_I <- alpha S^T F_U + (1 - alpha) Y_I
  to_items.out_scale = std::span<const float>(g.item_inv_sqrt_degree).first(static_cast<std::size_t>(ni));
  to_items.in_scale = shared ? std::span<const float>(user_scale_in) : std::span<const float>(g.user_inv_sqrt_degree);
  to_items.alpha = options.alpha;
  to_items.seed = pr::view(y_local);
  to_items.seed_coef = (1.0f - options.alpha) * 1.0f;

  DistributedResult r;
  GhostTransfer transfer;
  // One half-step: out's own rows from in's own and ghost rows. With the overlap, the ghost
  // rows travel while the interior rows (which read none) are computed, in pieces of about
  // `piece` edges + rows with a test() between them, then the boundary rows; each row is
  // the same sum either way, so only the time changes.
  const graph::Offset piece = static_cast<graph::Offset>(std::max(threads, 1)) * pr::cpu::kMinWorkPerThread;
  // `in`: this rank's rows of the input side, then its ghosts; x: all input rows the kernel
  // reads; out: this rank's output rows (out_window: the shared window they are in).
  const auto half_step = [&](const graph::CsrMatrix& a, graph::Index interior, const GhostPlan& plan,
                             const Blocks& side, float* in, graph::Index own_in, pr::ConstDenseView x,
                             const pr::cpu::FusedScales& scales, float* out, const SharedRows* out_window) {
    const graph::Index rows = a.n_rows;
    const pr::DenseView y{out, rows, k};
    auto t0 = Clock::now();
    // One rank has nothing to wait for: its pieces would only cost (2x the kernel on the
    // 2^24-edge bench at 2 threads). The choice is the same on every rank.
    const bool overlap = how == Exchange::alltoall && overlap_exchange && c.size > 1;
    if (overlap) transfer.start(c, plan, in, own_in, k);
    else exchange_ghosts(c, plan, side, in, own_in, k, how);  // shared: the off-node ghosts
    r.exchange_seconds += since(t0);
    float change = 0;
    const auto note = [&](float d) {  // NaN stays
      if (d > change || d != d) change = d;
    };
    graph::Index done = 0;
    if (overlap) {
      while (done < interior) {
        t0 = Clock::now();
        graph::Index end = done;
        const graph::Offset limit = a.indptr[done] + piece;
        while (end < interior && a.indptr[end + 1] + (end + 1 - done) <= limit) ++end;
        end = std::max(end, done + 1);
        note(pr::cpu::fused_spmm_rows(a, done, end, scales, x, y, threads));
        done = end;
        const double s = since(t0);
        r.kernel_seconds += s;
        r.interior_seconds += s;
        t0 = Clock::now();
        transfer.test();
        r.exchange_seconds += since(t0);
      }
      t0 = Clock::now();
      transfer.wait();
      const double s = since(t0);
      r.exchange_seconds += s;
      r.wait_seconds += s;
    }
    t0 = Clock::now();
    note(pr::cpu::fused_spmm_rows(a, done, rows, scales, x, y, threads));
    r.kernel_seconds += since(t0);
    if (out_window) {  // the new rows visible to the node; nobody still reads the old ones
      t0 = Clock::now();
      out_window->sync();
      r.exchange_seconds += since(t0);
    }
    return change;
  };
  for (int it = 1; it <= options.max_iterations; ++it) {
    const float change_users = half_step(au, g.interior_users, shared ? item_plan : g.item_ghosts, g.items, fi_rows,
                                         ni, xi, to_users, fu_rows, shared ? &*wu : nullptr);
    const float change_items = half_step(ai, g.interior_items, shared ? user_plan : g.user_ghosts, g.users, fu_rows,
                                         nu, xu, to_items, fi_rows, shared ? &*wi : nullptr);

    const auto t0 = Clock::now();
    // A NaN or infinite change anywhere becomes +inf in the max, so every rank sees it.
    double local = std::isfinite(change_users) && std::isfinite(change_items)
                       ? std::max<double>(change_users, change_items)
                       : std::numeric_limits<double>::infinity();
    double global = 0;
    MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, c.comm);
    r.exchange_seconds += since(t0);
    if (!std::isfinite(global))
      throw NumericalError(fmt::format(
          "label propagation: the scores stopped being finite at iteration {} (period {}); "
          "check the edge weights for values near the float range",
          it, period));
    r.iterations = it;
    r.residual = global;
    if (r.residual <= options.tolerance) {
      r.converged = true;
      break;
    }
  }
  r.users = to_block(Rows(fu_rows, nu, k), g.user_order);
  r.items = to_block(Rows(fi_rows, ni, k), g.item_order);
  return r;
}

}  // namespace driftrec::mpi
