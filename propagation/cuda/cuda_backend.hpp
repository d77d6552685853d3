// The CUDA propagation backend ("cuda" in backend_registry.cpp; built with
// DRIFTREC_HAVE_CUDA only; internal, not installed). prepare uploads W and its stored
// transpose (CSR, int64 offsets, int32 columns), the degree scalings and each side's
// RowSplit (row_split.hpp) once; the graph stays on the device until the handle dies.
// half_step and multiply copy their dense operands in and out per call (the seam's
// operands are host views); iterate keeps F_U, F_I and the seeds on the device for the
// whole loop, copying F in once and out once, and only the two changes (8 bytes) back
// per iteration. The kernels are those of lp_kernels.cu; multiply_cusparse does the same
// product with cuSPARSE (cusparseSpMM, CSR, CUSPARSE_SPMM_CSR_ALG2), the in-process anchor
// of bench/gpu and of the tests; cuSPARSE is loaded (sparse_library.hpp) and its handle
// made at the anchor's first call, so the backend's own kernels never map it.
//
// Calls are serialised by a mutex (one device context, the default stream), so one
// backend may be shared by threads (the evaluation fits models concurrently).
#pragma once
#include <memory>
#include <mutex>

#include "propagation/backend.hpp"

namespace driftrec::propagation::cuda {

class CudaBackend final : public Backend {
 public:
  // Heavy rows are cut into segments of this many edges (row_split.hpp).
  static constexpr graph::Offset kSegmentEdges = 512;

  explicit CudaBackend(int threads = 0);  // threads: the host work of prepare
  ~CudaBackend() override;
  std::string_view name() const override { return "cuda"; }

  // y = W x (out = users) or W^T x with cuSPARSE SpMM (CSR ALG2, row-major dense), on the
  // same prepared graph; shapes checked as multiply does. InputError beyond 2^31 - 1
  // edges (the anchor keeps 32-bit row offsets).
  void multiply_cusparse(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const;

  // Timing hooks of bench/gpu: the same kernels on device-resident operands, `repeat`
  // times, returning seconds per run measured with CUDA events (no host copies inside).
  // half_step_seconds: one full iteration (both half-steps, with degree scaling, seeds
  // and changes); cusparse_seconds: the two plain products W x and W^T y with cuSPARSE.
  double iteration_seconds(const PreparedGraph& g, graph::Index k, int repeat) const;
  double cusparse_seconds(const PreparedGraph& g, graph::Index k, int repeat) const;

 private:
  std::unique_ptr<PreparedGraph> prepare_impl(const BipartiteGraph& g) const override;
  std::unique_ptr<PreparedGraph> prepare_impl(BipartiteGraph&& g) const override;
  void multiply_impl(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const override;
  double half_step_impl(const PreparedGraph& g, const HalfStep& step) const override;
  int iterate_impl(const PreparedGraph& g, const IterationLoop& loop) const override;

  struct Context;  // the cuSPARSE handle, made at first use
  int threads_;
  std::unique_ptr<Context> context_;
  mutable std::mutex mutex_;
};

}  // namespace driftrec::propagation::cuda
