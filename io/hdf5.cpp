#include "io/hdf5.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace driftrec::io::h5 {
namespace {

constexpr std::uint64_t kChunkElements = 1 << 18;

// Two tiers: a bad file is the user's input; a failed write is ours to report as internal.
[[noreturn]] void read_fail(const ReadContext& cx, const std::string& what) {
  std::string detail = last_error();
  throw graph::InputError(fmt::format("{}: {}{}{}", cx.file, what, detail.empty() ? "" : ": ", detail));
}
[[noreturn]] void write_fail(const std::string& what) {
  std::string detail = last_error();
  throw std::runtime_error(fmt::format("HDF5: {}{}{}", what, detail.empty() ? "" : ": ", detail));
}

herr_t walk_innermost(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

Handle open_dataset(hid_t loc, const std::string& name, const ReadContext& cx) {
  if (!exists(loc, name)) read_fail(cx, fmt::format("missing dataset '{}' (not a complete driftrec store?)", name));
  hid_t d = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
  if (d < 0) read_fail(cx, fmt::format("cannot open dataset '{}'", name));
  return Handle(d, H5Dclose);
}

// Checks a dataset is 1-d with elements of `cls`; returns its length.
std::uint64_t checked_length(hid_t d, const std::string& name, H5T_class_t cls, std::size_t elem,
                             const ReadContext& cx) {
  Handle type(H5Dget_type(d), H5Tclose);
  if (type < 0 || H5Tget_class(type) != cls)
    read_fail(cx, fmt::format("dataset '{}' has an unexpected element type", name));
  Handle space(H5Dget_space(d), H5Sclose);
  if (space < 0 || H5Sget_simple_extent_ndims(space) != 1)
    read_fail(cx, fmt::format("dataset '{}' is not one-dimensional", name));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  if (n > cx.max_bytes / std::max<std::size_t>(elem, 1))
    read_fail(cx, fmt::format("dataset '{}' claims {} elements, more than the file could hold "
                              "(corrupt store?)",
                              name, static_cast<std::uint64_t>(n)));
  return n;
}

template <class T> H5T_class_t class_of() {
  return std::is_floating_point_v<T> ? H5T_FLOAT : H5T_INTEGER;
}

}  // namespace

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string last_error() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg;
}

Handle create_file(const std::string& path) {
  quiet_errors();
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) write_fail(fmt::format("cannot create {}", path));
  return Handle(f, H5Fclose);
}

Handle create_group(hid_t loc, const std::string& name) {
  hid_t g = H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) write_fail(fmt::format("cannot create group '{}'", name));
  return Handle(g, H5Gclose);
}

Handle create_array(hid_t loc, const std::string& name, hid_t type, std::uint64_t n) {
  hsize_t dims = n, maxdims = n;
  Handle space(H5Screate_simple(1, &dims, &maxdims), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t chunk = std::clamp<std::uint64_t>(n, 1, kChunkElements);
  if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
      H5Pset_deflate(dcpl, 1) < 0)
    write_fail(fmt::format("cannot set up dataset '{}'", name));
  hid_t d = H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d < 0) write_fail(fmt::format("cannot create dataset '{}'", name));
  return Handle(d, H5Dclose);
}

template <class T>
void write_block(hid_t dset, std::uint64_t offset, std::span<const T> data) {
  if (data.empty()) return;
  hsize_t start = offset, count = data.size();
  Handle file_space(H5Dget_space(dset), H5Sclose);
  Handle mem_space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  if (file_space < 0 || mem_space < 0 ||
      H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &count, nullptr) < 0 ||
      H5Dwrite(dset, native_type<T>(), mem_space, file_space, H5P_DEFAULT, data.data()) < 0)
    write_fail("write failed");
}

template void write_block<std::int32_t>(hid_t, std::uint64_t, std::span<const std::int32_t>);
template void write_block<std::int64_t>(hid_t, std::uint64_t, std::span<const std::int64_t>);
template void write_block<float>(hid_t, std::uint64_t, std::span<const float>);
template void write_block<double>(hid_t, std::uint64_t, std::span<const double>);

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (type < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0)
    write_fail("cannot make a string type");
  std::vector<const char*> ptrs(values.size());
  std::transform(values.begin(), values.end(), ptrs.begin(), [](const std::string& s) { return s.c_str(); });
  Handle d = create_array(loc, name, type, values.size());
  if (!values.empty() && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    write_fail(fmt::format("cannot write '{}'", name));
}

namespace {
void write_scalar_attr(hid_t obj, const std::string& name, hid_t type, const void* value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (a < 0 || H5Awrite(a, type, value) < 0) write_fail(fmt::format("cannot write attribute '{}'", name));
}
}  // namespace

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const char* p = value.c_str();
  write_scalar_attr(obj, name, type, &p);
}
void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
  write_scalar_attr(obj, name, H5T_NATIVE_INT64, &value);
}
void write_attr(hid_t obj, const std::string& name, double value) {
  write_scalar_attr(obj, name, H5T_NATIVE_DOUBLE, &value);
}

bool exists(hid_t loc, const std::string& path) {
  // H5Lexists needs every parent to exist; check each prefix.
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

Handle open_file(const std::string& path) {
  quiet_errors();
  ReadContext cx{path, 0};
  htri_t is = H5Fis_hdf5(path.c_str());
  if (is == 0) read_fail(cx, "not an HDF5 file (expected a store written by `driftrec ingest`)");
  if (is < 0) read_fail(cx, "cannot open");
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) read_fail(cx, "cannot open as HDF5 (truncated or damaged?)");
  return Handle(f, H5Fclose);
}

Handle open_group(hid_t loc, const std::string& name, const ReadContext& cx) {
  if (!exists(loc, name)) read_fail(cx, fmt::format("missing group '{}' (not a complete driftrec store?)", name));
  hid_t g = H5Gopen2(loc, name.c_str(), H5P_DEFAULT);
  if (g < 0) read_fail(cx, fmt::format("cannot open group '{}'", name));
  return Handle(g, H5Gclose);
}

std::uint64_t array_size(hid_t loc, const std::string& name, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  Handle space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  if (space < 0 || H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, &n, nullptr) < 0)
    read_fail(cx, fmt::format("dataset '{}' is not one-dimensional", name));
  return n;
}

template <class T>
std::vector<T> read_range(hid_t loc, const std::string& name, std::uint64_t offset,
                          std::uint64_t count, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  std::uint64_t n = checked_length(d, name, class_of<T>(), sizeof(T), cx);
  if (offset > n || count > n - offset)
    read_fail(cx, fmt::format("dataset '{}' has {} elements, fewer than needed ({})", name, n, offset + count));
  std::vector<T> out(count);
  if (count == 0) return out;
  hsize_t start = offset, cnt = count;
  Handle file_space(H5Dget_space(d), H5Sclose);
  Handle mem_space(H5Screate_simple(1, &cnt, nullptr), H5Sclose);
  if (H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &cnt, nullptr) < 0 ||
      H5Dread(d, native_type<T>(), mem_space, file_space, H5P_DEFAULT, out.data()) < 0)
    read_fail(cx, fmt::format("cannot read dataset '{}' (damaged?)", name));
  return out;
}

template <class T>
std::vector<T> read_array(hid_t loc, const std::string& name, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  std::uint64_t n = checked_length(d, name, class_of<T>(), sizeof(T), cx);
  d.reset();
  return read_range<T>(loc, name, 0, n, cx);
}

template std::vector<std::int32_t> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<std::int64_t> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<float> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<double> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<std::int64_t> read_range(hid_t, const std::string&, std::uint64_t, std::uint64_t, const ReadContext&);

std::vector<std::string> read_strings(hid_t loc, const std::string& name, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  std::uint64_t n = checked_length(d, name, H5T_STRING, sizeof(char*), cx);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<char*> ptrs(n, nullptr);
  std::vector<std::string> out;
  if (n == 0) return out;
  Handle space(H5Dget_space(d), H5Sclose);
  if (H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    read_fail(cx, fmt::format("cannot read strings '{}' (damaged?)", name));
  out.reserve(n);
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
  return out;
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr_string(hid_t obj, const std::string& name, const ReadContext& cx) {
  if (!has_attr(obj, name)) read_fail(cx, fmt::format("missing attribute '{}'", name));
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle stored(H5Aget_type(a), H5Tclose);
  if (a < 0 || stored < 0 || H5Tget_class(stored) != H5T_STRING)
    read_fail(cx, fmt::format("attribute '{}' is not a string", name));
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  if (H5Tis_variable_str(stored) <= 0) read_fail(cx, fmt::format("attribute '{}' is not a variable-length string", name));
  char* p = nullptr;
  if (H5Aread(a, type, &p) < 0) read_fail(cx, fmt::format("cannot read attribute '{}'", name));
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

std::int64_t read_attr_int(hid_t obj, const std::string& name, const ReadContext& cx) {
  if (!has_attr(obj, name)) read_fail(cx, fmt::format("missing attribute '{}'", name));
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle stored(H5Aget_type(a), H5Tclose);
  std::int64_t v = 0;
  if (a < 0 || stored < 0 || H5Tget_class(stored) != H5T_INTEGER || H5Aread(a, H5T_NATIVE_INT64, &v) < 0)
    read_fail(cx, fmt::format("attribute '{}' is not an integer", name));
  return v;
}

}  // namespace driftrec::io::h5
