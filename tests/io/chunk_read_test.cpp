// Tests for io/chunk_read: ranges of chunked arrays and matrices read chunk by chunk equal
// the arrays written (random ranges, random sizes, a printed seed); a file type other than
// the one asked for is converted as H5Dread converts it; a dataset of another layout is
// read by H5Dread; and a chunk that inflates short, long or not at all is an InputError
// naming the dataset and the chunk, where HDF5's own path read past its buffer.
#include "io/chunk_read.hpp"

#include <catch2/catch.hpp>
#include <libdeflate.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "io/results.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::io;
using driftrec::test::TempDir;

namespace {

// Byte address and stored size of chunk `index` of a dataset.
std::pair<haddr_t, hsize_t> chunk_at(hid_t f, const std::string& name, hsize_t index) {
  h5::Handle d(H5Dopen2(f, name.c_str(), H5P_DEFAULT), H5Dclose);
  h5::Handle space(H5Dget_space(d), H5Sclose);
  hsize_t offset[2];
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  REQUIRE(H5Dget_chunk_info(d, space, index, offset, &mask, &addr, &size) >= 0);
  return {addr, size};
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_bytes(const std::string& path, haddr_t at, const std::string& bytes) {
  std::fstream io(path, std::ios::binary | std::ios::in | std::ios::out);
  io.seekp(static_cast<std::streamoff>(at));
  io.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("ranges of chunked arrays and matrices read chunk by chunk equal what was written", "[hdf5][chunk_read]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string file = (dir / "arrays.h5").string();
  // Up to 3 chunks of 2^18 elements; matrices chunked by whole rows (io/results.cpp).
  const std::size_t n = 300000 + rng() % 400000, rows = 1000 + rng() % 3000, cols = 1 + rng() % 300;
  std::vector<std::int64_t> times(n);
  std::vector<float> values(n);
  for (std::size_t k = 0; k < n; ++k) {
    times[k] = static_cast<std::int64_t>(rng() >> 20) - (std::int64_t{1} << 40);
    values[k] = static_cast<float>(rng() % 1000) / 7.0f;
  }
  std::vector<float> matrix(rows * cols);
  for (float& x : matrix) x = static_cast<float>(rng() % 100000) / 13.0f;
  {
    h5::Handle f = h5::create_file(file);
    h5::write_array<std::int64_t>(f, "times", times, 2);
    h5::write_array<float>(f, "values", values, 2);
    write_matrix(f, "matrix", matrix.data(), rows, cols);
  }
  h5::Handle f = h5::open_file(file);
  const h5::ReadContext cx{file, std::uint64_t{1} << 32};
  CHECK(h5::read_array<std::int64_t>(f, "times", cx) == times);
  CHECK(h5::read_array<float>(f, "values", cx) == values);
  const Matrix m = read_matrix(f, "matrix", cx);
  CHECK(m.rows == rows);
  CHECK(m.cols == cols);
  CHECK(m.data == matrix);
  for (int trial = 0; trial < 40; ++trial) {
    const std::uint64_t first = rng() % n, count = rng() % (n - first + 1);
    INFO("seed " << seed << ", elements [" << first << ", " << first + count << ") of " << n);
    const auto got = h5::read_range<std::int64_t>(f, "times", first, count, cx);
    CHECK(std::equal(got.begin(), got.end(), times.begin() + static_cast<std::ptrdiff_t>(first),
                     times.begin() + static_cast<std::ptrdiff_t>(first + count)));
  }
  // Matrix rows through read_rows itself, as float and converted to double.
  h5::Handle d(H5Dopen2(f, "matrix", H5P_DEFAULT), H5Dclose);
  for (int trial = 0; trial < 20; ++trial) {
    const std::uint64_t first = rng() % rows, count = 1 + rng() % (rows - first);
    INFO("seed " << seed << ", rows [" << first << ", " << first + count << ") of " << rows << " x " << cols);
    std::vector<float> as_float(count * cols);
    std::vector<double> as_double(count * cols);
    h5::read_rows(d, "matrix", first, count, H5T_NATIVE_FLOAT, as_float.data(), cx);
    h5::read_rows(d, "matrix", first, count, H5T_NATIVE_DOUBLE, as_double.data(), cx);
    bool same = true;
    for (std::size_t k = 0; k < count * cols; ++k)
      same = same && as_float[k] == matrix[first * cols + k] && as_double[k] == static_cast<double>(matrix[first * cols + k]);
    CHECK(same);
  }
}

TEST_CASE("an array of another integer width is converted; an unfiltered array is read by H5Dread", "[hdf5][chunk_read]") {
  TempDir dir;
  const std::string file = (dir / "types.h5").string();
  const std::vector<std::int32_t> ids = {-5, 0, 7, 2147483647, -2147483647 - 1};
  {
    h5::Handle f = h5::create_file(file);
    h5::write_array<std::int32_t>(f, "ids", ids, 1);
    const hsize_t n = ids.size();
    h5::Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    h5::Handle d(H5Dcreate2(f, "contiguous", H5T_STD_I32BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    REQUIRE(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data()) >= 0);
  }
  h5::Handle f = h5::open_file(file);
  const h5::ReadContext cx{file, std::uint64_t{1} << 32};
  const std::vector<std::int64_t> wide(ids.begin(), ids.end());
  CHECK(h5::read_array<std::int64_t>(f, "ids", cx) == wide);
  CHECK(h5::read_array<std::int32_t>(f, "contiguous", cx) == ids);
  CHECK(h5::read_range<std::int32_t>(f, "contiguous", 1, 3, cx) == std::vector<std::int32_t>{0, 7, 2147483647});
}

TEST_CASE("a chunk that inflates short, long or not at all is an InputError, not a read past a buffer",
          "[hdf5][chunk_read]") {
  TempDir dir;
  const std::string good = (dir / "good.h5").string();
  std::vector<std::int64_t> big(100000), small(10);
  for (std::size_t k = 0; k < big.size(); ++k) big[k] = static_cast<std::int64_t>(k * k % 9973);
  for (std::size_t k = 0; k < small.size(); ++k) small[k] = static_cast<std::int64_t>(k);
  {
    h5::Handle f = h5::create_file(good);
    h5::write_array<std::int64_t>(f, "big", big, 1);
    h5::write_array<std::int64_t>(f, "small", small, 1);
  }
  std::pair<haddr_t, hsize_t> big_chunk, small_chunk;
  {
    h5::Handle f = h5::open_file(good);
    big_chunk = chunk_at(f, "big", 0);
    small_chunk = chunk_at(f, "small", 0);
  }
  REQUIRE(small_chunk.second < big_chunk.second);
  const std::string bytes = file_bytes(good);
  const std::string small_stream = bytes.substr(small_chunk.first, small_chunk.second);
  const std::string big_stream = bytes.substr(big_chunk.first, big_chunk.second);
  auto damaged = [&](const std::string& file, haddr_t at, const std::string& with) {
    const std::string path = (dir / file).string();
    std::ofstream(path, std::ios::binary) << bytes;
    put_bytes(path, at, with);
    return path;
  };
  auto error_of = [](const std::string& path, const std::string& name) -> std::string {
    h5::Handle f = h5::open_file(path);
    try {
      (void)h5::read_array<std::int64_t>(f, name, h5::ReadContext{path, std::uint64_t{1} << 32});
    } catch (const driftrec::InputError& e) {
      return e.what();
    }
    return "no error";
  };
  // A valid zlib stream of 80 bytes where 800,000 are due: HDF5 1.10 copied 800,000.
  CHECK_THAT(error_of(damaged("short.h5", big_chunk.first, small_stream), "big"),
             Catch::Contains("dataset 'big' has a chunk at row 0 that does not inflate to its 800000 bytes (too short"));
  // A valid stream longer than the chunk: 4,000 zero bytes deflate to a few.
  std::string zeros_stream(64, '\0');
  {
    libdeflate_compressor* c = libdeflate_alloc_compressor(6);
    const std::vector<unsigned char> zeros(4000, 0);
    zeros_stream.resize(libdeflate_zlib_compress(c, zeros.data(), zeros.size(), zeros_stream.data(), zeros_stream.size()));
    libdeflate_free_compressor(c);
  }
  REQUIRE(!zeros_stream.empty());
  REQUIRE(zeros_stream.size() <= small_chunk.second);
  CHECK_THAT(error_of(damaged("long.h5", small_chunk.first, zeros_stream), "small"),
             Catch::Contains("dataset 'small' has a chunk at row 0 that does not inflate to its 80 bytes (too long"));
  // A stream cut short.
  CHECK_THAT(error_of(damaged("cut.h5", small_chunk.first, big_stream.substr(0, small_chunk.second)), "small"),
             Catch::Contains("dataset 'small' has a chunk at row 0 that does not inflate"));
  // Not zlib at all.
  CHECK_THAT(error_of(damaged("garbage.h5", big_chunk.first, std::string(64, '\x5a')), "big"),
             Catch::Contains("(not a zlib stream; damaged?)"));
  // The untouched file reads back.
  h5::Handle f = h5::open_file(good);
  CHECK(h5::read_array<std::int64_t>(f, "big", h5::ReadContext{good, std::uint64_t{1} << 32}) == big);
}
