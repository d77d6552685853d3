// split_rows of row_split.hpp: one pass over the rows.
#include "propagation/cuda/row_split.hpp"

#include "core/error.hpp"

namespace driftrec::propagation::cuda {

RowSplit split_rows(std::span<const graph::Offset> indptr, graph::Offset max_edges) {
  DRIFTREC_ASSERT(max_edges >= 1 && !indptr.empty());
  RowSplit s;
  const auto rows = static_cast<graph::Index>(indptr.size() - 1);
  for (graph::Index r = 0; r < rows; ++r) {
    const graph::Offset b = indptr[r], e = indptr[r + 1];
    if (e - b <= max_edges) {
      s.begin.push_back(b);
      s.end.push_back(e);
      s.row.push_back(r);
      s.slot.push_back(-1);
      continue;
    }
    for (graph::Offset p = b; p < e; p += max_edges) {
      s.begin.push_back(p);
      s.end.push_back(p + max_edges < e ? p + max_edges : e);
      s.row.push_back(r);
      s.slot.push_back(s.slot_begin.back() + (p - b) / max_edges);
    }
    s.split_row.push_back(r);
    s.slot_begin.push_back(s.slot_begin.back() + (e - b + max_edges - 1) / max_edges);
  }
  return s;
}

}  // namespace driftrec::propagation::cuda
