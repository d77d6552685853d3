// P3alpha / RP3beta item-item similarity (propagation/random_walk.hpp) on a graph split
// across ranks (mpi/distributed_graph.hpp), and each user's top items W_u S from it.
//
// Each rank computes the similarity rows of its own items: S_i. = sum over u in W^T's row
// i of a_iu b_u., so it needs the whole W row (with b_uj) of every user its items reach:
// its own users' rows, and the others' as ghost rows, sent once along the users' ghost plan
// (mpi/sparse_rows.hpp). RP3beta's popularity divisor of every item is one allgather of
// the items' owners' counts. Then the top items of its own users, W_u S, need the rows of S
// of every item its users have: its own, and the others' as ghost rows along the items'
// ghost plan.
//
// Equal to one process, bit for bit: a_iu and b_uj are computed from whole rows summed in
// stored order, and each row of S and each user's scores are computed by the single
// process's own functions (propagation/random_walk_parts.hpp, propagation::recommend_all),
// which add the same products in the same order (users by increasing id, their items in
// stored order); only the numbering of the rows held differs, which no sum sees. The top-k
// choice is a total order (score, then item id), so the kept entries are the same.
#pragma once
#include "graph/csr.hpp"
#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::mpi {

struct SimilarityPart {
  graph::CsrMatrix rows;      // own items x all items: the rank's rows of S, global ids
  propagation::TopItems top;  // own users x top: their best items, global ids
};

// Collective. g: distribute(...) of G in block order (no degree order); history: this
// rank's user rows of G (global item ids), the rows g was built from.
SimilarityPart distributed_similarity(const Comm& c, const DistributedGraph& g, const graph::CsrMatrix& history,
                                      const propagation::WalkSimilarityOptions& options,
                                      const propagation::RecommendOptions& recommend);

}  // namespace driftrec::mpi
