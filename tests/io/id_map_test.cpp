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
