#include "graph/components.hpp"

#include <boost/graph/edge_list.hpp>
#include <boost/graph/incremental_components.hpp>
#include <boost/pending/disjoint_sets.hpp>
#include <utility>
#include <vector>

namespace driftrec::graph {
namespace {

// Presents the (user, item) columns as a BGL EdgeListGraph without copying them:
// item j is vertex n_users + j.
struct EdgeIterator {
  using iterator_category = std::forward_iterator_tag;
  using value_type = std::pair<std::int64_t, std::int64_t>;
  using difference_type = std::ptrdiff_t;
  using pointer = const value_type*;
  using reference = value_type;
  const Index* user;
  const Index* item;
  std::int64_t n_users;
  std::size_t k;
  value_type operator*() const { return {user[k], n_users + item[k]}; }
  EdgeIterator& operator++() { ++k; return *this; }
  EdgeIterator operator++(int) { auto c = *this; ++k; return c; }
  bool operator==(const EdgeIterator& o) const { return k == o.k; }
  bool operator!=(const EdgeIterator& o) const { return k != o.k; }
};

}  // namespace

ComponentStats connected_components(Index n_users, Index n_items, std::span<const Index> user,
                                    std::span<const Index> item) {
  const std::int64_t n = static_cast<std::int64_t>(n_users) + n_items;
  std::vector<std::int64_t> rank(static_cast<std::size_t>(n)), parent(static_cast<std::size_t>(n));
  boost::disjoint_sets<std::int64_t*, std::int64_t*> ds(rank.data(), parent.data());
  for (std::int64_t v = 0; v < n; ++v) ds.make_set(v);

  EdgeIterator first{user.data(), item.data(), n_users, 0};
  EdgeIterator last{user.data(), item.data(), n_users, user.size()};
  boost::edge_list<EdgeIterator> g(first, last);
  boost::incremental_components(g, ds);

  std::vector<std::int64_t> users_in(static_cast<std::size_t>(n), 0), items_in(static_cast<std::size_t>(n), 0);
  std::vector<char> has_edge(static_cast<std::size_t>(n), 0);
  for (std::size_t k = 0; k < user.size(); ++k) {
    has_edge[static_cast<std::size_t>(user[k])] = 1;
    has_edge[static_cast<std::size_t>(n_users + item[k])] = 1;
  }
  ComponentStats s;
  for (std::int64_t v = 0; v < n; ++v) {
    if (!has_edge[static_cast<std::size_t>(v)]) {
      ++s.isolated_vertices;
      continue;
    }
    std::int64_t root = ds.find_set(v);
    if (root == v) ++s.components;
    (v < n_users ? users_in : items_in)[static_cast<std::size_t>(root)]++;
  }
  std::int64_t best = -1;
  for (std::int64_t v = 0; v < n; ++v) {
    std::int64_t size = users_in[static_cast<std::size_t>(v)] + items_in[static_cast<std::size_t>(v)];
    if (size > 0 && (best < 0 || size > users_in[static_cast<std::size_t>(best)] + items_in[static_cast<std::size_t>(best)])) best = v;
  }
  if (best >= 0) {
    s.largest_users = users_in[static_cast<std::size_t>(best)];
    s.largest_items = items_in[static_cast<std::size_t>(best)];
  }
  return s;
}

}  // namespace driftrec::graph
