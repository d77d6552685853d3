// A store read across ranks with parallel HDF5: the file opened by every rank through the
// MPI-IO driver (H5Pset_fapl_mpio), and each rank reading only its hyperslab of a 1-d
// dataset in one collective read (H5Pset_dxpl_mpio, H5FD_MPIO_COLLECTIVE). Every rank
// must make the same calls in the same order, with its own (possibly empty) range.
//
// Raw chunks: driftrec before mask-0 chunks (io/hdf5.hpp write_chunks) stored a chunk that
// deflate did not shrink raw, with the filter mask bit that skips deflate. HDF5 1.10's
// collective path for filtered datasets ignores that mask and fails ("inflate() failed").
// So the first read of each dataset looks at its chunks' masks (H5Dget_chunk_info_by_coord,
// each rank a share of the chunks, then one allreduce: every rank decides alike) and reads
// a dataset that has a raw chunk with independent transfers, saying so once on stderr
// (rank 0). DRIFTREC_MPI_COLLECTIVE_READS=0 reads everything independently, =1 everything
// collectively (no check: for a parallel HDF5 that honours the mask).
//
// The store's shape (users, items, labels, periods, slicing) comes from io::Store::open
// on each rank, which reads attributes and dataset sizes only, and is closed before the
// collective open.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "graph/slicing.hpp"
#include "io/h5_handle.hpp"
#include "mpi/comm.hpp"

namespace driftrec::mpi {

struct StoreShape {
  std::string path;
  graph::Index users = 0, items = 0, labels = 0;
  std::size_t slices = 0;
  std::string slicing;
  graph::Periods periods;
};
StoreShape read_store_shape(const std::string& path);

class ParallelStore {
 public:
  // Collective. InputError naming the file when it cannot be opened.
  ParallelStore(const Comm& c, const std::string& path);
  ~ParallelStore();
  ParallelStore(const ParallelStore&) = delete;
  ParallelStore& operator=(const ParallelStore&) = delete;

  // Collective: elements [offset, offset + count) of the 1-d dataset `name`.
  template <class T>
  std::vector<T> read_range(const std::string& name, std::uint64_t offset, std::uint64_t count);

  // Collective: rows [row0, row1) of the CSR group (indptr rebased to 0; column ids kept
  // global), validated against `cols` columns.
  graph::CsrMatrix read_csr_rows(const std::string& group, graph::Index row0, graph::Index row1, graph::Index cols);

  // Collective: rows [row0, row1)'s entry counts, from the group's indptr (row1 - row0 values).
  std::vector<graph::Offset> row_counts(const std::string& group, graph::Index row0, graph::Index row1);

 private:
  enum class Reads { automatic, independent, collective };
  // The transfer property list for dataset `d` (`name`): collective unless it has raw
  // chunks (checked on its first read) or the override says otherwise.
  io::h5::Hid transfer_for(io::h5::Hid d, const std::string& name);
  bool raw_chunks_of(io::h5::Hid d);  // collective

  Comm comm_;
  std::string path_;
  Reads reads_ = Reads::automatic;
  io::h5::Handle file_, collective_, independent_;
  std::map<std::string, bool> raw_;  // per dataset read: has raw chunks
  bool told_ = false;                // the raw-chunk note was printed
};

}  // namespace driftrec::mpi
