// Tests for io/id_map: dense indices in order of first appearance, checked against
// std::unordered_map on random strings across many table growths; name lookup; from_names.
#include "io/id_map.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/test_util.hpp"

using namespace driftrec::io;

TEST_CASE("IdMap gives the same indices as an unordered_map reference across table growth",
          "[id_map]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  // A small alphabet and short lengths make repeats (and equal hashes mod the table) common.
  std::uniform_int_distribution<int> len(0, 8);
  std::uniform_int_distribution<int> ch(0, 5);
  const char alphabet[] = {'a', 'b', 'c', '\0', '\xC3', ','};
  IdMap map;
  std::unordered_map<std::string, Index> ref;
  std::vector<std::string> order;
  for (int step = 0; step < 60000; ++step) {
    std::string key;
    const int n = len(rng);
    for (int k = 0; k < n; ++k) key.push_back(alphabet[ch(rng)]);
    auto [it, fresh] = ref.try_emplace(key, static_cast<Index>(ref.size()));
    if (fresh) order.push_back(key);
    const Index got = map.find_or_add(key);
    if (got != it->second) FAIL("step " << step << ": index " << got << ", expected " << it->second);
  }
  REQUIRE(ref.size() > 5000);  // grew from 1024 slots several times
  CHECK(map.size() == static_cast<Index>(ref.size()));
  CHECK(map.names() == order);
  for (const auto& [key, idx] : ref) {
    if (map.find(key) != idx) FAIL("find('" << key << "') != " << idx);
    if (map.name(idx) != key) FAIL("name(" << idx << ") != '" << key << "'");
  }
  CHECK(map.find("not in the map: too long for the generator") == -1);
}

TEST_CASE("IdMap numbers new ids 0 1 2 in order of first appearance", "[id_map]") {
  IdMap m;
  CHECK(m.size() == 0);
  CHECK(m.find("x") == -1);
  CHECK(m.find_or_add("u7") == 0);
  CHECK(m.find_or_add("u3") == 1);
  CHECK(m.find_or_add("u7") == 0);
  CHECK(m.find_or_add("") == 2);
  CHECK(m.find_or_add(std::string("a\0b", 3)) == 3);
  CHECK(m.find_or_add("a") == 4);  // not confused with "a\0b"
  CHECK(m.size() == 5);
  CHECK(m.name(1) == "u3");
  CHECK(m.name(3) == std::string_view("a\0b", 3));
  CHECK(m.find("u3") == 1);
}

TEST_CASE("IdMap::from_names keeps the given order and refuses duplicates", "[id_map]") {
  IdMap m = IdMap::from_names({"c", "a", "b"});
  CHECK(m.size() == 3);
  CHECK(m.find("c") == 0);
  CHECK(m.find("a") == 1);
  CHECK(m.find("b") == 2);
  CHECK(m.names() == std::vector<std::string>{"c", "a", "b"});
  CHECK_THROWS_AS(IdMap::from_names({"c", "a", "c"}), driftrec::InputError);
  CHECK_THROWS_WITH(IdMap::from_names({"c", "a", "c"}), Catch::Contains("'c'"));
  CHECK(IdMap::from_names({}).size() == 0);
}

TEST_CASE("IdMap gives numbered ids (array) and others (table) the indices of an unordered_map reference",
          "[id_map]") {
  // Ids with the first id's prefix "u" and a number go through the array, unless the
  // number has a leading zero, 8 or more digits or is at least kDenseIds; every other id
  // (another prefix, letters after the digits, the prefix alone) goes through the table.
  // The two must never hold the same id, and indices follow first appearance across both.
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<std::uint32_t> small(0, 3000);
  std::uniform_int_distribution<std::uint32_t> big(kDenseIds - 50, kDenseIds + 50);
  IdMap map;
  CHECK(map.find_or_add("u17") == 0);  // fixes the prefix "u"
  std::unordered_map<std::string, Index> ref{{"u17", 0}};
  std::vector<std::string> order{"u17"};
  for (int step = 0; step < 50000; ++step) {
    std::string key;
    switch (kind(rng)) {
      case 0: key = "u0" + std::to_string(small(rng)); break;             // leading zero: table
      case 1: key = "v" + std::to_string(small(rng)); break;              // other prefix: table
      case 2: key = "u" + std::to_string(small(rng)) + "x"; break;        // not all digits: table
      case 3: key = "u" + std::to_string(big(rng)); break;                // around kDenseIds
      case 4: key = "u1" + std::string(7, '0'); break;                    // 8 digits: table
      case 5: key = "u"; break;                                           // the prefix alone
      default: key = "u" + std::to_string(small(rng)); break;             // the array
    }
    auto [it, fresh] = ref.try_emplace(key, static_cast<Index>(ref.size()));
    if (fresh) order.push_back(key);
    const Index got = map.find_or_add(key);
    if (got != it->second) FAIL("step " << step << ", key '" << key << "': index " << got << ", expected " << it->second);
  }
  CHECK(map.size() == static_cast<Index>(ref.size()));
  CHECK(map.names() == order);
  for (const auto& [key, idx] : ref) {
    if (map.find(key) != idx) FAIL("find('" << key << "') != " << idx);
    if (map.name(idx) != key) FAIL("name(" << idx << ") != '" << key << "'");
  }
  CHECK(map.find("u999999") == -1);   // numbered, beyond the array
  CHECK(map.find("u3001") == -1);     // numbered, in range of the array only if met
  CHECK(map.find("w5") == -1);
}

TEST_CASE("numbered_id takes the prefix and a decimal number below kDenseIds without leading zeros", "[id_map]") {
  std::uint32_t n = 99;
  CHECK(numbered_id("u0", "u", n));
  CHECK(n == 0);
  CHECK(numbered_id("item123", "item", n));
  CHECK(n == 123);
  CHECK(numbered_id("42", "", n));
  CHECK(n == 42);
  CHECK(numbered_id("u" + std::to_string(kDenseIds - 1), "u", n));
  CHECK(n == kDenseIds - 1);
  CHECK_FALSE(numbered_id("u" + std::to_string(kDenseIds), "u", n));
  CHECK_FALSE(numbered_id("u007", "u", n));
  CHECK_FALSE(numbered_id("u", "u", n));
  CHECK_FALSE(numbered_id("v7", "u", n));
  CHECK_FALSE(numbered_id("u7a", "u", n));
  CHECK_FALSE(numbered_id("u-7", "u", n));
  CHECK_FALSE(numbered_id("u12345678", "u", n));  // 8 digits
}
