// Degree ordering and relabelling of propagation/reorder.hpp.
#include "propagation/reorder.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "core/parallel.hpp"

namespace driftrec::propagation {
namespace {

using graph::Index;
using graph::Offset;

std::vector<Index> by_degree(const graph::CsrMatrix& m) {
  std::vector<Index> order(static_cast<std::size_t>(m.n_rows));
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return m.row_length(a) > m.row_length(b); });
  return order;
}

std::vector<Index> inverse(const std::vector<Index>& old_of_new) {
  std::vector<Index> inv(old_of_new.size());
  for (std::size_t p = 0; p < old_of_new.size(); ++p) inv[static_cast<std::size_t>(old_of_new[p])] = static_cast<Index>(p);
  return inv;
}

// A pass over `work` elements: on one thread below 2^16 (a parallel region would cost
// more than the copy), else on `threads` (<= 0: OpenMP's default).
core::ParallelFor pass_over(std::size_t work, int threads, core::Schedule schedule = core::Schedule::fixed,
                            std::int64_t chunk = 1) {
  return {std::max(threads, 0), schedule, chunk, work >= (std::size_t{1} << 16)};
}

void check_rows(ConstDenseView m, std::span<const Index> old_of_new, const char* what) {
  if (static_cast<std::size_t>(m.rows) != old_of_new.size())
    throw InputError(fmt::format("{}: the matrix has {} rows, the order {}", what, m.rows,
                                        old_of_new.size()));
}

}  // namespace

VertexOrder degree_order(const BipartiteGraph& g) {
  if (!g.transpose_stored) return degree_order(g.user_items);
  return {by_degree(g.user_items), by_degree(g.item_users)};
}

VertexOrder degree_order(const graph::CsrMatrix& w) {
  std::vector<Offset> item_degree(static_cast<std::size_t>(w.n_cols), 0);
  for (const Index c : w.indices) ++item_degree[static_cast<std::size_t>(c)];
  VertexOrder order{by_degree(w), std::vector<Index>(static_cast<std::size_t>(w.n_cols))};
  std::iota(order.item_old.begin(), order.item_old.end(), Index{0});
  std::stable_sort(order.item_old.begin(), order.item_old.end(),
                   [&](Index a, Index b) { return item_degree[a] > item_degree[b]; });
  return order;
}

OrderedGraph make_ordered_graph(graph::CsrMatrix w, int threads, const char* what) {
  graph::validate_csr(w, what);
  VertexOrder order = degree_order(w);
  graph::CsrMatrix relabelled = relabel(w, order, threads);
  w = graph::CsrMatrix{};  // release the original before the transpose is built
  return {make_bipartite_graph(std::move(relabelled), what), std::move(order)};
}

graph::CsrMatrix relabel(const graph::CsrMatrix& w, const VertexOrder& order, int threads) {
  if (order.user_old.size() != static_cast<std::size_t>(w.n_rows) ||
      order.item_old.size() != static_cast<std::size_t>(w.n_cols))
    throw InputError(fmt::format("relabel: the order is {} users x {} items, W is {} x {}",
                                        order.user_old.size(), order.item_old.size(), w.n_rows, w.n_cols));
  const std::vector<Index> item_new = inverse(order.item_old);
  graph::CsrMatrix out;
  out.n_rows = w.n_rows;
  out.n_cols = w.n_cols;
  out.indptr.assign(static_cast<std::size_t>(w.n_rows) + 1, 0);
  for (Index p = 0; p < w.n_rows; ++p) out.indptr[p + 1] = out.indptr[p] + w.row_length(order.user_old[p]);
  out.indices.resize(w.indices.size());
  out.data.resize(w.data.size());
  // Each row's (new column, value) pairs, sorted by column, in a per-thread buffer.
  core::parallel_for_with_state(
      w.n_rows, pass_over(w.indices.size(), threads, core::Schedule::dynamic, 256),
      [] { return std::vector<std::pair<Index, float>>(); },
      [&](std::int64_t p, std::vector<std::pair<Index, float>>& row) {
        const Index u = order.user_old[p];
        row.clear();
        for (Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e) row.emplace_back(item_new[w.indices[e]], w.data[e]);
        std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        Offset o = out.indptr[p];
        for (const auto& [c, v] : row) {
          out.indices[o] = c;
          out.data[o] = v;
          ++o;
        }
      });
  return out;
}

DenseMatrix to_order(ConstDenseView m, std::span<const Index> old_of_new, int threads) {
  check_rows(m, old_of_new, "to_order");
  DenseMatrix out(m.rows, m.cols);
  const std::size_t k = static_cast<std::size_t>(m.cols);
  core::parallel_for(m.rows, pass_over(static_cast<std::size_t>(out.size()), threads), [&](std::int64_t p) {
    std::copy_n(m.data + static_cast<std::size_t>(old_of_new[p]) * k, k, out.data() + static_cast<std::size_t>(p) * k);
  });
  return out;
}

void from_order(ConstDenseView m, std::span<const Index> old_of_new, DenseView out, int threads) {
  check_rows(m, old_of_new, "from_order");
  if (out.rows != m.rows || out.cols != m.cols)
    throw InputError(fmt::format("from_order: out is {} x {}, expected {} x {}", out.rows,
                                        out.cols, m.rows, m.cols));
  const std::size_t k = static_cast<std::size_t>(m.cols);
  core::parallel_for(m.rows, pass_over(static_cast<std::size_t>(m.rows) * k, threads), [&](std::int64_t p) {
    std::copy_n(m.data + static_cast<std::size_t>(p) * k, k, out.data + static_cast<std::size_t>(old_of_new[p]) * k);
  });
}

}  // namespace driftrec::propagation
