#include "io/results.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/chunk_read.hpp"

namespace driftrec::io {

namespace {

void check_name_syntax(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 128 &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            });
  if (!ok)
    throw InputError(fmt::format("--name '{}': expected 1 to 128 letters, digits, '_' or '-'", name));
}

}  // namespace

void check_result_name(const std::string& name) {
  check_name_syntax(name);
  // `recommend`, `export`, `serve` and the Python module read the name "ranker" as the
  // learned item ranker, so a stored result of that name could never be asked for.
  if (name == kRankerName)
    throw InputError(fmt::format("--name '{}': reserved for the learned item ranker (`--model {}`); "
                                 "choose another name", name, name));
}

h5::Handle create_result(StoreWriter& w, const std::string& name) {
  check_result_name(name);
  hid_t f = w.file();
  if (!h5::exists(f, "/results")) h5::create_group(f, "/results");
  const std::string path = "/results/" + name;
  // A result of this name that the writer copied is dropped here; StoreWriter copies the
  // store's results it did not write only on commit, so a replaced one costs no space.
  if (h5::exists(f, path) && H5Ldelete(f, path.c_str(), H5P_DEFAULT) < 0)
    throw std::runtime_error(fmt::format("cannot replace result '{}'", name));
  return h5::create_group(f, path);
}

std::string period_name(std::size_t period) { return fmt::format("{:04d}", period); }

h5::Handle open_result(const Store& store, const std::string& name) {
  check_name_syntax(name);
  auto names = store.results();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw InputError(fmt::format("{}: no result named '{}' (it has: {})", store.path(), name,
                                 names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  return h5::open_group(store.file(), "/results/" + name, store.context());
}

namespace {

void write_matrix_of(hid_t loc, const std::string& name, hid_t type, const void* data, std::uint64_t rows,
                     std::uint64_t cols) {
  h5::Handle d = create_matrix(loc, name, type, rows, cols);
  if (rows * cols > 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    h5::throw_write_error(fmt::format("cannot write matrix '{}'", name));
}

}  // namespace

h5::Handle create_matrix(hid_t loc, const std::string& name, hid_t type, std::uint64_t rows, std::uint64_t cols) {
  hsize_t dims[2] = {rows, cols};
  hsize_t chunk[2] = {std::clamp<hsize_t>(rows, 1, std::max<hsize_t>(1, (1 << 18) / std::max<hsize_t>(cols, 1))),
                      std::max<hsize_t>(cols, 1)};
  h5::Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
  h5::Handle dcpl = h5::untimed_creation(H5P_DATASET_CREATE);
  if (space < 0 || H5Pset_chunk(dcpl, 2, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
      H5Pset_deflate(dcpl, 1) < 0)
    throw std::runtime_error(fmt::format("HDF5: cannot set up matrix '{}'", name));
  h5::Handle d(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
  if (d < 0) h5::throw_write_error(fmt::format("cannot create matrix '{}'", name));
  return d;
}

void write_matrix(hid_t loc, const std::string& name, const float* data, std::uint64_t rows,
                  std::uint64_t cols) {
  write_matrix_of(loc, name, H5T_NATIVE_FLOAT, data, rows, cols);
}

void write_matrix(hid_t loc, const std::string& name, const std::int32_t* data, std::uint64_t rows,
                  std::uint64_t cols) {
  write_matrix_of(loc, name, H5T_NATIVE_INT32, data, rows, cols);
}

namespace {

// A 2-d dataset of `type_class` read as T, its size checked against the file's before allocating.
template <class M, class T>
M read_matrix_of(hid_t loc, const std::string& name, const h5::ReadContext& cx, H5T_class_t type_class,
                 const char* expected) {
  auto fail = [&](const std::string& why) { throw InputError(fmt::format("{}: matrix '{}': {}", cx.file, name, why)); };
  if (!h5::exists(loc, name)) fail("missing");
  h5::Handle d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("cannot open");
  h5::Handle type(H5Dget_type(d), H5Tclose);
  h5::Handle space(H5Dget_space(d), H5Sclose);
  if (type < 0 || H5Tget_class(type) != type_class || space < 0 || H5Sget_simple_extent_ndims(space) != 2)
    fail(expected);
  hsize_t dims[2];
  H5Sget_simple_extent_dims(space, dims, nullptr);
  M m{dims[0], dims[1], {}};
  if (m.cols != 0 && m.rows > cx.max_bytes / sizeof(T) / m.cols) fail("larger than the file could hold (corrupt?)");
  m.data.resize(m.rows * m.cols);
  if (!m.data.empty()) h5::read_rows(d, name, 0, m.rows, h5::native_type<T>(), m.data.data(), cx);
  return m;
}

}  // namespace

namespace {

// The HDF5 path of an open group ("/results/als"), for messages.
std::string object_path(hid_t loc) {
  const ssize_t n = H5Iget_name(loc, nullptr, 0);
  if (n <= 0) return "?";
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Iget_name(loc, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

}  // namespace

void check_result_values(const float* data, std::size_t n, std::size_t cols, const std::string& dataset,
                         const h5::ReadContext& cx, NonFinite non_finite) {
  for (std::size_t k = 0; k < n; ++k) {
    const float v = data[k];
    if (std::isfinite(v) || (non_finite == NonFinite::allow_negative_infinity && std::isinf(v) && v < 0)) continue;
    // "/results/<name>/..." names the result.
    std::string result = dataset;
    if (result.starts_with("/results/")) result = result.substr(9, result.find('/', 9) - 9);
    throw InputError(fmt::format(
        "{}: result '{}' is damaged: dataset {} holds {} at {} (a result holds finite numbers only; was the "
        "file edited?); compute the result again, which replaces it",
        cx.file, result, dataset, v,
        cols ? fmt::format("row {}, column {}", k / cols, k % cols) : fmt::format("entry {}", k)));
  }
}

Matrix read_matrix(hid_t loc, const std::string& name, const h5::ReadContext& cx, NonFinite non_finite) {
  Matrix m = read_matrix_of<Matrix, float>(loc, name, cx, H5T_FLOAT, "expected a 2-d float dataset");
  check_result_values(m.data.data(), m.data.size(), m.cols, object_path(loc) + "/" + name, cx, non_finite);
  return m;
}

IndexMatrix read_index_matrix(hid_t loc, const std::string& name, const h5::ReadContext& cx) {
  return read_matrix_of<IndexMatrix, std::int32_t>(loc, name, cx, H5T_INTEGER, "expected a 2-d integer dataset");
}

}  // namespace driftrec::io
