// A store read across ranks with parallel HDF5: the file opened by every rank through the
// MPI-IO driver (H5Pset_fapl_mpio), and each rank reading only its hyperslab of a 1-d
// dataset in one collective read (H5Pset_dxpl_mpio, H5FD_MPIO_COLLECTIVE). Every rank
// must make the same calls in the same order, with its own (possibly empty) range.
//
// The store's shape (users, items, labels, periods, slicing) comes from io::Store::open
// on each rank, which reads attributes and dataset sizes only, and is closed before the
// collective open.
#pragma once
#include <cstdint>
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
  Comm comm_;
  std::string path_;
  io::h5::Handle file_, xfer_;
};

}  // namespace driftrec::mpi
