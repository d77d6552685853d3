// propagation_bench --end-to-end: propagate_labels(W, item_labels, &prior, options) on one
// R-MAT graph, as a user would call it (relabelling, graph build, seeds, iterations,
// results mapped back), with its peak resident memory and the time of each iteration.
// Meant for the largest graphs the machine holds (3·10^8 edges drawn on 24 GiB), where
// the anchors and the levers do not fit beside it.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "graph/csr.hpp"
#include "propagation/label_propagation.hpp"

namespace driftrec::bench {

// One call with tolerance 0 and `iterations` iterations, k labels (one random label per
// item), a random user prior, `threads` threads, Reorder::automatic and the given
// low-memory mode. The STREAM triad is measured right before (same threads); the peak-RSS
// counter is reset after it, so the peak is propagate_labels' plus what the process held
// (W, prior, labels). untiled: through a CPU backend with CpuBackend::Tiling::off (W and
// W^T where the default keeps W^T and the tiles), for a same-run comparison. Figures per
// stored entry are in the README.
nlohmann::json end_to_end(const graph::CsrMatrix& w, int k, int threads, int iterations,
                          propagation::LowMemory mode, std::uint64_t seed, bool untiled = false);

}  // namespace driftrec::bench
