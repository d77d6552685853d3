// What every driftrec-mpi store job does before it computes: the rows split into blocks
// balanced by nonzeros, each rank's hyperslabs of every slice read with MPI-IO, and the
// identity of the store file, which rank 0 checks again once it holds the writer lock.
//
// Partition: users are cut into contiguous blocks, one per rank, balanced by their stored
// entries over every slice plus one per row (each rank reads an equal share of each slice's
// indptr, the per-row counts are gathered); items likewise by their column counts (an
// allreduce). Each rank then reads only its user rows of every slice.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "io/store.hpp"
#include "mpi/comm.hpp"
#include "mpi/parallel_store.hpp"
#include "mpi/partition.hpp"

namespace driftrec::mpi {

// What identifies the file a job read: replaced or rewritten, one of these changes.
struct Stamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const Stamp&) const = default;
};
Stamp stamp_of(const std::string& path);

// Rank 0's writer: the store's writer lock (io::StoreWriter, amending), then the check
// that the store is still the file the ranks read (InputError if another writer replaced
// or changed it in between).
std::unique_ptr<io::StoreWriter> open_writer(const std::string& path, const Stamp& read, int threads);

// Inside a job's first phase, after the request's own checks: rank 0's stamp of the store
// (taken before any read, for open_writer), and the store's shape; InputError when the
// store has no slices.
StoreShape job_store_shape(const Comm& c, const std::string& store, std::optional<Stamp>& stamp);

struct BlockedSlices {
  Blocks users, items;
  std::vector<graph::CsrMatrix> slices;  // this rank's user rows of every slice, global item ids
};

// Collective: the blocks and this rank's rows of every slice of `shape`.
BlockedSlices read_blocked_slices(const Comm& c, ParallelStore& ps, const StoreShape& shape);
// The same from the store at `path`, opened by every rank (MPI-IO) and closed after.
BlockedSlices read_blocked_slices(const Comm& c, const std::string& path, const StoreShape& shape);

// Weights finite and >= 0, as pipeline::checked_slice requires; rows and columns named by
// their global ids (a rank has no id strings). `row0`: the global id of m's first row.
void check_weights(const graph::CsrMatrix& m, std::size_t period, graph::Index row0, const std::string& store);

}  // namespace driftrec::mpi
