// Collective hyperslab reads of mpi/parallel_store.hpp.
#include "mpi/parallel_store.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "io/hdf5.hpp"
#include "io/store.hpp"

namespace driftrec::mpi {

namespace h5 = io::h5;

StoreShape read_store_shape(const std::string& path) {
  const io::Store s = io::Store::open(path);
  return {path, s.n_users(), s.n_items(), s.n_labels(), s.n_slices(), s.slicing(), s.periods()};
}

ParallelStore::ParallelStore(const Comm& c, const std::string& path) : comm_(c), path_(path) {
  h5::quiet_errors();
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (fapl < 0 || H5Pset_fapl_mpio(fapl, c.comm, MPI_INFO_NULL) < 0)
    throw InternalError("HDF5: cannot set the MPI-IO file driver");
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
  if (f < 0) throw InputError(fmt::format("{}: cannot open the store with MPI-IO: {}", path, h5::last_error()));
  file_ = h5::Handle(f, H5Fclose);
  xfer_ = h5::Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  const char* mode = std::getenv("DRIFTREC_MPI_COLLECTIVE_READS");
  const bool collective = mode && std::string(mode) == "1";
  if (xfer_ < 0 || H5Pset_dxpl_mpio(xfer_, collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT) < 0)
    throw InternalError("HDF5: cannot request collective transfers");
}

ParallelStore::~ParallelStore() = default;

template <class T>
std::vector<T> ParallelStore::read_range(const std::string& name, std::uint64_t offset, std::uint64_t count) {
  h5::Handle d(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) throw InputError(fmt::format("{}: dataset {} is missing", path_, name));
  h5::Handle file_space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(file_space) != 1 || H5Sget_simple_extent_dims(file_space, &n, nullptr) != 1)
    throw InputError(fmt::format("{}: dataset {} is not 1-d", path_, name));
  if (offset > n || count > n - offset)
    throw InputError(fmt::format("{}: dataset {} has {} elements, fewer than needed ({})", path_, name, n,
                                 offset + count));
  std::vector<T> out(count);
  hsize_t start = offset, cnt = count;
  h5::Handle mem_space(H5Screate_simple(1, &cnt, nullptr), H5Sclose);
  herr_t ok = count == 0 ? H5Sselect_none(file_space) | H5Sselect_none(mem_space)
                         : H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &cnt, nullptr);
  // Every rank takes part in the collective read, an empty selection included.
  if (ok < 0 || H5Dread(d, h5::native_type<T>(), mem_space, file_space, xfer_, out.data()) < 0)
    throw InputError(fmt::format("{}: cannot read {} (damaged?): {}", path_, name, h5::last_error()));
  return out;
}
template std::vector<std::int64_t> ParallelStore::read_range(const std::string&, std::uint64_t, std::uint64_t);
template std::vector<std::int32_t> ParallelStore::read_range(const std::string&, std::uint64_t, std::uint64_t);
template std::vector<float> ParallelStore::read_range(const std::string&, std::uint64_t, std::uint64_t);

std::vector<graph::Offset> ParallelStore::row_counts(const std::string& group, graph::Index row0, graph::Index row1) {
  const auto ptr = read_range<std::int64_t>(group + "/indptr", static_cast<std::uint64_t>(row0),
                                            static_cast<std::uint64_t>(row1 - row0) + 1);
  std::vector<graph::Offset> counts(static_cast<std::size_t>(row1 - row0));
  for (std::size_t r = 0; r < counts.size(); ++r) {
    counts[r] = ptr[r + 1] - ptr[r];
    if (counts[r] < 0) throw InputError(fmt::format("{}: {}/indptr decreases at row {}", path_, group, row0 + static_cast<graph::Index>(r)));
  }
  return counts;
}

graph::CsrMatrix ParallelStore::read_csr_rows(const std::string& group, graph::Index row0, graph::Index row1,
                                              graph::Index cols) {
  graph::CsrMatrix m;
  m.n_rows = row1 - row0;
  m.n_cols = cols;
  m.indptr = read_range<std::int64_t>(group + "/indptr", static_cast<std::uint64_t>(row0),
                                      static_cast<std::uint64_t>(m.n_rows) + 1);
  std::int64_t first = m.indptr.front(), last = m.indptr.back();
  // A damaged indptr is reported after the collective reads, which every rank must join.
  const bool broken = first < 0 || last < first;
  if (broken) first = last = 0;
  for (auto& p : m.indptr) p -= first;
  m.indices = read_range<std::int32_t>(group + "/indices", static_cast<std::uint64_t>(first),
                                       static_cast<std::uint64_t>(last - first));
  m.data = read_range<float>(group + "/data", static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(last - first));
  if (broken)
    throw InputError(fmt::format("{}: {}/indptr is not monotone around rows {}-{}", path_, group, row0, row1));
  graph::validate_csr(m, fmt::format("{}: {} rows {}-{}", path_, group, row0, row1).c_str());
  return m;
}

}  // namespace driftrec::mpi
