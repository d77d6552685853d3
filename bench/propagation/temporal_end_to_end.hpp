// propagation_bench --end-to-end N --temporal P: temporal label propagation
// (propagate_temporal_streaming, as `driftrec propagate` runs it on a store) over P
// periods made of one R-MAT graph's entries, each entry in one period drawn at random, so
// that the last period's decayed history G_{P-1} has W's pattern. Per period its seconds;
// for the last period the peak resident memory up to its first iteration (the decay step,
// relabelling, graph build, tiles), over its iterations, and after them (results mapped
// back, G_t handed back), each above what the process held before the call, per entry of
// G_{P-1}.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/csr.hpp"

namespace driftrec::bench {

// W's entries dealt into `periods` matrices of W's shape (entry -> period drawn with seed).
std::vector<graph::CsrMatrix> split_into_periods(const graph::CsrMatrix& w, int periods, std::uint64_t seed);

// gamma = mu = 0.5, tolerance 0 and `iterations` iterations per period, k labels (one
// random label per item), `threads` threads, Reorder::automatic, W^T kept; untiled: a CPU
// backend with CpuBackend::Tiling::off (W and W^T where the default keeps their tiles).
nlohmann::json temporal_end_to_end(const std::vector<graph::CsrMatrix>& slices, int k, int threads, int iterations,
                                   std::uint64_t seed, bool untiled);

}  // namespace driftrec::bench
