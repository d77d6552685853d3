// Sparse rows between ranks, for the random walks (mpi/walk_similarity.hpp): the ghost
// rows a rank's edges reach, sent whole (each row's length, then its column ids and
// values) along a GhostPlan.
#pragma once
#include "graph/csr.hpp"
#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"

namespace driftrec::mpi {

// Collective: the plan's ghost rows of `rows` (this rank's own rows, in the plan's local
// order, columns as they are: global ids), in the plan's ghost order; n_cols as `rows`'.
// Every row keeps its entries in their order. Counted in traffic().exchange_bytes.
graph::CsrMatrix exchange_sparse_rows(const Comm& c, const GhostPlan& plan, const graph::CsrMatrix& rows);

}  // namespace driftrec::mpi
