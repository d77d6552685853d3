// Label propagation (Zhou et al. 2004, bipartite form; propagation/label_propagation.hpp)
// on a graph split across ranks (mpi/distributed_graph.hpp): the iteration of
// propagate_labels' expert tier, with each half-step preceded by the exchange of the
// ghost rows it reads, and the convergence test on the global max-abs change
// (MPI_Allreduce, MPI_MAX). Each rank's own rows equal the single process's rows bit for
// bit: the same kernel sums the same edges in the same order, and max is exact.
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
  double exchange_seconds = 0;  // in the ghost exchanges and the residual reduction
};

// Collective. y_items: own items x labels (Y_I's rows); user_prior: own users x labels
// (Y_U's rows, scaled by user_scale) or nullptr for none; both, and the result's rows, in
// block order (by id), whatever local order g holds its rows in. options: alpha, tolerance,
// max_iterations, threads (0: OpenMP's default). NumericalError on every rank when any
// rank's scores stop being finite.
DistributedResult propagate_labels(const Comm& c, const DistributedGraph& g, const propagation::DenseMatrix& y_items,
                                   const propagation::DenseMatrix* user_prior, float user_scale,
                                   const propagation::LabelPropagationOptions& options, Exchange how,
                                   std::size_t period);

}  // namespace driftrec::mpi
