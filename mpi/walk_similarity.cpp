// The distributed item-item similarity and top items of mpi/walk_similarity.hpp.
#include "mpi/walk_similarity.hpp"

#include <utility>

#include "mpi/sparse_rows.hpp"
#include "propagation/random_walk_parts.hpp"

namespace driftrec::mpi {

namespace pr = propagation;
using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

namespace {

// [top; bottom]: rows appended, columns as they are.
CsrMatrix stacked(const CsrMatrix& top, const CsrMatrix& bottom) {
  CsrMatrix m;
  m.n_rows = top.n_rows + bottom.n_rows;
  m.n_cols = top.n_cols;
  m.indptr = top.indptr;
  for (Index r = 0; r < bottom.n_rows; ++r) m.indptr.push_back(top.nnz() + bottom.indptr[r + 1]);
  m.indices = top.indices;
  m.indices.insert(m.indices.end(), bottom.indices.begin(), bottom.indices.end());
  m.data = top.data;
  m.data.insert(m.data.end(), bottom.data.begin(), bottom.data.end());
  return m;
}

// n x n with `own` at rows [first, first + own.n_rows) and ghost row g at ghost_ids[g]; the
// other rows empty.
CsrMatrix placed(const CsrMatrix& own, Index first, const CsrMatrix& ghosts, const std::vector<Index>& ghost_ids,
                 Index n) {
  std::vector<std::pair<const CsrMatrix*, Index>> source(static_cast<std::size_t>(n), {nullptr, 0});
  for (Index r = 0; r < own.n_rows; ++r) source[first + r] = {&own, r};
  for (std::size_t g = 0; g < ghost_ids.size(); ++g) source[ghost_ids[g]] = {&ghosts, static_cast<Index>(g)};
  CsrMatrix m;
  m.n_rows = m.n_cols = n;
  m.indptr.assign(static_cast<std::size_t>(n) + 1, 0);
  for (Index j = 0; j < n; ++j)
    m.indptr[j + 1] = m.indptr[j] + (source[j].first ? source[j].first->row_length(source[j].second) : 0);
  m.indices.resize(static_cast<std::size_t>(m.nnz()));
  m.data.resize(static_cast<std::size_t>(m.nnz()));
  for (Index j = 0; j < n; ++j) {
    const auto [from, r] = source[j];
    if (!from) continue;
    std::copy(from->indices.begin() + from->indptr[r], from->indices.begin() + from->indptr[r + 1],
              m.indices.begin() + m.indptr[j]);
    std::copy(from->data.begin() + from->indptr[r], from->data.begin() + from->indptr[r + 1],
              m.data.begin() + m.indptr[j]);
  }
  return m;
}

}  // namespace

SimilarityPart distributed_similarity(const Comm& c, const DistributedGraph& g, const CsrMatrix& history,
                                      const pr::WalkSimilarityOptions& o, const pr::RecommendOptions& recommend) {
  o.validate();
  DRIFTREC_ASSERT(g.user_order.empty() && g.item_order.empty() && history.n_rows == g.own_users());
  const Index n_items = g.items.bounds.back(), i0 = g.items.begin(c.rank);

  // b_uj on the rank's user rows (global item ids), and the ghost users' rows with theirs:
  // together, the rows g.item_rows' compact user ids name.
  CsrMatrix b_rows = history;
  b_rows.data = pr::transition_powers(history, o.alpha);
  const CsrMatrix b_ghosts = exchange_sparse_rows(c, g.user_ghosts, b_rows);
  const CsrMatrix user_items = stacked(b_rows, b_ghosts);
  b_rows = CsrMatrix{};

  // a_iu on the rank's item rows; every item's popularity scale.
  const std::vector<float> a = pr::transition_powers(g.item_rows, o.alpha);
  const std::vector<float> own_scale = pr::popularity_scales(g.item_rows, o.beta);
  std::vector<float> column_scale(static_cast<std::size_t>(n_items));
  std::vector<int> counts(static_cast<std::size_t>(c.size)), at(static_cast<std::size_t>(c.size));
  for (int q = 0; q < c.size; ++q) {
    counts[q] = g.items.rows(q);
    at[q] = g.items.begin(q);
  }
  traffic().exchange_bytes += static_cast<std::uint64_t>(own_scale.size()) * sizeof(float) * (c.size - 1);
  MPI_Allgatherv(own_scale.data(), counts[c.rank], MPI_FLOAT, column_scale.data(), counts.data(), at.data(), MPI_FLOAT,
                 c.comm);

  SimilarityPart out;
  out.rows = pr::similarity_rows(g.item_rows, a, user_items, user_items.data, column_scale, i0, o);

  // The rows of S the rank's users read, at their global ids, and the users' scores.
  const CsrMatrix s_ghosts = exchange_sparse_rows(c, g.item_ghosts, out.rows);
  const CsrMatrix s = placed(out.rows, i0, s_ghosts, g.item_ghosts.ghost_ids, n_items);
  out.top = pr::recommend_all(history, s, recommend);
  return out;
}

}  // namespace driftrec::mpi
