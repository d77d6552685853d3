// The distributed personalised PageRank of mpi/pagerank.hpp.
#include "mpi/pagerank.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "mpi/clock.hpp"
#include "propagation/cpu/spmm.hpp"
#include "propagation/random_walk_parts.hpp"

namespace driftrec::mpi {

namespace pr = propagation;
using graph::Index;
using graph::Offset;
using pr::DenseMatrix;

namespace {

constexpr int kChainTag = 4343;
constexpr Index kRowBlock = pr::kPageRankRowBlock;

// The restart on the rank's item rows, z <- c r + (1 - c) z, and each column's L1 change
// over all items, summed as the single process sums it (mpi/pagerank.hpp).
std::vector<double> column_changes(const Comm& c, const Blocks& items, DenseMatrix& z, const DenseMatrix& x,
                                   const DenseMatrix& r, float restart, int threads) {
  const Index cols = static_cast<Index>(z.cols()), n = items.bounds.back();
  const Index i0 = items.begin(c.rank), i1 = items.end(c.rank);
  const std::size_t uc = static_cast<std::size_t>(cols);
  if (n == 0) return std::vector<double>(uc, 0.0);
  // The head [i0, head_end) continues a block begun on an earlier rank; the other pieces
  // start on block boundaries and do not depend on the chain.
  const Index head_end = i0 % kRowBlock == 0 ? i0 : std::min(i1, (i0 / kRowBlock + 1) * kRowBlock);
  std::vector<Index> starts;
  for (Index s = head_end; s < i1; s = (s / kRowBlock + 1) * kRowBlock) starts.push_back(s);
  std::vector<double> partial(starts.size() * uc, 0.0);
  const bool parallel = static_cast<std::int64_t>(i1 - i0) * cols > 65536;
  core::parallel_for(static_cast<std::int64_t>(starts.size()), {threads, core::Schedule::fixed, 1, parallel},
                     [&](std::int64_t p) {
                       const Index s = starts[static_cast<std::size_t>(p)], e = std::min(i1, s + kRowBlock);
                       pr::restart_rows(z, x, r, restart, s - i0, e - i0, partial.data() + static_cast<std::size_t>(p) * uc);
                     });
  const auto closes = [&](Index end) { return end % kRowBlock == 0 || end == n; };
  std::vector<double> state(2 * uc, 0.0);  // the finished blocks' sum, then the open block's
  double* done = state.data();
  double* open = state.data() + uc;
  if (i0 < i1) {
    if (i0 > 0)
      MPI_Recv(state.data(), 2 * cols, MPI_DOUBLE, items.owner(i0 - 1), kChainTag, c.comm, MPI_STATUS_IGNORE);
    if (head_end > i0) {
      pr::restart_rows(z, x, r, restart, 0, head_end - i0, open);
      if (closes(head_end))
        for (std::size_t b = 0; b < uc; ++b) {
          done[b] += open[b];
          open[b] = 0;
        }
    }
    for (std::size_t p = 0; p < starts.size(); ++p) {
      const double* sum = partial.data() + p * uc;
      if (closes(std::min(i1, starts[p] + kRowBlock)))
        for (std::size_t b = 0; b < uc; ++b) done[b] += sum[b];
      else
        std::copy_n(sum, uc, open);  // the last piece, its block finished by the next rank
    }
    if (i1 < n) {
      traffic().exchange_bytes += state.size() * sizeof(double);
      MPI_Send(state.data(), 2 * cols, MPI_DOUBLE, items.owner(i1), kChainTag, c.comm);
    }
  }
  MPI_Bcast(state.data(), cols, MPI_DOUBLE, items.owner(n - 1), c.comm);
  state.resize(uc);
  return state;
}

// out[b * k + i] for the best k of column b of x (own items, global ids from i0), without
// the marked ones.
void local_best(const DenseMatrix& x, const std::vector<char>& seen, Index i0, int k, int threads,
                std::vector<std::int32_t>& items, std::vector<float>& scores) {
  const Index ni = static_cast<Index>(x.rows()), nb = static_cast<Index>(x.cols());
  items.assign(static_cast<std::size_t>(nb) * k, -1);
  scores.assign(items.size(), -std::numeric_limits<float>::infinity());
  struct Scratch {
    std::vector<float> p;
    std::vector<char> seen;
    std::vector<pr::ScoredItem> best;
  };
  core::parallel_for_with_state(
      nb, {threads, core::Schedule::dynamic, 1, static_cast<std::int64_t>(ni) * nb > 65536},
      [&] { return Scratch{std::vector<float>(static_cast<std::size_t>(ni)), std::vector<char>(static_cast<std::size_t>(ni)), {}}; },
      [&](std::int64_t b, Scratch& s) {
        for (Index j = 0; j < ni; ++j) {
          s.p[j] = x(j, b);
          s.seen[j] = seen.empty() ? 0 : seen[static_cast<std::size_t>(j) * nb + b];
        }
        pr::best_items(s.p.data(), ni, s.seen.data(), i0, k, s.best);
        for (std::size_t i = 0; i < s.best.size(); ++i) {
          items[static_cast<std::size_t>(b) * k + i] = s.best[i].item;
          scores[static_cast<std::size_t>(b) * k + i] = s.best[i].score;
        }
      });
}

// Block [b0, b0 + nb)'s lists (items, scores: nb x top.k, this rank's best of its items)
// sent to the users' owners, one MPI_Alltoallv each; each owner merges the ranks' lists of
// its users (keep_best's total order) into their rows of `top` (its own users).
void merge_at_owners(const Comm& c, const Blocks& users, Index b0, Index nb, const std::vector<std::int32_t>& items,
                     const std::vector<float>& scores, pr::TopItems& top) {
  const int k = top.k;
  const auto within = [&](int q, Index u) { return std::clamp(u, users.begin(q), users.end(q)); };
  const Index m0 = within(c.rank, b0), m1 = within(c.rank, b0 + nb);  // this rank's users of the block
  const std::size_t p = static_cast<std::size_t>(c.size);
  std::vector<int> send_counts(p), send_at(p), recv_counts(p), recv_at(p);
  for (int q = 0; q < c.size; ++q) {
    send_counts[q] = static_cast<int>(within(q, b0 + nb) - within(q, b0)) * k;
    send_at[q] = static_cast<int>(within(q, b0) - b0) * k;
    recv_counts[q] = static_cast<int>(m1 - m0) * k;
    recv_at[q] = q * recv_counts[q];
  }
  std::vector<std::int32_t> got_items(p * static_cast<std::size_t>(recv_counts[0]));
  std::vector<float> got_scores(got_items.size());
  MPI_Alltoallv(items.data(), send_counts.data(), send_at.data(), MPI_INT32_T, got_items.data(), recv_counts.data(),
                recv_at.data(), MPI_INT32_T, c.comm);
  MPI_Alltoallv(scores.data(), send_counts.data(), send_at.data(), MPI_FLOAT, got_scores.data(), recv_counts.data(),
                recv_at.data(), MPI_FLOAT, c.comm);
  std::vector<pr::ScoredItem> merged;
  for (Index u = m0; u < m1; ++u) {
    merged.clear();
    for (int q = 0; q < c.size; ++q)
      for (int i = 0; i < k; ++i) {
        const std::size_t at = static_cast<std::size_t>(recv_at[q] + (u - m0) * k + i);
        if (got_items[at] >= 0) merged.push_back({got_items[at], got_scores[at]});
      }
    pr::keep_best(merged, k);
    const std::size_t row = static_cast<std::size_t>(u - users.begin(c.rank)) * k;
    for (std::size_t i = 0; i < merged.size(); ++i) {
      top.items[row + i] = merged[i].item;
      top.scores[row + i] = merged[i].score;
    }
  }
}

}  // namespace

PageRankPart distributed_pagerank(const Comm& c, const DistributedGraph& g, const pr::PageRankOptions& o,
                                  const pr::RecommendOptions& recommend, Exchange how) {
  o.validate();
  recommend.validate();
  DRIFTREC_ASSERT(g.user_order.empty() && g.item_order.empty());
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  const Index nu = g.own_users(), ni = g.own_items(), n_users = g.users.bounds.back();
  const Index u0 = g.users.begin(c.rank), i0 = g.items.begin(c.rank);
  const float restart = o.restart_probability;
  const int k = recommend.k;
  const std::vector<float> inv_deg_item = pr::inverse_row_sums(g.item_rows);
  std::vector<float> inv_deg_user = pr::inverse_row_sums(g.user_rows);  // own users, then ghosts
  inv_deg_user.resize(static_cast<std::size_t>(nu + g.user_ghosts.ghosts()));
  exchange_ghosts(c, g.user_ghosts, g.users, inv_deg_user.data(), nu, 1, Exchange::alltoall);
  // The global user of each edge of the rank's W^T rows (compact ids: own users, then ghosts).
  const graph::CsrMatrix& iu = g.item_rows;
  std::vector<Index> edge_user(iu.indices.size());
  for (std::size_t e = 0; e < edge_user.size(); ++e)
    edge_user[e] = iu.indices[e] < nu ? u0 + iu.indices[e] : g.user_ghosts.ghost_ids[iu.indices[e] - nu];

  PageRankPart out;
  out.top.users = nu;
  out.top.k = k;
  out.top.items.assign(static_cast<std::size_t>(nu) * k, -1);
  out.top.scores.assign(out.top.items.size(), -std::numeric_limits<float>::infinity());
  std::vector<std::int32_t> items;
  std::vector<float> scores;
  for (Index b0 = 0; b0 < n_users; b0 += o.block) {
    const Index nb = std::min<Index>(o.block, n_users - b0);
    // R: column b is user b0 + b's row of W over its degree, at the rank's items; the
    // user's own items are marked.
    DenseMatrix r = DenseMatrix::Zero(ni, nb);
    std::vector<char> seen(recommend.include_seen ? 0 : static_cast<std::size_t>(ni) * nb, 0);
    for (Index j = 0; j < ni; ++j)
      for (Offset e = iu.indptr[j]; e < iu.indptr[j + 1]; ++e) {
        const Index b = edge_user[static_cast<std::size_t>(e)] - b0;
        if (b < 0 || b >= nb) continue;
        r(j, b) = iu.data[e] * inv_deg_user[iu.indices[e]];
        if (!seen.empty() && iu.data[e] > 0) seen[static_cast<std::size_t>(j) * nb + b] = 1;
      }
    DenseMatrix x = r, z(ni, nb);
    DenseMatrix xs(ni + g.item_ghosts.ghosts(), nb), y(nu + g.user_ghosts.ghosts(), nb);
    int it = 0;
    double residual = 0;
    bool converged = false;
    while (!converged && it < o.max_iterations) {
      ++it;
      auto t0 = Clock::now();
      xs.topRows(ni) = x;
      for (Index i = 0; i < ni; ++i) xs.row(i) *= inv_deg_item[i];  // D_I^-1 X
      out.kernel_seconds += since(t0);
      t0 = Clock::now();
      exchange_ghosts(c, g.item_ghosts, g.items, xs.data(), ni, nb, how);
      out.exchange_seconds += since(t0);
      t0 = Clock::now();
      pr::cpu::spmm(g.user_rows, pr::view(std::as_const(xs)), pr::DenseView{y.data(), nu, nb}, threads);  // W D_I^-1 X
      for (Index u = 0; u < nu; ++u) y.row(u) *= inv_deg_user[u];  // D_U^-1 Y
      out.kernel_seconds += since(t0);
      t0 = Clock::now();
      exchange_ghosts(c, g.user_ghosts, g.users, y.data(), nu, nb, how);
      out.exchange_seconds += since(t0);
      t0 = Clock::now();
      pr::cpu::spmm(iu, pr::view(std::as_const(y)), pr::view(z), threads);  // W^T D_U^-1 Y
      out.kernel_seconds += since(t0);
      t0 = Clock::now();
      const std::vector<double> change = column_changes(c, g.items, z, x, r, restart, threads);  // Z = cR + (1-c)Z
      out.exchange_seconds += since(t0);
      residual = *std::max_element(change.begin(), change.end());
      if (!std::isfinite(residual))
        throw NumericalError(fmt::format(
            "personalised PageRank: the scores stopped being finite at iteration {} (users {}..{})", it, b0,
            b0 + nb - 1));
      std::swap(x, z);
      converged = residual <= o.tolerance;
    }
    out.iterations = std::max(out.iterations, it);
    out.column_iterations += static_cast<std::int64_t>(it) * nb;
    out.residual = std::max(out.residual, residual);
    out.converged = out.converged && converged;

    // Each rank's best k per user, sent to the user's owner and merged there.
    local_best(x, seen, i0, k, threads, items, scores);
    merge_at_owners(c, g.users, b0, nb, items, scores, out.top);
  }
  return out;
}

}  // namespace driftrec::mpi
