#include "graph/decay.hpp"

#include <cmath>

#include <fmt/format.h>

namespace driftrec::graph {

CsrMatrix decay_step(const CsrMatrix& history, const CsrMatrix& slice, float gamma) {
  if (history.n_rows != slice.n_rows || history.n_cols != slice.n_cols)
    throw InputError(fmt::format("decay_step: history is {} x {} but the slice is {} x {}", history.n_rows,
                                 history.n_cols, slice.n_rows, slice.n_cols));
  if (gamma == 0) return slice;
  CsrMatrix g;
  g.n_rows = slice.n_rows;
  g.n_cols = slice.n_cols;
  g.indptr.assign(static_cast<std::size_t>(g.n_rows) + 1, 0);
  g.indices.reserve(static_cast<std::size_t>(history.nnz() + slice.nnz()));
  g.data.reserve(g.indices.capacity());
  for (Index r = 0; r < g.n_rows; ++r) {
    Offset a = history.indptr[r], b = slice.indptr[r];
    const Offset a_end = history.indptr[r + 1], b_end = slice.indptr[r + 1];
    while (a < a_end || b < b_end) {
      const Index ca = a < a_end ? history.indices[a] : g.n_cols;
      const Index cb = b < b_end ? slice.indices[b] : g.n_cols;
      if (ca < cb) {
        const float v = gamma * history.data[a++];
        if (std::abs(v) < kMinDecayedWeight) continue;  // forgotten (see decay.hpp)
        g.indices.push_back(ca);
        g.data.push_back(v);
      } else if (cb < ca) {
        g.indices.push_back(cb);
        g.data.push_back(slice.data[b++]);
      } else {
        g.indices.push_back(ca);
        g.data.push_back(gamma * history.data[a++] + slice.data[b++]);
      }
    }
    g.indptr[r + 1] = static_cast<Offset>(g.indices.size());
  }
  return g;
}

}  // namespace driftrec::graph
