// Contiguous row blocks, one per rank, balanced by nonzeros: rank r owns rows
// [bounds[r], bounds[r+1]). A block's cost is its nonzeros plus one per row (the row is
// written), the measure the CPU kernels already cut their thread ranges by
// (propagation::cpu::partition_rows), so a rank's share of a half-step's work is about
// 1 / ranks whatever the skew of the degrees.
#pragma once
#include <span>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::mpi {

struct Blocks {
  std::vector<graph::Index> bounds;  // ranks + 1, first 0, last the row count

  int parts() const { return static_cast<int>(bounds.size()) - 1; }
  graph::Index begin(int r) const { return bounds[static_cast<std::size_t>(r)]; }
  graph::Index end(int r) const { return bounds[static_cast<std::size_t>(r) + 1]; }
  graph::Index rows(int r) const { return end(r) - begin(r); }
  // The rank whose block holds `row` (0 <= row < the row count).
  int owner(graph::Index row) const;
  std::vector<std::int64_t> rows_per_part() const;
};

// Blocks over rows whose costs are given as a prefix sum of nonzeros (rows + 1 entries,
// an indptr), balanced by nonzeros + rows.
Blocks balanced_blocks(std::span<const graph::Offset> prefix_nnz, int parts);

// Equal row counts (for reading the per-row costs before the balanced blocks are known).
Blocks even_blocks(graph::Index rows, int parts);

}  // namespace driftrec::mpi
