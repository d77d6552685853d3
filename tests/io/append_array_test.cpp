// io/hdf5 append_array and append_strings: appending to an extensible dataset in place
// gives the concatenation (checked against std::vector on random lengths that end a chunk
// partly filled, exactly filled, or not at all), fixed-size datasets say they cannot grow,
// and a string wider than the stored width is refused without writing anything.
#include "io/hdf5.hpp"

#include <catch2/catch.hpp>

#include <random>

#include "tests/test_util.hpp"

using namespace driftrec;
namespace h5 = io::h5;

TEST_CASE("append_array gives the concatenation, whatever the fill of the last chunk", "[io][hdf5][append]") {
  test::TempDir dir;
  const std::uint64_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::uint64_t chunk = h5::kMinExtensibleChunk;
  // Initial sizes: below one chunk, exactly one, a chunk and a bit, random.
  for (std::uint64_t n0 : {std::uint64_t{1}, chunk - 1, chunk, chunk + 7, 3 * chunk + rng() % chunk}) {
    CAPTURE(n0);
    const auto path = (dir / "a.h5").string();
    std::vector<std::int64_t> want(n0);
    for (auto& v : want) v = static_cast<std::int64_t>(rng() % 1000);
    {
      const h5::Handle f = h5::create_file(path);
      h5::write_array<std::int64_t>(f, "x", want, 2, h5::Extent::extensible);
      h5::write_array<std::int64_t>(f, "fixed", want, 2);
      CHECK(h5::is_extensible(f, "x"));
      CHECK_FALSE(h5::is_extensible(f, "fixed"));
      // Appends of 0, 1, a chunk's worth and a random number.
      for (std::uint64_t add : {std::uint64_t{0}, std::uint64_t{1}, chunk, rng() % (2 * chunk)}) {
        std::vector<std::int64_t> more(add);
        for (auto& v : more) v = static_cast<std::int64_t>(rng() % 1000) - 500;
        h5::append_array<std::int64_t>(f, "x", more, 2);
        want.insert(want.end(), more.begin(), more.end());
      }
    }
    const h5::Handle f = h5::open_file(path);
    const h5::ReadContext cx{path, ~std::uint64_t{0}};
    CHECK(h5::read_array<std::int64_t>(f, "x", cx) == want);
  }
}

TEST_CASE("append_strings appends ids that fit the stored width and refuses a wider one", "[io][hdf5][append]") {
  test::TempDir dir;
  const auto path = (dir / "s.h5").string();
  {
    const h5::Handle f = h5::create_file(path);
    h5::write_strings(f, "id", {"u1", "user22"}, 0, h5::Extent::extensible);
    CHECK(h5::string_width(f, "id") == 6);
    CHECK(h5::append_strings(f, "id", {"u3", "user44"}));
    CHECK_FALSE(h5::append_strings(f, "id", {"u5", "user666"}));  // 7 bytes: nothing written
  }
  const h5::Handle f = h5::open_file(path);
  const h5::ReadContext cx{path, ~std::uint64_t{0}};
  CHECK(h5::read_strings(f, "id", cx) == std::vector<std::string>{"u1", "user22", "u3", "user44"});
}
