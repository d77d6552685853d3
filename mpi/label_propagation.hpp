// Label propagation (Zhou et al. 2004, bipartite form; propagation/label_propagation.hpp)
// on a graph split across ranks (mpi/distributed_graph.hpp): the iteration of
// propagate_labels' expert tier, each half-step computing the rows that read no ghost row
// while the ghost rows it reads travel, then the others, and the convergence test on the
// global max-abs change (MPI_Allreduce, MPI_MAX). With Exchange::shared the ranks of a node
// read each other's rows in place in shared windows (mpi/node_window.hpp) and only the rows
// read on other nodes travel (no overlap). Each rank's own rows equal the single process's
// rows bit for bit: the same kernel sums the same edges in the same order, and max is exact.
#pragma once
#include <cstddef>

#include "mpi/distributed_graph.hpp"
#include "propagation/label_propagation.hpp"

namespace driftrec::mpi {

struct DistributedResult {
  propagation::DenseMatrix users;  // own users x labels: the raw F_U
  propagation::DenseMatrix items;  // own items x labels: F_I
  int iterations = 0;
  double residual = 0;
  bool converged = false;
  double kernel_seconds = 0;    // in the half-step kernels
  double interior_seconds = 0;  // of which on interior rows while the ghosts travelled
  double exchange_seconds = 0;  // in the ghost exchanges (packing, posting, progressing,
                                // waiting) and the residual reduction
  double wait_seconds = 0;      // of which waiting for ghosts after the interior rows
};

// Collective. y_items: own items x labels (Y_I's rows); user_prior: own users x labels
// (Y_U's rows, scaled by user_scale) or nullptr for none; both, and the result's rows, in
// block order (by id), whatever local order g holds its rows in. options: alpha, tolerance,
// max_iterations, threads (0: OpenMP's default). how: the ghost rows' path (Exchange).
// NumericalError on every rank when any
// rank's scores stop being finite. overlap_exchange (alltoall only): compute g's interior
// rows while the ghost rows travel (g from distribute(..., interior_first = true); with
// interior rows 0 nothing overlaps); false exchanges first, then computes every row (kept
// to measure the overlap). The results are the same bits either way.
DistributedResult propagate_labels(const Comm& c, const DistributedGraph& g, const propagation::DenseMatrix& y_items,
                                   const propagation::DenseMatrix* user_prior, float user_scale,
                                   const propagation::LabelPropagationOptions& options, Exchange how,
                                   std::size_t period, bool overlap_exchange = true);

}  // namespace driftrec::mpi
