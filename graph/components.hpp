// Connected components of the user-item bipartite graph (users and items are vertices,
// an interaction is an edge). Uses the Boost Graph Library's incremental components
// (union-find over an edge list), which needs no adjacency structure: memory is one
// parent and one rank per vertex, so it scales to the 10^8-event logs we ingest.
#pragma once
#include <cstdint>
#include <span>

#include "graph/events.hpp"

namespace driftrec::graph {

struct ComponentStats {
  std::int64_t components = 0;       // among vertices with at least one edge
  std::int64_t largest_users = 0;    // users in the largest component
  std::int64_t largest_items = 0;    // items in the largest component
  std::int64_t isolated_vertices = 0;  // users or items without any edge
};

ComponentStats connected_components(Index n_users, Index n_items, std::span<const Index> user,
                                    std::span<const Index> item);

}  // namespace driftrec::graph
