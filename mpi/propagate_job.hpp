// `driftrec-mpi propagate`: temporal label propagation (pipeline/propagate.hpp, --method
// label) across MPI ranks, with the result saved in the store exactly as one process
// saves it (io/label_result.hpp).
//
// The job, on every rank:
//  1. the store's shape (io::Store::open), then the store opened with MPI-IO;
//  2. users cut into contiguous blocks balanced by their nonzeros over every slice (each
//     rank reads an equal share of each slice's indptr, the per-row counts are gathered),
//     items likewise from the column counts (an allreduce); each rank then reads only its
//     user rows of every slice and its item rows of the item labels, collectively;
//  3. per period: G_t = gamma G_(t-1) + W_t on the rank's user rows (graph::decay_step is
//     row-local), the graph split (mpi/distributed_graph.hpp), label propagation
//     (mpi/label_propagation.hpp), and each rank's rows of the period written collectively
//     (mpi/result_file.hpp: a temporary copy of the store, renamed over it by rank 0 after
//     every rank has closed it).
// Rank 0 takes the store's writer lock after the collective reads (the MPI-IO handle and
// the writer's serial one must not be open in one process at once) and then checks that
// the store is the file it read (device, inode, size, modification time): a store replaced
// in between is an InputError, never a result computed from another store.
//
// Degree order (LabelPropagationOptions::reorder): each period every rank computes G_t's
// degree order as the single process does (mpi/degree_order.hpp) and sums each row in that
// order, in a local order by degree; the blocks and the reads stay in id order. So the
// result equals the single process's bit for bit with the order on (from 2^21 stored
// entries, Reorder::automatic) or off.
//
// Results written once: only rank 0's final rename replaces the store.
// DRIFTREC_MPI_FAIL_RANK=r (tests) makes rank r fail in period 0, or in period
// DRIFTREC_MPI_FAIL_PERIOD (mpi::inject_fault).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::mpi {

struct PropagateRequest {
  std::string store;
  std::string name;  // empty: "label"
  propagation::TemporalOptions label;
  std::string keep = "all";
  int threads = 0;  // per rank; 0: OpenMP's default
  Exchange exchange = Exchange::alltoall;  // shared: on-node shared windows (label), opt-in
  bool progress = false;  // rank 0 prints one line per period on stderr
};

struct PeriodStats {
  std::size_t period = 0;
  int iterations = 0;
  double residual = 0;
  bool converged = false;
  double seconds = 0, kernel_seconds = 0, exchange_seconds = 0, setup_seconds = 0;  // rank 0's
  std::uint64_t exchange_bytes = 0;  // every rank's ghost rows this period, summed
  std::uint64_t boundary_rows = 0;   // distinct rows some other rank reads, over both sides
  std::uint64_t boundary_pairs = 0;  // (row, reading rank) pairs, over both sides
};

struct PropagateSummary {
  std::string store, result;
  int ranks = 0, threads = 0;
  std::size_t periods = 0;
  std::int64_t labels = 0;
  double seconds = 0, read_seconds = 0;
  std::vector<PeriodStats> per_period;
  std::vector<std::int64_t> user_blocks, item_blocks;    // bounds
  std::vector<std::int64_t> user_block_nnz;              // stored entries per rank, last period
  std::size_t not_converged = 0;
  nlohmann::json to_json() const;
};

// Collective. Throws RankFailure (every rank) when a rank fails; InputError for a bad
// request, NumericalError as the single process.
PropagateSummary propagate_store(const Comm& c, const PropagateRequest& request);

}  // namespace driftrec::mpi
