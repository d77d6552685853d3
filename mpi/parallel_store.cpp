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
  collective_ = h5::Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  independent_ = h5::Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  if (collective_ < 0 || independent_ < 0 || H5Pset_dxpl_mpio(collective_, H5FD_MPIO_COLLECTIVE) < 0 ||
      H5Pset_dxpl_mpio(independent_, H5FD_MPIO_INDEPENDENT) < 0)
    throw InternalError("HDF5: cannot set up MPI-IO transfers");
  if (const char* mode = std::getenv("DRIFTREC_MPI_COLLECTIVE_READS")) {
    const std::string m = mode;
    if (m == "0") reads_ = Reads::independent;
    else if (m == "1") reads_ = Reads::collective;
    else if (!m.empty())
      throw InputError(fmt::format("DRIFTREC_MPI_COLLECTIVE_READS={}: expected 0 (independent reads) or 1 "
                                   "(collective reads, no check for raw chunks); unset: collective where the "
                                   "store allows",
                                   m));
  }
}

ParallelStore::~ParallelStore() = default;

bool ParallelStore::raw_chunks_of(hid_t d) {
  // Each rank looks at every size-th chunk (a lookup in the chunk index each), then one
  // allreduce; a chunk whose info cannot be read counts as raw (independent reads work
  // whatever the chunks are).
  int raw = 0;
  h5::Handle dcpl(H5Dget_create_plist(d), H5Pclose);
  h5::Handle space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0, chunk = 0;
  if (dcpl < 0 || space < 0 || H5Sget_simple_extent_dims(space, &n, nullptr) != 1) {
    raw = 1;
  } else if (H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) > 0) {
    if (H5Pget_chunk(dcpl, 1, &chunk) != 1 || chunk == 0) raw = 1;
    const hsize_t n_chunks = chunk == 0 ? 0 : (n + chunk - 1) / chunk;
    for (hsize_t k = static_cast<hsize_t>(comm_.rank); k < n_chunks && !raw; k += static_cast<hsize_t>(comm_.size)) {
      hsize_t at = k * chunk, size = 0;
      unsigned mask = 0;
      haddr_t addr = 0;
      if (H5Dget_chunk_info_by_coord(d, &at, &mask, &addr, &size) < 0 || mask != 0) raw = 1;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &raw, 1, MPI_INT, MPI_MAX, comm_.comm);
  return raw != 0;
}

hid_t ParallelStore::transfer_for(hid_t d, const std::string& name) {
  if (reads_ == Reads::independent) return independent_;
  if (reads_ == Reads::collective) return collective_;
  auto at = raw_.find(name);
  if (at == raw_.end()) at = raw_.emplace(name, raw_chunks_of(d)).first;
  if (!at->second) return collective_;
  if (comm_.root() && !told_)
    fmt::print(stderr,
               "driftrec-mpi: {}: {} (and maybe other datasets) has chunks stored uncompressed with a filter mask "
               "(a store written by an older driftrec), which HDF5 1.10's collective reads cannot read; those "
               "datasets are read with independent transfers (ingest the store again for collective reads)\n",
               path_, name);
  told_ = true;
  return independent_;
}

template <class T>
std::vector<T> ParallelStore::read_range(const std::string& name, std::uint64_t offset, std::uint64_t count) {
  h5::Handle d(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) throw InputError(fmt::format("{}: dataset {} is missing", path_, name));
  h5::Handle file_space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(file_space) != 1 || H5Sget_simple_extent_dims(file_space, &n, nullptr) != 1)
    throw InputError(fmt::format("{}: dataset {} is not 1-d", path_, name));
  const hid_t xfer = transfer_for(d, name);  // the same on every rank
  // A range past the end is reported after the read, which every rank must join (with an
  // empty selection then).
  const bool short_of = offset > n || count > n - offset;
  std::vector<T> out(short_of ? 0 : count);
  hsize_t start = offset, cnt = out.size();
  h5::Handle mem_space(H5Screate_simple(1, &cnt, nullptr), H5Sclose);
  herr_t ok = out.empty() ? H5Sselect_none(file_space) | H5Sselect_none(mem_space)
                          : H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &cnt, nullptr);
  if (ok < 0 || H5Dread(d, h5::native_type<T>(), mem_space, file_space, xfer, out.data()) < 0)
    throw InputError(fmt::format("{}: cannot read {} (damaged?): {}", path_, name, h5::last_error()));
  if (short_of)
    throw InputError(fmt::format("{}: dataset {} has {} elements, fewer than needed ({})", path_, name, n,
                                 offset + count));
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
