// The single process's degree order (propagation/reorder.hpp), replicated on every rank, so
// that the distributed run sums every row in the order `driftrec propagate` does and its
// results stay bit for bit equal when the single process relabels the graph by degree
// (LabelPropagationOptions::reorders: from 2^21 stored entries on, or --reorder on).
//
// The order is a property of G_t as a whole: users and items by decreasing stored entries,
// ties by their place in the previous order when G_t was decayed from an ordered G_(t-1)
// (temporal_propagation.cpp keeps G in its order across periods and re-sorts it stably),
// else by id. Each rank therefore learns every vertex's degree (an allgather of the users'
// row lengths, an allreduce of the items' column counts: 8 bytes per vertex) and sorts them
// itself, as the single process does; only positions are used, never the relabelled ids,
// so the row blocks, the reads and the ghost exchange do not change.
//
// What the distributed graph takes from it (mpi/distributed_graph.hpp): each row's edges
// sorted by the position of their column (the single process's summation order), each
// rank's own rows in position order and its ghost rows in (owner, position) order, so the
// frequently read rows sit together in a rank's operand as they do in the single process's.
// Memory: 16 bytes per vertex on every rank (positions and the order itself).
#pragma once
#include <vector>

#include "graph/csr.hpp"
#include "mpi/comm.hpp"
#include "mpi/partition.hpp"
#include "propagation/label_propagation.hpp"

namespace driftrec::mpi {

struct GlobalOrder {
  bool ordered = false;                   // false: ids are positions (no vectors held)
  std::vector<graph::Index> user_old;     // position -> user id
  std::vector<graph::Index> item_old;     // position -> item id
  std::vector<graph::Index> user_pos;     // user id -> position
  std::vector<graph::Index> item_pos;     // item id -> position
};

// Collective: the order of G_t as the single process's temporal run has it. `history`:
// this rank's user rows of G_t (global item ids). `decayed`: G_t = gamma G_(t-1) + W_t
// with gamma > 0 (then an ordered G_(t-1) keeps G_t ordered, ties broken by `order`'s
// positions). `order` holds G_(t-1)'s order on entry and G_t's on return.
void advance_order(const Comm& c, const Blocks& users, const Blocks& items, const graph::CsrMatrix& history,
                   bool decayed, const propagation::LabelPropagationOptions& options, GlobalOrder& order);

}  // namespace driftrec::mpi
