// The CPU/OpenMP propagation backend: the reference every other backend is held to, and
// the default. Its handle reads the host BipartiteGraph in place (borrowed, or owned
// when prepare is given the graph by value); Side::users runs the kernels of
// propagation/cpu/spmm.hpp on W, Side::items on the stored W^T (or on their tiled copies,
// cpu/blocked.hpp, which replace W and W^T in a handle that owns a graph with W^T: see
// Tiling) or, when the graph stores none, by a scatter from W's rows; without W^T, iteration runs both
// half-steps in one pass over W. Results are identical, bit for bit, for any thread count,
// either storage and with or without the tiles.
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
  // W back from an owning handle: moved out, or rebuilt from its tiles (csr_of_blocked,
  // entry for entry) after W^T's tiles are freed, so the rebuild peaks below the handle.
  bool hands_back_user_items() const override { return true; }
  int threads() const { return threads_; }
  GatherPrecision gather() const { return gather_; }
  // Entries + rows per block of the fused iteration (a tuning knob; results do not depend
  // on it). Not thread-safe against a running iteration.
  void set_iteration_block_cost(graph::Offset cost) { block_cost_ = std::max<graph::Offset>(cost, 1); }
  // The tiled copies of W and W^T (cpu/blocked.hpp: panels of 2^panel_bits columns, chunks
  // of chunk_rows rows; 6.2-7.0 bytes per entry each on R-MAT) over which the float32
  // gathers run (half_step, iteration, multiply), with the same bits as over W and W^T.
  // For graphs prepared after the call:
  //   automatic (the default): a graph the handle owns (prepare(BipartiteGraph&&), as
  //     propagate_labels and temporal propagation do) with W^T stored and at least
  //     min_nonzeros entries gets the tiles of both *in place of* W and W^T: each
  //     matrix's arrays are freed once its tiles are made, so the graph takes about 13
  //     instead of 17 bytes per entry, and an iteration is faster on the 2^24-edge R-MAT
  //     (bench/propagation/README.md, "Tiles in place of W and W^T"). Below 2^23 entries
  //     (the default min_nonzeros) the other side's rows fit in the last-level cache
  //     anyway: temporal propagation was no faster at 3.7 and 7.6 million entries and
  //     slower at 1 million, building the tiles every period ("Temporal propagation over
  //     the tiles"). Any other graph: no tiles.
  //   always: every graph gets the tiles (of W^T too when stored), in place of W and W^T
  //     where automatic would put them there, beside them otherwise (a borrowed graph, or
  //     the one pass without W^T, which reads W's tiles for its users' gather).
  //   off: never (the plain CSR gather; the reference the tiled one is tested against).
  // With GatherPrecision::bfloat16 the gathers read W and W^T, so no tiles are made. A
  // graph of 2^32 - 2 entries or more is never tiled (32-bit entry offsets). InputError
  // unless 1 <= panel_bits <= 16 and 1 <= chunk_rows <= 65536. Not thread-safe against a
  // running prepare.
  enum class Tiling { automatic, always, off };
  static constexpr int kDefaultPanelBits = 14;
  static constexpr graph::Index kDefaultChunkRows = 16384;
  static constexpr graph::Offset kDefaultMinTiledNonzeros = graph::Offset{1} << 23;
  void set_tiling(Tiling mode, int panel_bits = kDefaultPanelBits, graph::Index chunk_rows = kDefaultChunkRows,
                  graph::Offset min_nonzeros = kDefaultMinTiledNonzeros);
  Tiling tiling() const { return tiling_; }
  // Bytes of the graph arrays g's handle reads while it propagates: W and W^T (each unless
  // its tiles replaced it; W^T when stored), the tiles, the degree vectors and the scatter's column
  // ranges; a borrowed graph's arrays count too. InputError for a handle of another backend.
  std::size_t resident_bytes(const PreparedGraph& g) const;
  int tile_panel_bits() const { return panel_bits_; }
  graph::Index tile_chunk_rows() const { return chunk_rows_; }
  graph::Offset min_tiled_nonzeros() const { return min_tiled_nonzeros_; }

 private:
  std::unique_ptr<PreparedGraph> prepare_impl(const BipartiteGraph& g) const override;
  std::unique_ptr<PreparedGraph> prepare_impl(BipartiteGraph&& g) const override;
  void multiply_impl(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const override;
  double half_step_impl(const PreparedGraph& g, const HalfStep& step) const override;
  // One pass over W (cpu/spmm.hpp, fused_iteration); equal to the two half-steps bit for
  // bit, except that with GatherPrecision::bfloat16 the items' half stays float32.
  IterationChange iteration_impl(const PreparedGraph& g, const Iteration& it) const override;
  graph::CsrMatrix take_user_items_impl(PreparedGraph& g) const override;

  int threads_;
  GatherPrecision gather_;
  mutable std::mutex scratch_mutex_;
  mutable std::vector<std::uint16_t> bf16_scratch_;
  mutable IterationScratch scatter_scratch_;  // accumulators of W^T products without W^T
  graph::Offset block_cost_ = graph::Offset{1} << 16;
  Tiling tiling_ = Tiling::automatic;
  int panel_bits_ = kDefaultPanelBits;
  graph::Index chunk_rows_ = kDefaultChunkRows;
  graph::Offset min_tiled_nonzeros_ = kDefaultMinTiledNonzeros;
};

}  // namespace driftrec::propagation::cpu
