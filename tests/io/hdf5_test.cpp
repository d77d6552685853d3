// Tests for io/hdf5's chunk writers: the chunks in the file are the same bytes whatever the
// thread count, compress_chunks + write_compressed give the file write_array gives, strings
// written a chunk at a time read back, and everything reads back through HDF5's own
// shuffle and deflate (zlib) filters.
#include "io/hdf5.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/test_util.hpp"

using namespace driftrec::io;
using driftrec::test::TempDir;

namespace {

// Every chunk of a 1-d dataset as stored: (filter mask, bytes).
std::vector<std::pair<std::uint32_t, std::vector<unsigned char>>> raw_chunks(const std::string& file, const std::string& name) {
  h5::Handle f = h5::open_file(file);
  h5::Handle d(H5Dopen2(f, name.c_str(), H5P_DEFAULT), H5Dclose);
  REQUIRE(d >= 0);
  h5::Handle space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  h5::Handle dcpl(H5Dget_create_plist(d), H5Pclose);
  hsize_t chunk = 0;
  REQUIRE(H5Pget_chunk(dcpl, 1, &chunk) == 1);
  std::vector<std::pair<std::uint32_t, std::vector<unsigned char>>> out;
  for (hsize_t at = 0; at < n; at += chunk) {
    hsize_t bytes = 0;
    REQUIRE(H5Dget_chunk_storage_size(d, &at, &bytes) >= 0);
    std::vector<unsigned char> buf(bytes);
    std::uint32_t mask = 0;
    REQUIRE(H5Dread_chunk(d, H5P_DEFAULT, &at, &mask, buf.data()) >= 0);
    out.emplace_back(mask, std::move(buf));
  }
  return out;
}

struct Columns {
  std::vector<std::int64_t> time;
  std::vector<std::int32_t> id;
  std::vector<float> value;
  std::vector<std::string> names;
};

// Over three chunks (2^18 elements) each, with the kinds of bytes the store's columns have.
Columns random_columns(std::mt19937_64& rng) {
  Columns c;
  const std::size_t n = 700000;
  std::int64_t t = 1'500'000'000;
  for (std::size_t k = 0; k < n; ++k) {
    t += static_cast<std::int64_t>(rng() % 7);
    c.time.push_back(t);
    c.id.push_back(static_cast<std::int32_t>(rng() % 500000));
    c.value.push_back(rng() % 3 == 0 ? 1.0f : static_cast<float>(rng() % 1000) / 7.0f);
  }
  for (std::size_t k = 0; k < 300000; ++k) c.names.push_back(fmt::format("u{}", rng() % 1000000));
  c.names[12345] = std::string(40, 'x');  // one long name widens them all
  return c;
}

}  // namespace

TEST_CASE("write_array stores the same chunk bytes on any thread count, as compress_chunks + write_compressed do",
          "[hdf5][threads]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const Columns c = random_columns(rng);
  TempDir dir;
  auto path = [&](const std::string& tag) { return (dir / (tag + ".h5")).string(); };
  for (int threads : {1, 2, 3}) {
    h5::Handle f = h5::create_file(path(fmt::format("t{}", threads)));
    h5::write_array<std::int64_t>(f, "time", c.time, threads);
    h5::write_array<std::int32_t>(f, "id", c.id, threads);
    h5::write_array<float>(f, "value", c.value, threads);
    h5::write_strings(f, "names", c.names, threads);
  }
  {
    h5::Handle f = h5::create_file(path("packed"));
    h5::write_compressed(f, "time", H5T_NATIVE_INT64, h5::compress_array<std::int64_t>(c.time, 2));
    h5::write_compressed(f, "id", H5T_NATIVE_INT32, h5::compress_array<std::int32_t>(c.id, 1));
    h5::write_compressed(f, "value", H5T_NATIVE_FLOAT, h5::compress_array<float>(c.value, 0));
  }
  for (const char* name : {"time", "id", "value", "names"}) {
    CAPTURE(name);
    const auto one = raw_chunks(path("t1"), name);
    CHECK(one.size() == (std::string(name) == "names" ? 2u : 3u));
    CHECK(raw_chunks(path("t2"), name) == one);
    CHECK(raw_chunks(path("t3"), name) == one);
    if (std::string(name) != "names") CHECK(raw_chunks(path("packed"), name) == one);
  }
  // Read back through HDF5's filters (zlib's inflate), not our encoder's idea of the format.
  for (const char* tag : {"t1", "t2", "packed"}) {
    CAPTURE(tag);
    h5::Handle f = h5::open_file(path(tag));
    const h5::ReadContext cx{path(tag), std::uint64_t{1} << 32};
    CHECK(h5::read_array<std::int64_t>(f, "time", cx) == c.time);
    CHECK(h5::read_array<std::int32_t>(f, "id", cx) == c.id);
    CHECK(h5::read_array<float>(f, "value", cx) == c.value);
    if (std::string(tag) != "packed") CHECK(h5::read_strings(f, "names", cx) == c.names);
  }
}

TEST_CASE("write_strings and write_compressed handle empty and one-element arrays", "[hdf5]") {
  TempDir dir;
  const std::string file = (dir / "small.h5").string();
  {
    h5::Handle f = h5::create_file(file);
    h5::write_strings(f, "none", {}, 2);
    h5::write_strings(f, "one", {"only"}, 2);
    h5::write_compressed(f, "empty", H5T_NATIVE_INT32, h5::compress_array<std::int32_t>(std::vector<std::int32_t>{}, 2));
    h5::write_compressed(f, "single", H5T_NATIVE_INT64, h5::compress_array<std::int64_t>(std::vector<std::int64_t>{-7}, 2));
  }
  h5::Handle f = h5::open_file(file);
  const h5::ReadContext cx{file, std::uint64_t{1} << 32};
  CHECK(h5::read_strings(f, "none", cx).empty());
  CHECK(h5::read_strings(f, "one", cx) == std::vector<std::string>{"only"});
  CHECK(h5::read_array<std::int32_t>(f, "empty", cx).empty());
  CHECK(h5::read_array<std::int64_t>(f, "single", cx) == std::vector<std::int64_t>{-7});
}

TEST_CASE("a chunk that deflate does not shrink is still a zlib stream with filter mask 0 and reads back",
          "[hdf5]") {
  // Random bytes in every plane (no plane shrinks), and arrays so short that the zlib
  // wrapper alone outweighs them: before, both were stored raw with the mask bit that skips
  // deflate, which parallel HDF5's collective reads ignore.
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> noise(300000);
  for (auto& v : noise) v = static_cast<std::int64_t>(rng());
  std::vector<float> floats(1000);
  for (auto& v : floats) {
    const auto bits = static_cast<std::uint32_t>(rng() % 0x7f000000u);  // finite, any bit pattern
    std::memcpy(&v, &bits, 4);
  }
  const std::vector<std::int64_t> one{-7};
  const std::vector<std::int32_t> three{5, -1, 123456789};
  TempDir dir;
  const std::string file = (dir / "raw.h5").string();
  {
    h5::Handle f = h5::create_file(file);
    h5::write_array<std::int64_t>(f, "noise", noise, 2);
    h5::write_array<float>(f, "floats", floats, 1);
    h5::write_array<std::int64_t>(f, "one", one);
    h5::write_array<std::int32_t>(f, "three", three);
    h5::write_compressed(f, "packed_noise", H5T_NATIVE_INT64, h5::compress_array<std::int64_t>(noise, 2));
  }
  for (const char* name : {"noise", "floats", "one", "three", "packed_noise"}) {
    CAPTURE(name);
    const auto chunks = raw_chunks(file, name);
    REQUIRE(!chunks.empty());
    for (const auto& [mask, bytes] : chunks) {
      CHECK(mask == 0u);
      CHECK(bytes.size() >= 6u);
      CHECK(bytes[0] == 0x78);  // a zlib header, not raw data
    }
  }
  // The incompressible chunks cost their bytes plus a few per 64 KiB stored block.
  const auto noise_chunks = raw_chunks(file, "noise");
  const std::size_t chunk_bytes = (std::size_t{1} << 18) * 8;
  CHECK(noise_chunks[0].second.size() > chunk_bytes);
  CHECK(noise_chunks[0].second.size() < chunk_bytes + chunk_bytes / 1000);
  // Read back through HDF5's own filters (zlib's inflate).
  h5::Handle f = h5::open_file(file);
  const h5::ReadContext cx{file, std::uint64_t{1} << 32};
  CHECK(h5::read_array<std::int64_t>(f, "noise", cx) == noise);
  CHECK(h5::read_array<std::int64_t>(f, "packed_noise", cx) == noise);
  CHECK(h5::read_array<float>(f, "floats", cx) == floats);
  CHECK(h5::read_array<std::int64_t>(f, "one", cx) == one);
  CHECK(h5::read_array<std::int32_t>(f, "three", cx) == three);
}

TEST_CASE("a number or string attribute of more than one element is refused, not read past its one value", "[hdf5]") {
  TempDir dir;
  const std::string file = (dir / "attrs.h5").string();
  {
    h5::Handle f = h5::create_file(file);
    h5::write_attr(f, "one_int", std::int64_t{5});
    h5::write_attr(f, "one_double", 2.5);
    h5::write_attr(f, "one_string", std::string("abc"));
    // What a damaged store could hold: the same names' types with four elements.
    const hsize_t four = 4;
    h5::Handle space(H5Screate_simple(1, &four, nullptr), H5Sclose);
    const std::int64_t ints[4] = {1, 2, 3, 4};
    const double doubles[4] = {1, 2, 3, 4};
    const char chars[4][3] = {{'a', 'b', 'c'}, {'d', 'e', 'f'}, {'g', 'h', 'i'}, {'j', 'k', 'l'}};
    h5::Handle s3(H5Tcopy(H5T_C_S1), H5Tclose);
    REQUIRE(H5Tset_size(s3, 3) >= 0);
    for (const auto& [name, type, data] : {std::tuple{"four_ints", H5T_NATIVE_INT64, static_cast<const void*>(ints)},
                                           std::tuple{"four_doubles", H5T_NATIVE_DOUBLE, static_cast<const void*>(doubles)},
                                           std::tuple{"four_strings", hid_t{s3}, static_cast<const void*>(chars)}}) {
      h5::Handle a(H5Acreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
      REQUIRE(a >= 0);
      REQUIRE(H5Awrite(a, type, data) >= 0);
    }
  }
  h5::Handle f = h5::open_file(file);
  const h5::ReadContext cx{file, std::uint64_t{1} << 32};
  CHECK(h5::read_attr_int(f, "one_int", cx) == 5);
  CHECK(h5::read_attr_double(f, "one_double", cx) == 2.5);
  CHECK(h5::read_attr_string(f, "one_string", cx) == "abc");
  CHECK_THROWS_WITH(h5::read_attr_int(f, "four_ints", cx), Catch::Contains("'four_ints' is not an integer"));
  CHECK_THROWS_WITH(h5::read_attr_double(f, "four_doubles", cx), Catch::Contains("'four_doubles' is not a number"));
  CHECK_THROWS_WITH(h5::read_attr_string(f, "four_strings", cx), Catch::Contains("'four_strings' is not a single string"));
}
