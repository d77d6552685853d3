// The CPU backend of propagation/cpu/cpu_backend.hpp: a handle over the host graph and
// the dispatch of the entry points to the kernels of spmm.cpp. Arguments arrive checked
// (Backend's public entry points in backend.cpp).
#include "propagation/cpu/cpu_backend.hpp"

#include <omp.h>

#include <optional>
#include <stdexcept>
#include <utility>

#include "core/error.hpp"
#include "propagation/cpu/blocked.hpp"
#include "propagation/cpu/spmm.hpp"

namespace driftrec::propagation::cpu {
namespace {

// Column ranges per thread in the scatter: a free thread takes any range whose next
// block is gathered, so a few per thread keep both busy (results do not depend on it).
constexpr int kColumnRangesPerThread = 4;

// The host graph, read in place: borrowed (the caller keeps it alive) or owned; with the
// column ranges the scatter of W^T products deals to the threads (one pass over W's ids)
// and, as CpuBackend::Tiling says, the tiled copies of W and of the stored W^T. An owned
// graph with W^T frees each matrix's arrays once its tiles are made (W's first, so that
// the two CSR arrays and both tilings never live at once): users_w() and items_wt() are
// then null and every product reads the tiles.
class CpuGraph final : public PreparedGraph {
 public:
  CpuGraph(const CpuBackend& b, const BipartiteGraph& g)
      : PreparedGraph(b, g), graph_(&g), columns_(partition_columns(g.user_items, kColumnRangesPerThread * b.threads())) {
    if (!wants_tiles(b, false)) return;
    tiles_ = make_blocked(g.user_items, b.tile_panel_bits(), b.tile_chunk_rows(), b.threads());
    if (g.transpose_stored) item_tiles_ = make_blocked(g.item_users, b.tile_panel_bits(), b.tile_chunk_rows(), b.threads());
  }
  CpuGraph(const CpuBackend& b, BipartiteGraph&& g)
      : PreparedGraph(b, g), owned_(std::move(g)), graph_(&*owned_),
        columns_(partition_columns(graph_->user_items, kColumnRangesPerThread * b.threads())) {
    if (!wants_tiles(b, true)) return;
    tiles_ = make_blocked(owned_->user_items, b.tile_panel_bits(), b.tile_chunk_rows(), b.threads());
    if (!owned_->transpose_stored) return;  // the one pass scatters from W's rows: W stays
    release(owned_->user_items);
    w_freed_ = true;
    item_tiles_ = make_blocked(owned_->item_users, b.tile_panel_bits(), b.tile_chunk_rows(), b.threads());
    release(owned_->item_users);
    wt_freed_ = true;
  }
  const BipartiteGraph& graph() const { return *graph_; }
  // W, or null when its tiles replaced it.
  const graph::CsrMatrix* users_w() const { return w_freed_ ? nullptr : &graph_->user_items; }
  // The stored W^T, or null when its tiles replaced it or none is stored.
  const graph::CsrMatrix* items_wt() const {
    return wt_freed_ || !graph_->transpose_stored ? nullptr : &graph_->item_users;
  }
  std::span<const graph::Index> columns() const { return columns_; }
  const BlockedMatrix* tiles() const { return tiles_ ? &*tiles_ : nullptr; }
  const BlockedMatrix* item_tiles() const { return item_tiles_ ? &*item_tiles_ : nullptr; }
  // W out of an owned graph (CpuBackend::take_user_items_impl); the handle is dead after.
  graph::CsrMatrix take_user_items(int threads) {
    if (!owned_) throw std::logic_error("take_user_items: the graph was lent to the handle, not handed over");
    item_tiles_.reset();
    graph::CsrMatrix w = w_freed_ ? csr_of_blocked(*tiles_, threads) : std::move(owned_->user_items);
    tiles_.reset();
    owned_.reset();
    graph_ = nullptr;
    return w;
  }

 private:
  bool wants_tiles(const CpuBackend& b, bool owned) const {
    using Tiling = CpuBackend::Tiling;
    if (b.tiling() == Tiling::off || b.gather() != GatherPrecision::float32) return false;
    if (graph_->nnz() >= (graph::Offset{1} << 32) - 2) return false;  // make_blocked's 32-bit offsets
    return b.tiling() == Tiling::always ||
           (owned && graph_->transpose_stored && graph_->nnz() >= b.min_tiled_nonzeros());
  }
  // Frees a matrix's arrays; its shape stays (nnz() reads 0 from here on).
  static void release(graph::CsrMatrix& a) {
    std::vector<graph::Offset>().swap(a.indptr);
    std::vector<graph::Index>().swap(a.indices);
    std::vector<float>().swap(a.data);
  }
  std::optional<BipartiteGraph> owned_;
  const BipartiteGraph* graph_;
  std::vector<graph::Index> columns_;
  std::optional<BlockedMatrix> tiles_, item_tiles_;
  bool w_freed_ = false, wt_freed_ = false;
};

const CpuGraph& cpu_graph(const PreparedGraph& g) {
  return static_cast<const CpuGraph&>(g);  // the entry points checked the owner
}

const BipartiteGraph& host(const PreparedGraph& g) { return cpu_graph(g).graph(); }

}  // namespace

CpuBackend::CpuBackend(int threads, GatherPrecision gather)
    : threads_(threads > 0 ? threads : omp_get_max_threads()), gather_(gather) {
  BackendOptions{threads, gather}.validate();
}

void CpuBackend::set_tiling(Tiling mode, int panel_bits, graph::Index chunk_rows, graph::Offset min_nonzeros) {
  DRIFTREC_THROW_IF_NOT(panel_bits >= 1 && panel_bits <= 16,
                        "CpuBackend::set_tiling: panel_bits must be in [1, 16], got " + std::to_string(panel_bits));
  DRIFTREC_THROW_IF_NOT(chunk_rows >= 1 && chunk_rows <= 65536,
                        "CpuBackend::set_tiling: chunk_rows must be in [1, 65536], got " + std::to_string(chunk_rows));
  tiling_ = mode;
  panel_bits_ = panel_bits;
  chunk_rows_ = chunk_rows;
  min_tiled_nonzeros_ = std::max<graph::Offset>(min_nonzeros, 0);
}

std::size_t CpuBackend::resident_bytes(const PreparedGraph& pg) const {
  DRIFTREC_THROW_IF_NOT(&pg.backend() == this, "CpuBackend::resident_bytes: the graph was prepared by another backend");
  const CpuGraph& cg = cpu_graph(pg);
  const BipartiteGraph& g = cg.graph();
  const auto csr = [](const graph::CsrMatrix& a) {
    return sizeof(graph::Offset) * a.indptr.size() + sizeof(graph::Index) * a.indices.size() + sizeof(float) * a.data.size();
  };
  return (cg.users_w() ? csr(g.user_items) : 0) + (cg.items_wt() ? csr(g.item_users) : 0) +
         (cg.tiles() ? cg.tiles()->bytes() : 0) + (cg.item_tiles() ? cg.item_tiles()->bytes() : 0) +
         sizeof(float) * (g.user_inv_sqrt_degree.size() + g.item_inv_sqrt_degree.size()) +
         sizeof(graph::Index) * cg.columns().size();
}

std::unique_ptr<PreparedGraph> CpuBackend::prepare_impl(const BipartiteGraph& g) const {
  return std::make_unique<CpuGraph>(*this, g);
}

std::unique_ptr<PreparedGraph> CpuBackend::prepare_impl(BipartiteGraph&& g) const {
  return std::make_unique<CpuGraph>(*this, std::move(g));
}

graph::CsrMatrix CpuBackend::take_user_items_impl(PreparedGraph& pg) const {
  return static_cast<CpuGraph&>(pg).take_user_items(threads_);
}

void CpuBackend::multiply_impl(const PreparedGraph& pg, Side out, ConstDenseView x, DenseView y) const {
  const BipartiteGraph& g = host(pg);
  const CpuGraph& cg = cpu_graph(pg);
  const BlockedMatrix* tiles = out == Side::users ? cg.tiles() : cg.item_tiles();
  if (tiles) return blocked_spmm(*tiles, x, y, threads_);  // the same bits as spmm on W or W^T
  if (out == Side::items && !g.transpose_stored) {
    const std::lock_guard<std::mutex> lock(scratch_mutex_);
    fused_spmm_transposed(g.user_items, cpu_graph(pg).columns(), FusedScales{}, x, y, threads_,
                          scatter_scratch_, false);
    return;
  }
  spmm(out == Side::users ? g.user_items : g.item_users, x, y, threads_);
}

double CpuBackend::half_step_impl(const PreparedGraph& pg, const HalfStep& step) const {
  const BipartiteGraph& g = host(pg);
  const bool users = step.out == Side::users;
  // F_out = alpha * D_out^-1/2 A D_in^-1/2 F_in + (1 - alpha) * seed_scale * Y_seed
  FusedScales s;
  s.out_scale = users ? g.user_inv_sqrt_degree : g.item_inv_sqrt_degree;
  s.in_scale = users ? g.item_inv_sqrt_degree : g.user_inv_sqrt_degree;
  s.alpha = step.alpha;
  s.seed = step.seed;
  s.seed_coef = (1.0f - step.alpha) * step.seed_scale;
  if (!users && !g.transpose_stored) {  // the scatter from W's rows (float32 either way)
    const std::lock_guard<std::mutex> lock(scratch_mutex_);
    return fused_spmm_transposed(g.user_items, cpu_graph(pg).columns(), s, step.f_in, step.f_out,
                                 threads_, scatter_scratch_);
  }
  const graph::CsrMatrix& a = users ? g.user_items : g.item_users;
  if (gather_ == GatherPrecision::bfloat16) {
    const std::lock_guard<std::mutex> lock(scratch_mutex_);
    return fused_spmm_bf16(a, s, step.f_in, step.f_out, threads_, bf16_scratch_);
  }
  const BlockedMatrix* tiles = users ? cpu_graph(pg).tiles() : cpu_graph(pg).item_tiles();
  if (tiles) return blocked_fused_spmm(*tiles, s, step.f_in, step.f_out, threads_);
  // (bfloat16 above and the plain gather below read W or W^T, which are then never freed.)
  return fused_spmm(a, s, step.f_in, step.f_out, threads_);
}

IterationChange CpuBackend::iteration_impl(const PreparedGraph& pg, const Iteration& it) const {
  const BipartiteGraph& g = host(pg);
  // With W^T stored (the default while it fits) the two row-parallel half-steps; without
  // it the one pass, which scatters into item accumulators: half the graph's memory,
  // 1.2-1.5x slower (bench/propagation/README.md, "W^T by default again").
  if (g.transpose_stored) return two_half_steps(pg, it);
  IterationScales s;
  s.user_scale = g.user_inv_sqrt_degree;
  s.item_scale = g.item_inv_sqrt_degree;
  s.alpha = it.alpha;
  s.user_seed = it.seed_users;
  s.user_seed_coef = (1.0f - it.alpha) * it.seed_scale_users;
  s.item_seed = it.seed_items;
  s.item_seed_coef = (1.0f - it.alpha) * it.seed_scale_items;
  s.bf16_gather = gather_ == GatherPrecision::bfloat16;
  s.blocked = cpu_graph(pg).tiles();
  const std::lock_guard<std::mutex> lock(scratch_mutex_);
  scatter_scratch_.block_cost = block_cost_;
  return fused_iteration(g.user_items, cpu_graph(pg).columns(), s, it.f_users, it.f_items, threads_,
                         scatter_scratch_);
}

}  // namespace driftrec::propagation::cpu
