#include "io/table_file.hpp"

#include <hdf5.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "io/hdf5.hpp"

namespace driftrec::io {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + h5::last_error()); }

hid_t memory_type(TableFile::Type t) {
  switch (t) {
    case TableFile::Type::int8: return H5T_NATIVE_INT8;
    case TableFile::Type::int32: return H5T_NATIVE_INT32;
    case TableFile::Type::float32: return H5T_NATIVE_FLOAT;
  }
  return H5T_NATIVE_FLOAT;
}
hid_t file_type(TableFile::Type t) {
  switch (t) {
    case TableFile::Type::int8: return H5T_STD_I8LE;
    case TableFile::Type::int32: return H5T_STD_I32LE;
    case TableFile::Type::float32: return H5T_IEEE_F32LE;
  }
  return H5T_IEEE_F32LE;
}

// Creation properties without time stamps; chunked and compressed when `chunk` is set.
h5::Handle dataset_properties(int rank, const hsize_t* chunk) {
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) fail("cannot set up a dataset");
  if (chunk && (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, 1) < 0))
    fail("cannot set up a dataset");
  return dcpl;
}

}  // namespace

TableFile::TableFile(const std::string& path) : path_(path) {
  h5::quiet_errors();
  // The root group records no times either, and the 1.10 format checksums the metadata.
  h5::Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose), fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (fcpl < 0 || fapl < 0 || H5Pset_obj_track_times(fcpl, 0) < 0 ||
      H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) < 0)
    fail("cannot set up an HDF5 file");
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  if (f < 0) fail(fmt::format("cannot create {}", path));
  file_ = h5::Handle(f, H5Fclose);
}

void TableFile::add(const std::string& name, Type type, std::uint64_t rows, std::uint64_t cols) {
  const int rank = cols == 0 ? 1 : 2;
  const hsize_t dims[2] = {rows, cols};
  // About 64 KiB of rows per chunk.
  const hsize_t row_bytes = std::max<hsize_t>(1, cols) * (type == Type::int8 ? 1 : 4);
  const hsize_t chunk[2] = {std::clamp<hsize_t>(65536 / row_bytes, 1, std::max<hsize_t>(rows, 1)),
                            std::max<hsize_t>(cols, 1)};
  h5::Handle space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  h5::Handle dcpl = dataset_properties(rank, rows > 0 ? chunk : nullptr);
  hid_t d = H5Dcreate2(file_, name.c_str(), file_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d < 0) fail(fmt::format("{}: cannot create '{}'", path_, name));
  tables_.push_back({name, type, rows, cols, h5::Handle(d, H5Dclose)});
}

TableFile::Table& TableFile::find(const std::string& name) {
  for (Table& t : tables_)
    if (t.name == name) return t;
  throw std::logic_error("TableFile: no table " + name);
}

void TableFile::write_rows(const std::string& name, std::uint64_t first, std::uint64_t count, const void* data) {
  if (count == 0) return;
  Table& t = find(name);
  const int rank = t.cols == 0 ? 1 : 2;
  const hsize_t start[2] = {first, 0}, size[2] = {count, t.cols};
  h5::Handle file_space(H5Dget_space(t.dataset), H5Sclose);
  h5::Handle mem_space(H5Screate_simple(rank, size, nullptr), H5Sclose);
  if (H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, size, nullptr) < 0 ||
      H5Dwrite(t.dataset, memory_type(t.type), mem_space, file_space, H5P_DEFAULT, data) < 0)
    fail(fmt::format("{}: cannot write rows of '{}'", path_, name));
}

void TableFile::add_strings(const std::string& name, const std::vector<std::string>& values) {
  // Fixed-length, null-padded UTF-8 as in the store (io/hdf5.hpp), so one reader serves both.
  std::size_t width = 1;
  for (const std::string& v : values) width = std::max(width, v.size());
  h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (type < 0 || H5Tset_size(type, width) < 0 || H5Tset_strpad(type, H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type, H5T_CSET_UTF8) < 0)
    fail("cannot make a string type");
  const hsize_t n = values.size(), chunk = std::clamp<hsize_t>(n, 1, std::max<hsize_t>(1, 65536 / width));
  h5::Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  h5::Handle dcpl = dataset_properties(1, n > 0 ? &chunk : nullptr);
  h5::Handle d(H5Dcreate2(file_, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
  if (d < 0) fail(fmt::format("{}: cannot create '{}'", path_, name));
  std::vector<char> buf(values.size() * width, '\0');
  for (std::size_t k = 0; k < values.size(); ++k) std::copy(values[k].begin(), values[k].end(), buf.begin() + k * width);
  if (n > 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    fail(fmt::format("{}: cannot write '{}'", path_, name));
}

void TableFile::attr(const std::string& name, const std::string& value) { h5::write_attr(file_, name, value); }
void TableFile::attr(const std::string& name, std::int64_t value) { h5::write_attr(file_, name, value); }

void TableFile::close() {
  tables_.clear();
  if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) fail(fmt::format("cannot flush {} (disk full?)", path_));
  if (H5Fclose(file_.release()) < 0) fail(fmt::format("cannot close {} (disk full?)", path_));
}

}  // namespace driftrec::io
