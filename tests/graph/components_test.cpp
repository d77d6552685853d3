#include <catch2/catch.hpp>
#include <queue>
#include <random>

#include "graph/components.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::graph;

namespace {
// Reference: breadth-first search over an adjacency list.
ComponentStats bfs_components(Index nu, Index ni, const std::vector<Index>& u, const std::vector<Index>& it) {
  const Index n = nu + ni;
  std::vector<std::vector<Index>> adj(n);
  for (std::size_t k = 0; k < u.size(); ++k) {
    adj[u[k]].push_back(nu + it[k]);
    adj[nu + it[k]].push_back(u[k]);
  }
  ComponentStats s;
  std::vector<char> seen(n, 0);
  std::int64_t best = -1;
  for (Index v = 0; v < n; ++v) {
    if (adj[v].empty()) { ++s.isolated_vertices; continue; }
    if (seen[v]) continue;
    ++s.components;
    std::int64_t cu = 0, ci = 0;
    std::queue<Index> q;
    q.push(v);
    seen[v] = 1;
    while (!q.empty()) {
      Index x = q.front();
      q.pop();
      (x < nu ? cu : ci)++;
      for (Index y : adj[x])
        if (!seen[y]) { seen[y] = 1; q.push(y); }
    }
    if (cu + ci > best) { best = cu + ci; s.largest_users = cu; s.largest_items = ci; }
  }
  return s;
}
}  // namespace

TEST_CASE("BGL components equal a breadth-first search on random bipartite graphs", "[graph][components]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  for (int round = 0; round < 30; ++round) {
    Index nu = 1 + static_cast<Index>(rng() % 60), ni = 1 + static_cast<Index>(rng() % 60);
    std::vector<Index> u(rng() % 80), it(u.size());
    for (std::size_t k = 0; k < u.size(); ++k) {
      u[k] = static_cast<Index>(rng() % nu);
      it[k] = static_cast<Index>(rng() % ni);
    }
    ComponentStats got = connected_components(nu, ni, u, it);
    ComponentStats want = bfs_components(nu, ni, u, it);
    REQUIRE(got.components == want.components);
    REQUIRE(got.isolated_vertices == want.isolated_vertices);
    REQUIRE(got.largest_users + got.largest_items == want.largest_users + want.largest_items);
  }
}

TEST_CASE("two disjoint communities are two components", "[graph][components]") {
  std::vector<Index> u{0, 0, 1, 2, 3}, it{0, 1, 1, 2, 2};
  ComponentStats s = connected_components(5, 4, u, it);
  REQUIRE(s.components == 2);
  REQUIRE(s.largest_users == 2);  // users 0,1 with items 0,1 (size 4) vs users 2,3 with item 2 (size 3)
  REQUIRE(s.largest_items == 2);
  REQUIRE(s.isolated_vertices == 2);  // user 4, item 3
}
