// Sparse rows between ranks, for the random walks (mpi/walk_similarity.hpp): the ghost
// rows a rank's edges reach, sent whole (each row's length, then its column ids and
// values) along a GhostPlan, and rows gathered to rank 0 for the write.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/csr.hpp"
#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"

namespace driftrec::mpi {

// Collective: the plan's ghost rows of `rows` (this rank's own rows, in the plan's local
// order, columns as they are: global ids), in the plan's ghost order; n_cols as `rows`'.
// Every row keeps its entries in their order. Counted in traffic().exchange_bytes.
graph::CsrMatrix exchange_sparse_rows(const Comm& c, const GhostPlan& plan, const graph::CsrMatrix& rows);

// Collective: every rank's rows concatenated in rank order on rank 0 (an empty matrix
// elsewhere); `n_cols` of the result. InputError when a count exceeds MPI's int.
graph::CsrMatrix gather_csr_rows(const Comm& c, const graph::CsrMatrix& rows, graph::Index n_cols);

// Collective: MPI_Gatherv of rows x cols int32 to rank 0, as gather_rows for floats.
std::vector<std::int32_t> gather_index_rows(const Comm& c, const std::int32_t* local, std::int64_t local_rows,
                                            std::int64_t cols, const std::vector<std::int64_t>& rows_per_rank);

}  // namespace driftrec::mpi
