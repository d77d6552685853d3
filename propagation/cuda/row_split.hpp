// The work list of the CUDA half-step kernel (lp_kernels.cu), made on the host once per
// prepared graph: each CSR row is cut into segments of at most `max_edges` edges, and one
// warp sums one segment. A light row is one segment, summed and finished (scaled, seeded,
// its change taken) by its warp, in stored edge order like the CPU kernel. A heavy row
// (more than max_edges edges: the hubs of a skewed degree distribution) is several
// segments whose warps write partial sums into numbered slots; a second kernel adds a
// row's slots in order and finishes it. So no warp walks more than max_edges edges
// whatever the degree distribution, and results do not depend on scheduling. An empty
// row is one empty segment (its output is the seed term). Plain host code: tested
// without a GPU (tests/propagation/row_split_test.cpp).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::propagation::cuda {

struct RowSplit {
  // One entry per segment, in row order: edges [begin, end) of row `row`; slot -1 for a
  // row of one segment, else the segment's partial-sum slot.
  std::vector<graph::Offset> begin, end;
  std::vector<graph::Index> row;
  std::vector<std::int64_t> slot;
  // One entry per heavy row: the row and its slots [slot_begin[i], slot_begin[i + 1]).
  std::vector<graph::Index> split_row;
  std::vector<std::int64_t> slot_begin{0};

  std::int64_t segments() const { return static_cast<std::int64_t>(begin.size()); }
  std::int64_t split_rows() const { return static_cast<std::int64_t>(split_row.size()); }
  std::int64_t slots() const { return slot_begin.back(); }
};

// indptr: rows + 1 non-decreasing offsets from 0; max_edges >= 1.
RowSplit split_rows(std::span<const graph::Offset> indptr, graph::Offset max_edges);

}  // namespace driftrec::propagation::cuda
