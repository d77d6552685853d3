// The CPU/OpenMP propagation backend: the reference every other backend is held to, and
// the default. Its handle reads the host BipartiteGraph in place (borrowed, or owned
// when prepare is given the graph by value); Side::users runs the kernels of
// propagation/cpu/spmm.hpp on W, Side::items on the stored W^T or, when the graph stores
// none, by a scatter from W's rows; iteration runs both half-steps in one pass over W.
// Results are identical, bit for bit, for any thread count and either storage.
#pragma once
#include <cstdint>
#include <mutex>
#include <vector>

#include <algorithm>

#include "propagation/backend.hpp"
#include "propagation/cpu/spmm.hpp"

namespace driftrec::propagation::cpu {

class CpuBackend final : public Backend {
 public:
  // threads: 0 for OpenMP's default (omp_get_max_threads()); InputError when negative.
  // With GatherPrecision::bfloat16 half_step keeps one packing buffer, guarded by a
  // mutex, so concurrent half-steps on one backend serialise.
  explicit CpuBackend(int threads = 0, GatherPrecision gather = GatherPrecision::float32);
  std::string_view name() const override { return "cpu"; }
  int threads() const { return threads_; }
  // Entries + rows per block of the fused iteration (a tuning knob; results do not depend
  // on it). Not thread-safe against a running iteration.
  void set_iteration_block_cost(graph::Offset cost) { block_cost_ = std::max<graph::Offset>(cost, 1); }
  // Opt-in: graphs prepared after this call also hold a tiled copy of W (cpu/blocked.hpp,
  // panels of 2^panel_bits columns, chunks of chunk_rows rows; about 6.3-7.0 more bytes per
  // entry), and the float32 users' gather (half_step and iteration) runs over it; the
  // results are the same bits. panel_bits 0 turns it off (the default); InputError when
  // out of make_blocked's ranges.
  void set_blocked_gather(int panel_bits, graph::Index chunk_rows = 16384);
  int blocked_panel_bits() const { return panel_bits_; }
  graph::Index blocked_chunk_rows() const { return chunk_rows_; }

 private:
  std::unique_ptr<PreparedGraph> prepare_impl(const BipartiteGraph& g) const override;
  std::unique_ptr<PreparedGraph> prepare_impl(BipartiteGraph&& g) const override;
  void multiply_impl(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const override;
  double half_step_impl(const PreparedGraph& g, const HalfStep& step) const override;
  // One pass over W (cpu/spmm.hpp, fused_iteration); equal to the two half-steps bit for
  // bit, except that with GatherPrecision::bfloat16 the items' half stays float32.
  IterationChange iteration_impl(const PreparedGraph& g, const Iteration& it) const override;

  int threads_;
  GatherPrecision gather_;
  mutable std::mutex scratch_mutex_;
  mutable std::vector<std::uint16_t> bf16_scratch_;
  mutable IterationScratch scatter_scratch_;  // accumulators of W^T products without W^T
  graph::Offset block_cost_ = graph::Offset{1} << 16;
  int panel_bits_ = 0;  // 0: no tiled copy
  graph::Index chunk_rows_ = 16384;
};

}  // namespace driftrec::propagation::cpu
