// The collective result writer of mpi/result_file.hpp.
#include "mpi/result_file.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "io/hdf5.hpp"
#include "io/results.hpp"

namespace driftrec::mpi {

namespace h5 = io::h5;

namespace {

// Leaves an HDF5 object open when a phase fails: closing it may be collective, and the
// ranks are not all at the same call then (HDF5 closes what is left at MPI_Finalize).
void abandon(h5::Handle& h) { h.release(); }

}  // namespace

ResultFile::ResultFile(const Comm& c, const std::string& store, const Stamp& read, const std::string& name,
                       int threads)
    : comm_(c), name_(name) {
  run_phase(c, [&] {
    if (!c.root()) return;
    writer_ = open_writer(store, read, threads);
    writer_->hand_over(name);
    temp_ = writer_->temp_path();
  });
  int length = static_cast<int>(temp_.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, c.comm);
  temp_.resize(static_cast<std::size_t>(length));
  MPI_Bcast(temp_.data(), length, MPI_CHAR, 0, c.comm);
  try {
    open_collectively();
  } catch (...) {  // no destructor runs for an object not constructed
    abandon(result_);
    abandon(file_);
    throw;
  }
}

void ResultFile::open_collectively() {
  const Comm& c = comm_;
  run_phase(c, [&] {
    h5::quiet_errors();
    h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    // The serial writer's format bounds (io/hdf5.cpp), so new objects are made alike.
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, c.comm, MPI_INFO_NULL) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) < 0)
      throw InternalError("HDF5: cannot set the MPI-IO file driver");
    xfer_ = h5::Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
    if (xfer_ < 0 || H5Pset_dxpl_mpio(xfer_, H5FD_MPIO_COLLECTIVE) < 0)
      throw InternalError("HDF5: cannot request collective transfers");
    const hid_t f = H5Fopen(temp_.c_str(), H5F_ACC_RDWR, fapl);
    if (f < 0) h5::throw_write_error(fmt::format("cannot open {} with MPI-IO", temp_));
    file_ = h5::Handle(f, H5Fclose);
  });
  run_phase(c, [&] { result_ = h5::create_group(file_, "/results/" + name_); });
}

ResultFile::~ResultFile() {
  if (file_ >= 0) {
    abandon(result_);
    abandon(file_);
  }
  // writer_ (rank 0) removes the temporary file unless commit() renamed it.
}

void ResultFile::create_group(const std::string& path) {
  run_phase(comm_, [&] { h5::create_group(result_, path); });
}

void ResultFile::write_dataset(const std::string& path, const std::function<h5::Handle()>& create, h5::Hid type,
                               const void* local, const std::vector<std::uint64_t>& start,
                               const std::vector<std::uint64_t>& count, bool empty) {
  h5::Handle d;
  try {
    run_phase(comm_, [&] { d = create(); });
    if (empty) return;  // nothing to write, on every rank
    run_phase(comm_, [&] {
      const std::vector<hsize_t> at(start.begin(), start.end()), n(count.begin(), count.end());
      const bool none = std::find(n.begin(), n.end(), 0) != n.end();
      h5::Handle file_space(H5Dget_space(d), H5Sclose);
      h5::Handle mem_space(H5Screate_simple(static_cast<int>(n.size()), n.data(), nullptr), H5Sclose);
      // Every rank joins the collective write, one without elements with an empty selection.
      const herr_t selected =
          none ? H5Sselect_none(file_space) | H5Sselect_none(mem_space)
               : H5Sselect_hyperslab(file_space, H5S_SELECT_SET, at.data(), nullptr, n.data(), nullptr);
      if (file_space < 0 || mem_space < 0 || selected < 0 || H5Dwrite(d, type, mem_space, file_space, xfer_, local) < 0)
        h5::throw_write_error(fmt::format("cannot write elements {}-{} of '{}'", start[0], start[0] + count[0], path));
    });
  } catch (...) {
    abandon(d);
    throw;
  }
}

void ResultFile::write_matrix(const std::string& path, h5::Hid type, const void* local, std::int64_t row0,
                              std::int64_t local_rows, std::int64_t rows, std::int64_t cols) {
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  write_dataset(
      path, [&] { return io::create_matrix(result_, path, type, u(rows), u(cols)); }, type, local, {u(row0), 0},
      {u(local_rows), u(cols)}, rows * cols == 0);
}

void ResultFile::write_array(const std::string& path, h5::Hid type, const void* local, std::int64_t first,
                             std::int64_t count, std::int64_t n) {
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  write_dataset(
      path, [&] { return h5::create_array(result_, path, type, u(n)); }, type, local, {u(first)}, {u(count)}, n == 0);
}

void ResultFile::write_csr_rows(const std::string& path, const graph::CsrMatrix& local) {
  DRIFTREC_ASSERT(local.indptr.size() == static_cast<std::size_t>(local.n_rows) + 1);
  // This rank's first row and entry, and the totals.
  std::int64_t mine[2] = {local.n_rows, local.nnz()}, before[2] = {0, 0}, total[2] = {0, 0};
  MPI_Exscan(mine, before, 2, MPI_INT64_T, MPI_SUM, comm_.comm);
  if (comm_.root()) before[0] = before[1] = 0;  // MPI_Exscan leaves rank 0's undefined
  MPI_Allreduce(mine, total, 2, MPI_INT64_T, MPI_SUM, comm_.comm);
  // indptr[0] = 0 is rank 0's; every rank writes the ends of its rows, shifted by its first entry.
  const std::size_t skip = comm_.root() ? 0 : 1;
  std::vector<std::int64_t> ends(local.indptr.begin() + static_cast<std::ptrdiff_t>(skip), local.indptr.end());
  for (std::int64_t& e : ends) e += before[1];
  create_group(path);
  write_array(path + "/indptr", H5T_NATIVE_INT64, ends.data(), before[0] + static_cast<std::int64_t>(skip),
              static_cast<std::int64_t>(ends.size()), total[0] + 1);
  write_array(path + "/indices", H5T_NATIVE_INT32, local.indices.data(), before[1], mine[1], total[1]);
  write_array(path + "/data", H5T_NATIVE_FLOAT, local.data.data(), before[1], mine[1], total[1]);
}

void ResultFile::write_rows(const std::string& path, const float* local, std::int64_t row0, std::int64_t local_rows,
                            std::int64_t rows, std::int64_t cols) {
  write_matrix(path, H5T_NATIVE_FLOAT, local, row0, local_rows, rows, cols);
}

void ResultFile::write_rows(const std::string& path, const std::int32_t* local, std::int64_t row0,
                            std::int64_t local_rows, std::int64_t rows, std::int64_t cols) {
  write_matrix(path, H5T_NATIVE_INT32, local, row0, local_rows, rows, cols);
}

void ResultFile::commit(const std::function<void(h5::Hid result)>& finish) {
  run_phase(comm_, [&] {
    result_.reset();
    if (H5Fclose(file_.release()) < 0) h5::throw_write_error(fmt::format("cannot close {}", temp_));
  });
  // Rank 0 alone, after every rank's close: the single process's last writes, then (after
  // the phase's agreement, a barrier) the rename.
  run_phase(comm_, [&] {
    if (!comm_.root()) return;
    h5::Handle f = h5::open_file_for_update(temp_);
    h5::Handle g(H5Gopen2(f, ("/results/" + name_).c_str(), H5P_DEFAULT), H5Gclose);
    if (g < 0) h5::throw_write_error(fmt::format("cannot open /results/{} in {}", name_, temp_));
    finish(g);
    g.reset();
    if (H5Fclose(f.release()) < 0) h5::throw_write_error(fmt::format("cannot close {}", temp_));
  });
  run_phase(comm_, [&] {
    if (comm_.root()) writer_->commit();
  });
}

}  // namespace driftrec::mpi
