// The distributed iteration of mpi/label_propagation.hpp.
#include "mpi/label_propagation.hpp"

#include <omp.h>

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
                                   const pr::LabelPropagationOptions& options, Exchange how, std::size_t period) {
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
  for (int it = 1; it <= options.max_iterations; ++it) {
    auto t0 = std::chrono::steady_clock::now();
    exchange_ghosts(c, g.item_ghosts, g.items, fi.data(), ni, k, how);
    r.exchange_seconds += since(t0);
    t0 = std::chrono::steady_clock::now();
    const float change_users =
        pr::cpu::fused_spmm(g.user_rows, to_users, pr::view(std::as_const(fi)), {fu.data(), nu, k}, threads);
    r.kernel_seconds += since(t0);
    t0 = std::chrono::steady_clock::now();
    exchange_ghosts(c, g.user_ghosts, g.users, fu.data(), nu, k, how);
    r.exchange_seconds += since(t0);
    t0 = std::chrono::steady_clock::now();
    const float change_items =
        pr::cpu::fused_spmm(g.item_rows, to_items, pr::view(std::as_const(fu)), {fi.data(), ni, k}, threads);
    r.kernel_seconds += since(t0);

    t0 = std::chrono::steady_clock::now();
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
