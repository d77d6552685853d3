// Row blocks of mpi/partition.hpp.
#include "mpi/partition.hpp"

#include <algorithm>

#include "propagation/cpu/spmm.hpp"

namespace driftrec::mpi {

int Blocks::owner(graph::Index row) const {
  // The last block whose begin is <= row (empty blocks share a begin with the next one).
  const auto it = std::upper_bound(bounds.begin(), bounds.end() - 1, row);
  return static_cast<int>(it - bounds.begin()) - 1;
}

std::vector<std::int64_t> Blocks::rows_per_part() const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(parts()));
  for (int r = 0; r < parts(); ++r) out[static_cast<std::size_t>(r)] = rows(r);
  return out;
}

Blocks balanced_blocks(std::span<const graph::Offset> prefix_nnz, int parts) {
  return Blocks{propagation::cpu::partition_rows(prefix_nnz, parts)};
}

Blocks even_blocks(graph::Index rows, int parts) {
  Blocks b;
  b.bounds.resize(static_cast<std::size_t>(parts) + 1);
  for (int r = 0; r <= parts; ++r)
    b.bounds[static_cast<std::size_t>(r)] = static_cast<graph::Index>(static_cast<std::int64_t>(rows) * r / parts);
  return b;
}

}  // namespace driftrec::mpi
