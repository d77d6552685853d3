#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "io/event_reader.hpp"
#include "io/plain_line.hpp"
#include "io/text.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::io;

namespace {

// A random field: mostly the digits and letters of real logs, sometimes a byte the plain
// path must leave to the general functions (space, tab, quote, sign, dot, exponent,
// non-ASCII, NUL), sometimes empty or long.
std::string random_field(std::mt19937_64& rng) {
  static const std::string kCommon = "0123456789ui";
  static const std::string kRare[] = {" ", "\t", "\"", "-", "+", ".", "e", "\xc3\xa9", "\xff", std::string(1, '\0'), ","};
  std::string f;
  const std::size_t len = rng() % 24 == 0 ? 0 : 1 + rng() % (rng() % 16 == 0 ? 25 : 9);
  for (std::size_t k = 0; k < len; ++k)
    f += rng() % 12 == 0 ? kRare[rng() % std::size(kRare)] : std::string(1, kCommon[rng() % kCommon.size()]);
  return f;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

// The plain path against the general functions on random lines: wherever it accepts a
// line or field, it must give exactly what they give (fields, integers, float bits).
TEST_CASE("the plain line path agrees with split_fields, parse_int64 and the value check", "[io][plain_line]") {
  const auto seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::vector<std::string_view> plain, general;
  std::string scratch;
  std::size_t accepted_lines = 0, accepted_integers = 0, accepted_counts = 0;
  for (int trial = 0; trial < 50000; ++trial) {
    const char delim = ",\t;|"[rng() % 4];
    std::string line;
    const std::size_t n = 1 + rng() % 5;
    for (std::size_t k = 0; k < n; ++k) {
      if (k > 0) line.push_back(delim);
      line.append(random_field(rng));
    }
    CAPTURE(line, delim);
    if (split_plain(line, delim, plain)) {
      ++accepted_lines;
      REQUIRE(split_fields(line, std::string(1, delim), general, scratch));
      REQUIRE(plain == general);
      for (const std::string_view f : plain) {
        REQUIRE(trim(f) == f);
        REQUIRE(id_problem(f).empty() == (!f.empty() && f.size() <= kMaxIdBytes));
      }
    }
    const std::string field = random_field(rng);
    CAPTURE(field);
    std::int64_t fast = 0, slow = 0;
    if (plain_integer(field, fast)) {
      ++accepted_integers;
      REQUIRE(parse_int64(field, slow));
      REQUIRE(fast == slow);
    }
    float count = 0;
    if (plain_count(field, count)) {
      ++accepted_counts;
      double number = 0;
      REQUIRE(parse_number(field, number));
      const ValueCheck check = check_value(number, NegativeValues::refuse);
      REQUIRE(check.kind == ValueCheck::keep);
      REQUIRE_FALSE(check.clipped);
      float value = check.value;
      parse_finite_float(field, value);  // what the readers store
      REQUIRE(same_bits(value, count));
    }
  }
  // The path is taken, not only declined.
  REQUIRE(accepted_lines > 1000);
  REQUIRE(accepted_integers > 1000);
  REQUIRE(accepted_counts > 1000);
  std::vector<std::string_view> f;
  REQUIRE(split_plain("u0,i122117,1584927064,1", ',', f));
  REQUIRE(f == std::vector<std::string_view>{"u0", "i122117", "1584927064", "1"});
  REQUIRE_FALSE(split_plain("u0, i1,5,1", ',', f));    // a space: trimmed by the general path
  REQUIRE_FALSE(split_plain("\"u,0\",i1,5,1", ',', f));  // a quoted field
  std::int64_t v = 0;
  REQUIRE(plain_integer("-2208988800", v));
  REQUIRE(v == -2208988800LL);
  REQUIRE_FALSE(plain_integer("+5", v));
  REQUIRE_FALSE(plain_integer("1234567890123456789", v));  // 19 digits: parse_int64's to judge
  float c = 0;
  REQUIRE_FALSE(plain_count("-0", c));  // -0.0f as the readers store it
  REQUIRE_FALSE(plain_count("16777217", c));  // 2^24 + 1: not exact in float32
}
