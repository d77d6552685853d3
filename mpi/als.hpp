// Implicit ALS (Hu, Koren & Volinsky 2008; matrix_factorization/implicit_als.hpp) on a
// graph split across ranks (mpi/distributed_graph.hpp): each half-sweep computes the fixed
// side's Y^T Y across the ranks (its partials gathered), receives the fixed side's ghost
// rows (the factor rows of the boundary, MPI_Alltoallv), then solves the rank's own rows
// with the single process's CPU kernel (solve_rows_with_gram).
//
// Equal to one process, bit for bit: a row's solve reads the same entries in the same
// order (W's rows as stored, W^T's by increasing user) and the same fixed rows; and Y^T Y
// is summed as the single process sums it, over the same fixed row blocks
// (gram_block_begin): each block's partial is computed by the rank that owns its first
// row, on the block's rows in order (the rows of a block that cross into the next ranks
// are sent to it first: at most one block's tail per rank boundary), every rank gathers
// all blocks' partials (MPI_Allgatherv of their lower triangles, the rest being 0), and
// adds them in block order. The cost is blocks x f (f + 1) / 2 doubles per half-sweep
// reaching every rank, instead of one f x f allreduce that would round differently.
#pragma once
#include <cstdint>

#include "matrix_factorization/implicit_als.hpp"
#include "mpi/distributed_graph.hpp"

namespace driftrec::mpi {

struct AlsTraffic {
  std::uint64_t factor_bytes = 0;  // ghost factor rows, sent to other ranks
  std::uint64_t gram_bytes = 0;    // Gram partials sent to other ranks, and block tails
  double gram_seconds = 0, exchange_seconds = 0, solve_seconds = 0;
};

// Collective: Y^T Y of the rows held in `side`'s blocks (own: this rank's rows, in block
// order), symmetric, as matrix_factorization::gram_from_partials returns it for `solver`
// on all the rows in one process.
Eigen::MatrixXd distributed_gram(const Comm& c, const Blocks& side, const matrix_factorization::Factors& own,
                                 matrix_factorization::Solver solver, AlsTraffic& traffic);

// Collective: options.iterations sweeps (users, then items) on the rank's own rows, from
// their current values; `user_prior` (own users, or null) with eta as the single process's
// drift prior. NumericalError on every rank when a rank's row stops being finite.
void distributed_sweeps(const Comm& c, const DistributedGraph& g, matrix_factorization::Factors& users,
                        matrix_factorization::Factors& items, const matrix_factorization::AlsOptions& options,
                        const matrix_factorization::DriftPrior& user_prior, AlsTraffic& traffic);

}  // namespace driftrec::mpi
