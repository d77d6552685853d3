// BipartiteGraph: W, its stored transpose and the inverse square roots of the weighted
// degrees, D_U^-1/2 and D_I^-1/2 of S = D_U^-1/2 W D_I^-1/2 (Zhou et al. 2004, in the
// bipartite form of docs/math.md, "Temporal label propagation").
#include <cmath>

#include <fmt/format.h>

#include "propagation/backend.hpp"

namespace driftrec::propagation {
namespace {

using graph::Index;
using graph::Offset;

std::vector<float> inv_sqrt(const std::vector<double>& degree) {
  std::vector<float> out(degree.size());
  for (std::size_t i = 0; i < degree.size(); ++i)
    out[i] = degree[i] > 0 ? static_cast<float>(1.0 / std::sqrt(degree[i])) : 0.0f;
  return out;
}

}  // namespace

BipartiteGraph make_bipartite_graph(graph::CsrMatrix w, const char* what) {
  graph::validate_csr(w, what);
  std::vector<double> user_degree(static_cast<std::size_t>(w.n_rows), 0.0);
  std::vector<double> item_degree(static_cast<std::size_t>(w.n_cols), 0.0);
  for (Index r = 0; r < w.n_rows; ++r)
    for (Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e) {
      const float v = w.data[e];
      if (!std::isfinite(v) || v < 0)
        throw InputError(fmt::format(
            "{}: the value at row {}, column {} is {}; edge weights must be finite and >= 0",
            what, r, w.indices[e], v));
      user_degree[r] += v;
      item_degree[w.indices[e]] += v;
    }
  BipartiteGraph g;
  g.item_users = graph::transpose(w);
  g.user_items = std::move(w);
  g.user_inv_sqrt_degree = inv_sqrt(user_degree);
  g.item_inv_sqrt_degree = inv_sqrt(item_degree);
  return g;
}

}  // namespace driftrec::propagation
