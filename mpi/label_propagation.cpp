// The distributed iteration of mpi/label_propagation.hpp.
#include "mpi/label_propagation.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "propagation/cpu/spmm.hpp"

namespace driftrec::mpi {

namespace pr = propagation;

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

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
  // [own rows; ghost rows]; F(0) = Y as in the single process.
  pr::DenseMatrix fu = pr::DenseMatrix::Zero(nu + g.user_ghosts.ghosts(), k);
  pr::DenseMatrix fi = pr::DenseMatrix::Zero(ni + g.item_ghosts.ghosts(), k);
  if (user_prior) fu.topRows(nu) = user_scale * prior_local;
  fi.topRows(ni) = y_local;

  pr::cpu::FusedScales to_users;  // F_U <- alpha S F_I + (1 - alpha) user_scale Y_U
  to_users.out_scale = std::span<const float>(g.user_inv_sqrt_degree).first(static_cast<std::size_t>(nu));
  to_users.in_scale = g.item_inv_sqrt_degree;
  to_users.alpha = options.alpha;
  if (user_prior) to_users.seed = pr::view(prior_local);
  to_users.seed_coef = (1.0f - options.alpha) * (user_prior ? user_scale : 1.0f);
  pr::cpu::FusedScales to_items;  // F_I <- alpha S^T F_U + (1 - alpha) Y_I
  to_items.out_scale = std::span<const float>(g.item_inv_sqrt_degree).first(static_cast<std::size_t>(ni));
  to_items.in_scale = g.user_inv_sqrt_degree;
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
  const auto half_step = [&](const graph::CsrMatrix& a, graph::Index interior, const GhostPlan& plan,
                             const Blocks& side, pr::DenseMatrix& in, graph::Index own_in,
                             const pr::cpu::FusedScales& scales, pr::DenseMatrix& out) {
    const graph::Index rows = a.n_rows;
    const pr::ConstDenseView x = pr::view(std::as_const(in));
    const pr::DenseView y{out.data(), rows, k};
    auto t0 = std::chrono::steady_clock::now();
    // One rank has nothing to wait for: its pieces would only cost (2x the kernel on the
    // 2^24-edge bench at 2 threads). The choice is the same on every rank.
    const bool overlap = how == Exchange::alltoall && overlap_exchange && c.size > 1;
    if (overlap) transfer.start(c, plan, in.data(), own_in, k);
    else exchange_ghosts(c, plan, side, in.data(), own_in, k, how);
    r.exchange_seconds += since(t0);
    float change = 0;
    const auto note = [&](float d) {  // NaN stays
      if (d > change || d != d) change = d;
    };
    graph::Index done = 0;
    if (overlap) {
      while (done < interior) {
        t0 = std::chrono::steady_clock::now();
        graph::Index end = done;
        const graph::Offset limit = a.indptr[done] + piece;
        while (end < interior && a.indptr[end + 1] + (end + 1 - done) <= limit) ++end;
        end = std::max(end, done + 1);
        note(pr::cpu::fused_spmm_rows(a, done, end, scales, x, y, threads));
        done = end;
        const double s = since(t0);
        r.kernel_seconds += s;
        r.interior_seconds += s;
        t0 = std::chrono::steady_clock::now();
        transfer.test();
        r.exchange_seconds += since(t0);
      }
      t0 = std::chrono::steady_clock::now();
      transfer.wait();
      const double s = since(t0);
      r.exchange_seconds += s;
      r.wait_seconds += s;
    }
    t0 = std::chrono::steady_clock::now();
    note(pr::cpu::fused_spmm_rows(a, done, rows, scales, x, y, threads));
    r.kernel_seconds += since(t0);
    return change;
  };
  for (int it = 1; it <= options.max_iterations; ++it) {
    const float change_users =
        half_step(g.user_rows, g.interior_users, g.item_ghosts, g.items, fi, ni, to_users, fu);
    const float change_items =
        half_step(g.item_rows, g.interior_items, g.user_ghosts, g.users, fu, nu, to_items, fi);

    const auto t0 = std::chrono::steady_clock::now();
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
  r.users = to_block(fu.topRows(nu), g.user_order);
  r.items = to_block(fi.topRows(ni), g.item_order);
  return r;
}

}  // namespace driftrec::mpi
