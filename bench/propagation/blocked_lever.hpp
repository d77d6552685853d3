// propagation_bench --blocked-lever (also run by --levers): the users' gather of one
// label-propagation iteration (fused_spmm on W, the current path) against the tiled
// gather of propagation/cpu/blocked.hpp for several panel widths and chunk heights, all
// timed interleaved in this process; then the whole iteration with and without the tiled
// copy, both as fused_iteration (one pass over W) and as CpuBackend::iteration on g; and,
// when g stores W^T, the items' gather over W^T against tiles of W^T ("items_gather").
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"

namespace driftrec::bench {

struct BlockedConfig {
  int panel_bits;
  std::int32_t chunk_rows;
};

// g as the bench holds it (degree-ordered when asked; W^T stored, so Backend::iteration
// runs the two half-steps); triad in GB/s from the same run.
nlohmann::json blocked_lever(const propagation::BipartiteGraph& g, int k, int threads, int iterations, std::uint64_t seed,
                             double triad, const std::vector<BlockedConfig>& configs);

}  // namespace driftrec::bench
