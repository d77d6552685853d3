// Personalised PageRank (propagation/random_walk.hpp) on a graph split across ranks
// (mpi/distributed_graph.hpp), and each user's top items by it.
//
// The single process runs blocks of `block` users (32) at once as an items x block dense
// operand X, each block until it converges:
//   Y = W (D_I^-1 X),   X <- c R + (1 - c) W^T (D_U^-1 Y)
// Here X's rows live with their items' owners and Y's with their users', so an iteration
// is label propagation's two half-steps: the ghost rows of D_I^-1 X the rank's users read
// (the items' ghost plan), its users' rows of Y with the CPU kernel (propagation/cpu/
// spmm.hpp), the ghost rows of D_U^-1 Y, its items' rows of W^T D_U^-1 Y. Every rank
// iterates every block; the restart vectors R come from the item rows (W^T holds W_ui), so
// nothing is scattered.
//
// Convergence: the single process's residual is, per user, sum_i |x_new - x_old| summed in
// double over item rows in blocks of 4096 (kPageRankRowBlock) and then over the blocks in
// order; then the max over the block's users. That order is kept across ranks: each rank
// sums its pieces of the 4096-row blocks, and a chain through the ranks in order (one
// message of 2 x block doubles from each rank to the next) continues the block that
// straddles their boundary and adds the finished blocks in order; the last rank
// broadcasts the sums. Only the piece of the block a rank's range starts in waits for the
// chain; everything else is computed before.
//
// Top items: each rank keeps each user's best `k` among its own items (p > 0, not the
// user's own, by keep_best's total order: score, then item id); the user's owner receives
// the ranks' lists (one MPI_Alltoallv of items and one of scores per block of users) and
// merges them with keep_best, which gives the k best over all items, on the rank that
// writes the user's row (mpi/result_file.hpp).
//
// Equal to one process, bit for bit: the kernel sums each row's edges in the single
// process's order, the scaling and the restart run the single process's code on the same
// values, and the residual is summed in its order, so every block stops at the same
// iteration with the same scores.
#pragma once
#include <cstdint>

#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::mpi {

struct PageRankPart {
  propagation::TopItems top;  // the rank's own users x k
  int iterations = 0;         // the most any block ran
  double residual = 0;        // the largest final residual
  bool converged = true;
  std::int64_t column_iterations = 0;  // over the blocks, iterations x users in the block
  double kernel_seconds = 0, exchange_seconds = 0;  // this rank's
};

// Collective. g: distribute(...) in block order (no degree order). NumericalError on every
// rank when the scores stop being finite.
PageRankPart distributed_pagerank(const Comm& c, const DistributedGraph& g, const propagation::PageRankOptions& options,
                                  const propagation::RecommendOptions& recommend, Exchange how);

}  // namespace driftrec::mpi
