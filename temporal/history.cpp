#include "temporal/history.hpp"

#include <algorithm>

namespace driftrec::temporal {

using graph::Index;

std::vector<graph::CsrMatrix> windowed_slices(const History& t, int window) {
  return windowed_slices(t.slices, window);
}

std::vector<graph::CsrMatrix> windowed_slices(const std::vector<graph::CsrMatrix>& slices, int window) {
  const std::size_t w = static_cast<std::size_t>(std::max(window, 1));
  if (slices.size() <= w + 1) return slices;
  const std::size_t first = slices.size() - w;
  std::vector<graph::Triplet> triplets;
  for (std::size_t k = 0; k < first; ++k) {
    const graph::CsrMatrix& s = slices[k];
    for (Index u = 0; u < s.n_rows; ++u)
      for (graph::Offset q = s.indptr[u]; q < s.indptr[u + 1]; ++q) triplets.push_back({u, s.indices[q], s.data[q]});
  }
  std::vector<graph::CsrMatrix> out;
  out.reserve(w + 1);
  out.push_back(graph::csr_from_triplets(slices[0].n_rows, slices[0].n_cols, triplets));
  out.insert(out.end(), slices.begin() + static_cast<std::ptrdiff_t>(first), slices.end());
  return out;
}

void add_item_labels(const graph::CsrMatrix& item_labels, Index item, double weight,
                     std::span<double> acc) {
  const graph::Offset b = item_labels.indptr[item], e = item_labels.indptr[item + 1];
  if (b == e) return;
  const double share = weight / static_cast<double>(e - b);
  for (graph::Offset k = b; k < e; ++k) acc[static_cast<std::size_t>(item_labels.indices[k])] += share;
}

bool normalize(std::span<double> acc) {
  double sum = 0;
  for (double v : acc) sum += v;
  if (!(sum > 0)) return false;
  for (double& v : acc) v /= sum;
  return true;
}

}  // namespace driftrec::temporal
