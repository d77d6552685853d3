// The CPU backend of propagation/cpu/cpu_backend.hpp: a handle over the host graph and
// the dispatch of the entry points to the kernels of spmm.cpp. Arguments arrive checked
// (Backend's public entry points in backend.cpp).
#include "propagation/cpu/cpu_backend.hpp"

#include <omp.h>

#include <optional>
#include <utility>

#include "propagation/cpu/spmm.hpp"

namespace driftrec::propagation::cpu {
namespace {

// The host graph, read in place: borrowed (the caller keeps it alive) or owned.
class CpuGraph final : public PreparedGraph {
 public:
  CpuGraph(const Backend& b, const BipartiteGraph& g) : PreparedGraph(b, g), graph_(&g) {}
  CpuGraph(const Backend& b, BipartiteGraph&& g)
      : PreparedGraph(b, g), owned_(std::move(g)), graph_(&*owned_) {}
  const BipartiteGraph& graph() const { return *graph_; }

 private:
  std::optional<BipartiteGraph> owned_;
  const BipartiteGraph* graph_;
};

const BipartiteGraph& host(const PreparedGraph& g) {
  return static_cast<const CpuGraph&>(g).graph();  // the entry points checked the owner
}

}  // namespace

CpuBackend::CpuBackend(int threads, GatherPrecision gather)
    : threads_(threads > 0 ? threads : omp_get_max_threads()), gather_(gather) {
  BackendOptions{threads, gather}.validate();
}

std::unique_ptr<PreparedGraph> CpuBackend::prepare_impl(const BipartiteGraph& g) const {
  return std::make_unique<CpuGraph>(*this, g);
}

std::unique_ptr<PreparedGraph> CpuBackend::prepare_impl(BipartiteGraph&& g) const {
  return std::make_unique<CpuGraph>(*this, std::move(g));
}

void CpuBackend::multiply_impl(const PreparedGraph& pg, Side out, ConstDenseView x, DenseView y) const {
  const BipartiteGraph& g = host(pg);
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
  const graph::CsrMatrix& a = users ? g.user_items : g.item_users;
  if (gather_ == GatherPrecision::bfloat16) {
    const std::lock_guard<std::mutex> lock(scratch_mutex_);
    return fused_spmm_bf16(a, s, step.f_in, step.f_out, threads_, bf16_scratch_);
  }
  return fused_spmm(a, s, step.f_in, step.f_out, threads_);
}

}  // namespace driftrec::propagation::cpu
