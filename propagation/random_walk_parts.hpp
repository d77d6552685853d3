// The pieces of the random walks (random_walk.hpp) that work on part of the graph, so that
// driftrec-mpi (mpi/walk_similarity.cpp, mpi/pagerank.cpp) computes its rows with the very
// code the single process runs, and so the same bits: the single process's
// walk_similarity and pagerank_top_items are built from these same functions.
#pragma once
#include <span>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::propagation {

// ---- P3alpha / RP3beta ----

// (m_re / sum of row r)^alpha for each stored entry of m (0 for a stored 0), the row sum
// taken in double in stored order: a row needs only itself, so any set of whole rows gives
// the entries the whole matrix gives. On W^T's rows these are a_iu, on W's b_uj.
std::vector<float> transition_powers(const graph::CsrMatrix& m, double alpha);

// RP3beta's column scale of each row of W^T (an item): pop^-beta with pop = its entries
// > 0; 1 for beta 0 or an item no one has.
std::vector<float> popularity_scales(const graph::CsrMatrix& item_users, float beta);

// Rows of S for the items of `item_users` (rows: items, columns: rows of `user_items`):
// S_i. = sum over u in row i of a_iu * b_u. (in stored order), scaled by column_scale,
// top options.k entries (not the diagonal unless include_self; `first_item` is the global
// id of item row 0), columns increasing. user_items' columns are global item ids in
// [0, column_scale.size()). options.threads threads; the same bits for any count.
graph::CsrMatrix similarity_rows(const graph::CsrMatrix& item_users, std::span<const float> a,
                                 const graph::CsrMatrix& user_items, std::span<const float> b,
                                 std::span<const float> column_scale, graph::Index first_item,
                                 const WalkSimilarityOptions& options);

// ---- Personalised PageRank ----

// Item rows per block of the residual: each column's L1 change is summed over the rows of
// a block in order, then over the blocks in order.
inline constexpr graph::Index kPageRankRowBlock = 4096;

// 1 / (sum of the row in double, stored order), 0 for an empty row.
std::vector<float> inverse_row_sums(const graph::CsrMatrix& m);

// Rows [r0, r1) of one iteration's restart: z <- c r + (1 - c) z, and sum[b] += |z_new - x|
// for each column b, row after row.
void restart_rows(DenseMatrix& z, const DenseMatrix& x, const DenseMatrix& r, float c, graph::Index r0,
                  graph::Index r1, double* sum);

// One user's candidates among n items: p[j] > 0 and not seen[j] (seen may be null), as
// {first_item + j, p[j]}; the best k kept (keep_best).
void best_items(const float* p, graph::Index n, const char* seen, graph::Index first_item, int k,
                std::vector<ScoredItem>& out);

}  // namespace driftrec::propagation
