// propagation_bench --blocked-lever (also run by --levers): the users' gather of one
// label-propagation iteration (fused_spmm on W, the current path) against the tiled
// gather of propagation/cpu/blocked.hpp for several panel widths and chunk heights, all
// timed interleaved in this process, with Backend::iteration's whole one-pass iteration
// beside them for scale.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/csr.hpp"

namespace driftrec::bench {

struct BlockedConfig {
  int panel_bits;
  std::int32_t chunk_rows;
};

// w as the bench holds it (degree-ordered when asked); triad in GB/s from the same run.
nlohmann::json blocked_lever(const graph::CsrMatrix& w, int k, int threads, int iterations, std::uint64_t seed,
                             double triad, const std::vector<BlockedConfig>& configs);

}  // namespace driftrec::bench
