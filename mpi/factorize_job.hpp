// `driftrec-mpi factorize`: temporal implicit ALS (pipeline/factorize.hpp,
// matrix_factorization/temporal_als.hpp) across MPI ranks, saved in the store exactly as
// `driftrec factorize` saves it (io/factors_result.hpp).
//
// The job, on every rank: the blocks and this rank's rows of every slice
// (mpi/store_blocks.hpp); per period G_t = gamma G_(t-1) + W_t on the rank's user rows, the
// graph split (mpi/distributed_graph.hpp, in id order), options.iterations sweeps
// (mpi/als.hpp) from the previous period's factors (the seeded ones, each row keyed by its
// global id, in period 0) with the drift prior on the users after period 0, and each
// rank's rows of the kept factors written collectively (mpi/result_file.hpp: a temporary
// copy of the store, made by rank 0 under the store's writer lock, taken after the reads
// and checked against the file the ranks read, and renamed over the store by rank 0 after
// every rank has closed it). Equal to the single process bit for bit
// (mpi/als.hpp says why), for either solver and any rank or thread count.
//
// DRIFTREC_MPI_FAIL_RANK=r (tests) makes rank r fail in period 0, or in period
// DRIFTREC_MPI_FAIL_PERIOD (mpi::inject_fault); the store stays as it was.
//
// Not distributed: --verbose (the objective after each sweep).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "matrix_factorization/temporal_als.hpp"
#include "mpi/comm.hpp"

namespace driftrec::mpi {

struct FactorizeRequest {
  std::string store;
  std::string name = "als";
  matrix_factorization::TemporalAlsOptions options;
  std::string keep_users = "all", keep_items = "last:1";
  int threads = 0;  // per rank; 0: OpenMP's default
  bool progress = false;
};

struct FactorizePeriodStats {
  std::size_t period = 0;
  double seconds = 0, setup_seconds = 0, gram_seconds = 0, exchange_seconds = 0, solve_seconds = 0;  // rank 0's
  std::uint64_t factor_bytes = 0;    // every rank's ghost factor rows this period, summed
  std::uint64_t gram_bytes = 0;      // every rank's Gram partials and block tails, summed
  std::uint64_t boundary_pairs = 0;  // (row, reading rank) pairs, both sides
};

struct FactorizeSummary {
  std::string store, result;
  int ranks = 0, threads = 0, factors = 0, sweeps = 0;
  std::size_t periods = 0;
  double seconds = 0, read_seconds = 0;
  std::vector<std::int64_t> user_blocks, item_blocks;
  std::vector<FactorizePeriodStats> per_period;
  nlohmann::json to_json() const;
};

// Collective. Throws RankFailure (every rank) when a rank fails.
FactorizeSummary factorize_store(const Comm& c, const FactorizeRequest& request);

}  // namespace driftrec::mpi
