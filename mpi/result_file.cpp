// The collective result writer of mpi/result_file.hpp.
#include "mpi/result_file.hpp"

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

void ResultFile::write_matrix(const std::string& path, h5::Hid type, const void* local, std::int64_t row0,
                              std::int64_t local_rows, std::int64_t rows, std::int64_t cols) {
  h5::Handle d;
  try {
    run_phase(comm_, [&] {
      d = io::create_matrix(result_, path, type, static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols));
    });
    if (rows * cols == 0) return;  // nothing to write, on every rank
    run_phase(comm_, [&] {
      hsize_t start[2] = {static_cast<hsize_t>(row0), 0};
      hsize_t count[2] = {static_cast<hsize_t>(local_rows), static_cast<hsize_t>(cols)};
      h5::Handle file_space(H5Dget_space(d), H5Sclose);
      h5::Handle mem_space(H5Screate_simple(2, count, nullptr), H5Sclose);
      // Every rank joins the collective write, one without rows with an empty selection.
      const herr_t selected = local_rows == 0
                                  ? H5Sselect_none(file_space) | H5Sselect_none(mem_space)
                                  : H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr);
      if (file_space < 0 || mem_space < 0 || selected < 0 ||
          H5Dwrite(d, type, mem_space, file_space, xfer_, local) < 0)
        h5::throw_write_error(fmt::format("cannot write rows {}-{} of '{}'", row0, row0 + local_rows, path));
    });
  } catch (...) {
    abandon(d);
    throw;
  }
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
