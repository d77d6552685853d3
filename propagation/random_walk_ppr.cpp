// Personalised PageRank on items, one step i -> u -> j (see random_walk.hpp):
//   p = c r + (1 - c) T^T p,   T = D_I^-1 W^T D_U^-1 W
// Batched: a block of users is a dense items x block operand X, and one iteration is
//   Y = W (D_I^-1 X)            (Backend::multiply, Side::users)
//   X <- c R + (1 - c) W^T (D_U^-1 Y)   (Backend::multiply, Side::items, stored W^T)
// The single-user form is a plain serial power iteration in double, kept independent.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "propagation/label_propagation.hpp"
#include "propagation/random_walk.hpp"
#include "propagation/random_walk_parts.hpp"

namespace driftrec::propagation {
namespace {

using graph::Index;
using graph::Offset;

// Item rows per block of the dense passes; the per-column L1 sums are added per block and
// then over blocks in order, so the residual does not depend on the thread count (nor,
// in driftrec-mpi, on the rank count).
constexpr Index kRowBlock = kPageRankRowBlock;

void check_users(std::span<const Index> users, Index n_users) {
  for (std::size_t b = 0; b < users.size(); ++b)
    if (users[b] < 0 || users[b] >= n_users)
      throw InputError(fmt::format("users: entry {} is user {}, outside [0, {})", b, users[b], n_users));
}

// Dense passes over fewer entries run on the calling thread.
constexpr Eigen::Index kParallelEntries = 65536;

// m.row(r) *= scale[r] for every row.
void scale_rows(DenseMatrix& m, const std::vector<float>& scale, int threads) {
  core::parallel_for(m.rows(), {threads, core::Schedule::fixed, 1, m.size() > kParallelEntries},
                     [&](std::int64_t r) { m.row(r) *= scale[static_cast<std::size_t>(r)]; });
}

// z <- c r + (1 - c) z, returning per column sum_i |z_new - x| (the L1 change per user).
std::vector<double> restart_and_change(DenseMatrix& z, const DenseMatrix& x, const DenseMatrix& r,
                                       float c, int threads) {
  const Index rows = static_cast<Index>(z.rows()), cols = static_cast<Index>(z.cols());
  const Index blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<double> partial(static_cast<std::size_t>(blocks) * cols, 0.0);
  core::parallel_for(blocks, {threads, core::Schedule::fixed, 1, z.size() > kParallelEntries},
                     [&](std::int64_t blk) {
                       double* sum = partial.data() + static_cast<std::size_t>(blk) * cols;
                       const Index end = std::min<Index>(rows, static_cast<Index>(blk + 1) * kRowBlock);
                       restart_rows(z, x, r, c, static_cast<Index>(blk) * kRowBlock, end, sum);
                     });
  std::vector<double> change(static_cast<std::size_t>(cols), 0.0);
  for (Index blk = 0; blk < blocks; ++blk)
    for (Index b = 0; b < cols; ++b) change[b] += partial[static_cast<std::size_t>(blk) * cols + b];
  return change;
}

}  // namespace

std::vector<float> inverse_row_sums(const graph::CsrMatrix& m) {
  std::vector<float> out(static_cast<std::size_t>(m.n_rows), 0.0f);
  for (Index r = 0; r < m.n_rows; ++r) {
    double sum = 0;
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) sum += m.data[e];
    if (sum > 0) out[r] = static_cast<float>(1.0 / sum);
  }
  return out;
}

void restart_rows(DenseMatrix& z, const DenseMatrix& x, const DenseMatrix& r, float c, Index r0, Index r1,
                  double* sum) {
  const Index cols = static_cast<Index>(z.cols());
  for (Index i = r0; i < r1; ++i)
    for (Index b = 0; b < cols; ++b) {
      z(i, b) = c * r(i, b) + (1 - c) * z(i, b);
      sum[b] += std::abs(static_cast<double>(z(i, b)) - x(i, b));
    }
}

void best_items(const float* p, Index n, const char* seen, Index first_item, int k, std::vector<ScoredItem>& out) {
  out.clear();
  for (Index j = 0; j < n; ++j)
    if (p[j] > 0 && !(seen && seen[j])) out.push_back({first_item + j, p[j]});
  keep_best(out, k);
}

void PageRankOptions::validate() const {
  if (!(restart_probability > 0 && restart_probability <= 1))
    throw InputError(
        fmt::format("restart_probability: expected a value in (0, 1], got {}", restart_probability));
  if (!(tolerance >= 0 && std::isfinite(tolerance)))
    throw InputError(fmt::format("tolerance: expected a finite value >= 0, got {}", tolerance));
  if (max_iterations < 1)
    throw InputError(fmt::format("max_iterations: expected at least 1, got {}", max_iterations));
  if (block < 1) throw InputError(fmt::format("block: expected at least 1 user, got {}", block));
  if (threads < 0)
    throw InputError(
        fmt::format("threads: expected 0 (OpenMP's default) or a positive count, got {}", threads));
}

namespace {

// The batched iteration on g, whose products run on pg (g prepared on its backend).
PageRankResult pagerank_blocks(const BipartiteGraph& g, const PreparedGraph& pg,
                               std::span<const Index> users, const PageRankOptions& o) {
  const Backend& backend = pg.backend();
  const int threads = o.threads;
  const float c = o.restart_probability;
  const std::vector<float> inv_deg_user = inverse_row_sums(g.user_items);
  const std::vector<float> inv_deg_item = inverse_row_sums(g.item_users);
  const Index n_items = g.items();

  PageRankResult result;
  result.scores = DenseMatrix::Zero(static_cast<Eigen::Index>(users.size()), n_items);
  result.converged = true;
  for (std::size_t b0 = 0; b0 < users.size(); b0 += static_cast<std::size_t>(o.block)) {
    const Index nb = static_cast<Index>(std::min(users.size() - b0, static_cast<std::size_t>(o.block)));
    // R: column b is the restart vector of users[b0 + b], W_u. / deg_u.
    DenseMatrix r = DenseMatrix::Zero(n_items, nb);
    for (Index b = 0; b < nb; ++b) {
      const Index u = users[b0 + static_cast<std::size_t>(b)];
      for (Offset e = g.user_items.indptr[u]; e < g.user_items.indptr[u + 1]; ++e)
        r(g.user_items.indices[e], b) = g.user_items.data[e] * inv_deg_user[u];
    }
    DenseMatrix x = r, xs(n_items, nb), y(g.users(), nb), z(n_items, nb);
    int it = 0;
    double residual = 0;
    bool converged = false;
    while (!converged && it < o.max_iterations) {
      ++it;
      xs = x;
      scale_rows(xs, inv_deg_item, threads);       // D_I^-1 X
      backend.multiply(pg, Side::users, view(std::as_const(xs)), view(y));  // Y = W D_I^-1 X
      scale_rows(y, inv_deg_user, threads);        // D_U^-1 Y
      backend.multiply(pg, Side::items, view(std::as_const(y)), view(z));   // Z = W^T D_U^-1 Y
      const std::vector<double> change = restart_and_change(z, x, r, c, threads);  // Z = cR + (1-c)Z
      residual = *std::max_element(change.begin(), change.end());
      if (!std::isfinite(residual))
        throw NumericalError(fmt::format(
            "personalised PageRank: the scores stopped being finite at iteration {} (users {}..{})",
            it, b0, b0 + static_cast<std::size_t>(nb) - 1));
      std::swap(x, z);
      converged = residual <= o.tolerance;
    }
    result.scores.middleRows(static_cast<Eigen::Index>(b0), nb) = x.transpose();
    result.iterations = std::max(result.iterations, it);
    result.residual = std::max(result.residual, residual);
    result.converged = result.converged && converged;
  }
  return result;
}

}  // namespace

PageRankResult personalized_pagerank(const BipartiteGraph& g, std::span<const Index> users,
                                     const PageRankOptions& o) {
  o.validate();
  check_users(users, g.users());
  std::unique_ptr<Backend> owned;
  const Backend& backend = backend_or_cpu(o.backend, o.threads, owned);
  return pagerank_blocks(g, *backend.prepare(g), users, o);
}

PageRankResult personalized_pagerank(const graph::CsrMatrix& w, std::span<const Index> users,
                                     const PageRankOptions& o) {
  o.validate();
  return personalized_pagerank(make_bipartite_graph(w, "W"), users, o);
}

UserPageRank personalized_pagerank(const graph::CsrMatrix& w, Index user, const PageRankOptions& o) {
  o.validate();
  const BipartiteGraph g = make_bipartite_graph(w, "W");  // validates W
  const graph::CsrMatrix& m = g.user_items;
  check_users({&user, 1}, m.n_rows);
  std::vector<double> deg_u(static_cast<std::size_t>(m.n_rows), 0.0), deg_i(static_cast<std::size_t>(m.n_cols), 0.0);
  for (Index u = 0; u < m.n_rows; ++u)
    for (Offset e = m.indptr[u]; e < m.indptr[u + 1]; ++e) {
      deg_u[u] += m.data[e];
      deg_i[m.indices[e]] += m.data[e];
    }
  std::vector<double> r(static_cast<std::size_t>(m.n_cols), 0.0);
  if (deg_u[user] > 0)  // else r = 0: a user with no items (or only stored zeros)
    for (Offset e = m.indptr[user]; e < m.indptr[user + 1]; ++e)
      r[m.indices[e]] = m.data[e] / deg_u[user];
  const double c = o.restart_probability;

  UserPageRank out;
  std::vector<double> p = r, next(r.size()), y(deg_u.size());
  while (!out.converged && out.iterations < o.max_iterations) {
    ++out.iterations;
    for (Index u = 0; u < m.n_rows; ++u) {  // y_u = sum_i W_ui p_i / deg_i
      y[u] = 0;
      for (Offset e = m.indptr[u]; e < m.indptr[u + 1]; ++e)
        if (m.data[e] > 0) y[u] += m.data[e] * p[m.indices[e]] / deg_i[m.indices[e]];
    }
    for (std::size_t j = 0; j < next.size(); ++j) next[j] = c * r[j];
    for (Index u = 0; u < m.n_rows; ++u)  // next_j += (1 - c) sum_u W_uj y_u / deg_u
      for (Offset e = m.indptr[u]; e < m.indptr[u + 1]; ++e)
        if (m.data[e] > 0) next[m.indices[e]] += (1 - c) * m.data[e] * y[u] / deg_u[u];
    out.residual = 0;
    for (std::size_t j = 0; j < next.size(); ++j) out.residual += std::abs(next[j] - p[j]);
    if (!std::isfinite(out.residual))
      throw NumericalError(fmt::format(
          "personalised PageRank: the scores stopped being finite at iteration {} (user {})",
          out.iterations, user));
    std::swap(p, next);
    out.converged = out.residual <= o.tolerance;
  }
  out.scores.assign(p.begin(), p.end());
  return out;
}

PageRankTopItems pagerank_top_items(const BipartiteGraph& g, const PageRankOptions& o,
                                    const RecommendOptions& recommend,
                                    const std::function<void(Index, Index)>& on_chunk) {
  o.validate();
  recommend.validate();
  std::unique_ptr<Backend> owned;
  const Backend& backend = backend_or_cpu(o.backend, o.threads, owned);
  const auto pg = backend.prepare(g);  // once, for every chunk
  const Index n_users = g.users(), n_items = g.items();
  PageRankTopItems out;
  out.top.users = n_users;
  out.top.k = recommend.k;
  out.top.items.assign(static_cast<std::size_t>(n_users) * recommend.k, -1);
  out.top.scores.assign(out.top.items.size(), -std::numeric_limits<float>::infinity());
  // About 64 MiB of dense scores per chunk, and whole blocks of users.
  const Index per_chunk = std::max<Index>(
      o.block, static_cast<Index>(std::min<std::int64_t>(n_users, (std::int64_t{1} << 24) / std::max<Index>(n_items, 1))) /
                   o.block * o.block);
  std::vector<Index> users;
  for (Index first = 0; first < n_users; first += per_chunk) {
    const Index last = std::min(n_users, first + per_chunk);
    users.resize(static_cast<std::size_t>(last - first));
    for (Index u = first; u < last; ++u) users[static_cast<std::size_t>(u - first)] = u;
    const PageRankResult r = pagerank_blocks(g, *pg, users, o);
    out.iterations = std::max(out.iterations, r.iterations);
    out.residual = std::max(out.residual, r.residual);
    out.converged = out.converged && r.converged;
    // Per thread: the candidate list and a 0/1 mark of the user's own items.
    struct Scratch {
      std::vector<ScoredItem> candidates;
      std::vector<char> seen;
    };
    core::parallel_for_with_state(
        last - first, {o.threads, core::Schedule::dynamic, 16},
        [&] { return Scratch{{}, std::vector<char>(static_cast<std::size_t>(n_items), 0)}; },
        [&](std::int64_t offset, Scratch& s) {
          const Index u = first + static_cast<Index>(offset);
          const auto& w = g.user_items;
          if (!recommend.include_seen)
            for (Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e)
              if (w.data[e] > 0) s.seen[w.indices[e]] = 1;
          const float* p = r.scores.data() + static_cast<std::size_t>(offset) * n_items;
          best_items(p, n_items, s.seen.data(), 0, recommend.k, s.candidates);
          for (std::size_t i = 0; i < s.candidates.size(); ++i) {
            out.top.items[static_cast<std::size_t>(u) * recommend.k + i] = s.candidates[i].item;
            out.top.scores[static_cast<std::size_t>(u) * recommend.k + i] = s.candidates[i].score;
          }
          for (Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e) s.seen[w.indices[e]] = 0;
        });
    if (on_chunk) on_chunk(last, n_users);
  }
  return out;
}

}  // namespace driftrec::propagation
