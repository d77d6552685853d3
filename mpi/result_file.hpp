// A driftrec-mpi job's result, written by every rank collectively into a temporary copy of
// the store that rank 0 renames over it: the same /results/<name> layout and values as the
// single process writes (io/results.hpp, io/label_result.hpp, io/factors_result.hpp,
// io/walk_result.hpp).
//
//  1. Rank 0 takes the store's writer lock (io::StoreWriter, amending), checks that the
//     store is the file the ranks read (open_writer: device, inode, size, mtime), copies
//     the store into the temporary file (its other results included) and closes it.
//  2. Every rank opens the temporary file with the MPI-IO driver; /results/<name>, its
//     groups and matrices are created collectively with the single process's layout
//     (io::create_matrix, and io::h5::create_array for a CSR group's arrays: the same
//     shapes, types, chunks, shuffle and deflate), and each rank writes its own rows'
//     hyperslab in one collective H5Dwrite per dataset (HDF5 1.10 writes filtered datasets
//     in parallel only collectively).
//  3. commit(): the MPI-IO file is closed (collective), rank 0 reopens it alone and writes
//     what the single process writes last with the single process's code (the attributes
//     and per-period arrays, a few bytes per period: `finish`), and after a barrier
//     renames it over the store.
// Every step is a phase (mpi::run_phase): a rank that fails makes every rank throw
// RankFailure naming it, and rank 0's temporary file is removed; the store is unchanged.
// The chunks' compressed bytes are HDF5's zlib's rather than the single process's, so
// h5diff finds the values equal, not the files' bytes.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "io/h5_handle.hpp"
#include "io/store.hpp"
#include "mpi/comm.hpp"
#include "mpi/store_blocks.hpp"

namespace driftrec::mpi {

class ResultFile {
 public:
  // Collective: steps 1 and 2 up to an empty /results/<name>. `read`: rank 0's stamp of
  // the store before the reads (others pass any).
  ResultFile(const Comm& c, const std::string& store, const Stamp& read, const std::string& name, int threads);
  // Uncommitted (a failure): the MPI-IO handles are left to HDF5's close at MPI_Finalize
  // or the process's exit (a collective close here could meet a rank that is elsewhere);
  // rank 0's temporary file is removed.
  ~ResultFile();
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  // Collective: the group `path` under the result ("interests").
  void create_group(const std::string& path);
  // Collective: the rows x cols matrix `path` under the result ("interests/0003"), this
  // rank's rows [row0, row0 + local_rows) taken from `local` (row-major); every rank
  // passes the same path, rows and cols.
  void write_rows(const std::string& path, const float* local, std::int64_t row0, std::int64_t local_rows,
                  std::int64_t rows, std::int64_t cols);
  void write_rows(const std::string& path, const std::int32_t* local, std::int64_t row0, std::int64_t local_rows,
                  std::int64_t rows, std::int64_t cols);
  // Collective: the CSR group `path` under the result ({indptr int64, indices int32, data
  // float32}, as io::write_csr_group writes it) of every rank's rows stacked in rank order;
  // `local`: this rank's rows (the rows after the previous rank's; global column ids).
  // Each rank's first row and entry are the exclusive scan (MPI_Exscan) of the ranks' row
  // and entry counts; it writes its slice of each array in one collective H5Dwrite.
  void write_csr_rows(const std::string& path, const graph::CsrMatrix& local);
  // Collective: step 3; `finish` runs on rank 0 with the result group of the reopened file.
  void commit(const std::function<void(io::h5::Hid result)>& finish);

 private:
  void open_collectively();
  void write_matrix(const std::string& path, io::h5::Hid type, const void* local, std::int64_t row0,
                    std::int64_t local_rows, std::int64_t rows, std::int64_t cols);
  // The 1-d array `path` of n elements (io::h5::create_array), this rank's [first, first +
  // count) taken from `local`.
  void write_array(const std::string& path, io::h5::Hid type, const void* local, std::int64_t first,
                   std::int64_t count, std::int64_t n);
  // Creates the dataset with `create` (collective) and writes this rank's hyperslab
  // start/count (one entry a dimension) from `local`; nothing when the dataset is empty.
  void write_dataset(const std::string& path, const std::function<io::h5::Handle()>& create, io::h5::Hid type,
                     const void* local, const std::vector<std::uint64_t>& start,
                     const std::vector<std::uint64_t>& count, bool empty);
  Comm comm_;
  std::string name_, temp_;
  std::unique_ptr<io::StoreWriter> writer_;  // rank 0
  io::h5::Handle file_, result_, xfer_;
};

}  // namespace driftrec::mpi
