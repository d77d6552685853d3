// `driftrec-mpi propagate --method p3alpha|rp3beta|ppr`: the random walks of `driftrec
// propagate` (pipeline/propagate.hpp) across MPI ranks, on G = the decayed history up to
// the store's last period, with the result saved exactly as one process saves it
// (io/walk_result.hpp).
//
// The job, on every rank: the store's shape, the blocks and this rank's rows of every
// slice (mpi/store_blocks.hpp, as the label job reads them); G's rows by
// graph::decay_step, row-local, as the single process's, and their values checked as the
// single process checks G's (propagation::check_edge_weights: an overflow of the decayed
// sums is an InputError naming the row and column); G split across the ranks
// (mpi/distributed_graph.hpp, block order); then the similarity and each user's top items
// (mpi/walk_similarity.hpp) or personalised PageRank's top items (mpi/pagerank.hpp),
// each rank holding its own items' rows of the similarity and its own users' top items.
// Each rank writes those rows collectively into rank 0's temporary copy of the store
// (mpi/result_file.hpp: the similarity's CSR arrays at the offsets of an exclusive scan of
// the ranks' counts, the top items' row hyperslabs), rank 0 adds the attributes and renames
// the copy over the store after a barrier, holding the store's writer lock and having
// checked it is the file the ranks read, as the label job does. Equal to the single
// process bit for bit (see the two headers).
// DRIFTREC_MPI_FAIL_RANK=r (tests) makes rank r fail while building G at period
// DRIFTREC_MPI_FAIL_PERIOD (0 when unset).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"
#include "pipeline/walk_options.hpp"

namespace driftrec::mpi {

struct WalkRequest {
  std::string store;
  std::string name;     // empty: the method's name
  std::string method;   // p3alpha | rp3beta | ppr
  pipeline::WalkOptions walk;
  int threads = 0;      // per rank; 0: OpenMP's default
  Exchange exchange = Exchange::alltoall;  // ppr's ghost rows
  bool progress = false;
};

struct WalkSummary {
  std::string store, result, method;
  int ranks = 0, threads = 0;
  std::size_t periods = 0;
  pipeline::WalkOptions walk;  // as run (beta 0 for p3alpha)
  pipeline::WalkCounts counts;
  double seconds = 0, read_seconds = 0, setup_seconds = 0, compute_seconds = 0;
  double kernel_seconds = 0, exchange_seconds = 0;  // ppr, rank 0's
  std::uint64_t exchange_bytes = 0;  // every rank's, summed: ghost rows (and the residual chain)
  std::uint64_t boundary_rows = 0;   // distinct rows some other rank reads, over both sides
  std::uint64_t boundary_pairs = 0;  // (row, reading rank) pairs, over both sides: the rows one
                                     // ppr iteration must send, per user of the block
  std::int64_t column_iterations = 0;  // ppr: iterations x users of the block, over the blocks
  std::vector<std::int64_t> user_blocks, item_blocks;
  nlohmann::json to_json() const;
};

// Collective. Throws RankFailure (every rank) when a rank fails; InputError for a bad
// request, NumericalError as the single process.
WalkSummary walk_store(const Comm& c, const WalkRequest& request);

}  // namespace driftrec::mpi
