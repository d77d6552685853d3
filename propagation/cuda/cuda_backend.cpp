// The CUDA propagation backend of cuda_backend.hpp: device copies of the graph, the
// dispatch of the seam's entry points to the kernels of lp_kernels.cu, and the cuSPARSE
// anchor. Arguments arrive checked (Backend's public entry points in backend.cpp).
#include "propagation/cuda/cuda_backend.hpp"

#include <cuda_runtime_api.h>
#include <cusparse.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/cuda/device_memory.hpp"
#include "propagation/cuda/lp_kernels.cuh"
#include "propagation/cuda/row_split.hpp"
#include "propagation/cuda/sparse_library.hpp"

namespace driftrec::propagation::cuda {
namespace {

using core::cuda::check;
using core::cuda::check_status;
using core::cuda::DeviceArray;
using graph::Index;
using graph::Offset;

// One orientation of the graph: A (rows x cols) with the scaling of its rows, D_rows^-1/2,
// and its RowSplit; row_offsets32 for cuSPARSE when nnz fits 32 bits (else empty).
struct DeviceSide {
  Index rows = 0, cols = 0;
  Offset nnz = 0;
  DeviceArray<Index> indices;
  DeviceArray<float> values;
  DeviceArray<float> row_scale;
  DeviceArray<std::int64_t> seg_begin, seg_end, seg_slot, split_slot_begin;
  DeviceArray<std::int32_t> seg_row, split_row;
  std::int64_t segments = 0, split_rows = 0, slots = 0;
  DeviceArray<std::int32_t> row_offsets32;

  void upload(const graph::CsrMatrix& a, const std::vector<float>& scale) {
    rows = a.n_rows;
    cols = a.n_cols;
    nnz = a.nnz();
    indices.upload(a.indices);
    values.upload(a.data);
    row_scale.upload(scale);
    const RowSplit s = propagation::cuda::split_rows(a.indptr, CudaBackend::kSegmentEdges);
    seg_begin.upload(s.begin);
    seg_end.upload(s.end);
    seg_row.upload(s.row);
    seg_slot.upload(s.slot);
    split_row.upload(s.split_row);
    split_slot_begin.upload(s.slot_begin);
    segments = s.segments();
    split_rows = s.split_rows();
    slots = s.slots();
    if (nnz <= std::numeric_limits<std::int32_t>::max()) {
      const std::vector<std::int32_t> offsets(a.indptr.begin(), a.indptr.end());
      row_offsets32.upload(offsets);
    }
  }
};

class CudaGraph final : public PreparedGraph {
 public:
  CudaGraph(const Backend& b, const BipartiteGraph& g) : PreparedGraph(b, g) {
    users.upload(g.user_items, g.user_inv_sqrt_degree);  // A = W
    // A = W^T: the device gathers over W^T's rows, so a graph prepared without its
    // transpose (Transpose::none, what the CPU path uses to save memory) gets one here.
    if (g.transpose_stored)
      items.upload(g.item_users, g.item_inv_sqrt_degree);
    else
      items.upload(graph::transpose(g.user_items), g.item_inv_sqrt_degree);
  }
  // The side a product writes, and the side it reads (whose row scaling is in_scale).
  const DeviceSide& out(Side s) const { return s == Side::users ? users : items; }
  const DeviceSide& in(Side s) const { return s == Side::users ? items : users; }

  DeviceSide users, items;
};

const CudaGraph& device(const PreparedGraph& g) {
  return static_cast<const CudaGraph&>(g);  // the entry points checked the owner
}

// Scratch of one call: heavy rows' partial sums and the change reduction.
struct Workspace {
  DeviceArray<float> partial;
  DeviceArray<unsigned> max_bits{1};
  DeviceArray<int> non_finite{1};
};

struct Product {
  Side out = Side::users;
  const float* x = nullptr;  // device, in-side rows x k
  float* y = nullptr;        // device, out-side rows x k
  Index k = 0;
  bool scaled = false;  // the half-step: degree scalings, alpha, seed, change
  float alpha = 1;
  const float* seed = nullptr;  // device or null
  float seed_coef = 0;
};

// Runs one product on the device; for a half-step returns max |y_new - y_old| (NaN when
// some change is NaN or infinite), else 0 after synchronising.
double run_product(const CudaGraph& g, const Product& p, Workspace& w) {
  const DeviceSide& a = g.out(p.out);
  const DeviceSide& in = g.in(p.out);
  const std::size_t need = static_cast<std::size_t>(a.slots) * static_cast<std::size_t>(p.k);
  if (w.partial.size() < need) w.partial.resize(need);
  if (p.scaled) {
    w.max_bits.fill_zero();
    w.non_finite.fill_zero();
  }
  HalfStepArgs args{};
  args.seg_begin = a.seg_begin.data();
  args.seg_end = a.seg_end.data();
  args.seg_row = a.seg_row.data();
  args.seg_slot = a.seg_slot.data();
  args.segments = a.segments;
  args.split_row = a.split_row.data();
  args.split_slot_begin = a.split_slot_begin.data();
  args.split_rows = a.split_rows;
  args.indices = a.indices.data();
  args.values = a.values.data();
  args.x = p.x;
  args.in_scale = p.scaled ? in.row_scale.data() : nullptr;
  args.out_scale = p.scaled ? a.row_scale.data() : nullptr;
  args.alpha = p.scaled ? p.alpha : 1.0f;
  args.seed = p.scaled ? p.seed : nullptr;
  args.seed_coef = p.scaled ? p.seed_coef : 0.0f;
  args.y = p.y;
  args.k = p.k;
  args.partial = w.partial.data();
  args.want_change = p.scaled;
  args.max_bits = w.max_bits.data();
  args.non_finite = w.non_finite.data();
  check(static_cast<cudaError_t>(launch_half_step(args)), "label propagation half-step kernels");
  if (!p.scaled) {
    check(cudaDeviceSynchronize(), "label propagation product kernels");
    return 0;
  }
  unsigned bits = 0;
  int non_finite = 0;
  w.max_bits.download(&bits, 1);  // synchronises: kernel errors surface here
  w.non_finite.download(&non_finite, 1);
  return non_finite ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(std::bit_cast<float>(bits));
}

std::size_t elements(const ConstDenseView& v) {
  return static_cast<std::size_t>(v.rows) * static_cast<std::size_t>(v.cols);
}

// A copy of a host block on the device (nothing for a null or empty block).
DeviceArray<float> to_device(ConstDenseView v) {
  DeviceArray<float> d;
  if (v.data) d.upload(v.data, elements(v));
  return d;
}

template <class T, class Destroy>
struct Descriptor {  // a cuSPARSE descriptor, destroyed with the scope
  T handle{};
  Destroy destroy;
  ~Descriptor() {
    if (handle) destroy(handle);
  }
};

}  // namespace

// The cuSPARSE handle, made (and cuSPARSE loaded) by the first call of the anchor: the
// backend's own kernels do not need it.
struct CudaBackend::Context {
  cusparseHandle_t sparse = nullptr;
  cusparseHandle_t handle() {  // with the backend's mutex held
    if (!sparse) check_status(sparse_library().create(&sparse), "cusparseCreate");
    return sparse;
  }
  ~Context() {
    if (sparse) sparse_library().destroy(sparse);
  }
};

CudaBackend::CudaBackend(int threads) : threads_(threads), context_(std::make_unique<Context>()) {
  BackendOptions{threads}.validate();
  check(cudaFree(nullptr), "creating the CUDA context");
}

CudaBackend::~CudaBackend() = default;

std::unique_ptr<PreparedGraph> CudaBackend::prepare_impl(const BipartiteGraph& g) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return std::make_unique<CudaGraph>(*this, g);
}

std::unique_ptr<PreparedGraph> CudaBackend::prepare_impl(BipartiteGraph&& g) const {
  std::unique_ptr<PreparedGraph> out = prepare_impl(std::as_const(g));
  g = BipartiteGraph{};  // uploaded: the host copy is not kept
  return out;
}

void CudaBackend::multiply_impl(const PreparedGraph& pg, Side out, ConstDenseView x, DenseView y) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  DeviceArray<float> dx = to_device(x), dy(elements(y));
  Workspace w;
  run_product(device(pg), {out, dx.data(), dy.data(), y.cols}, w);
  dy.download(y.data, elements(y));
}

double CudaBackend::half_step_impl(const PreparedGraph& pg, const HalfStep& step) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  // f_out is uploaded too: its old values give the change.
  DeviceArray<float> dx = to_device(step.f_in), dy = to_device(step.f_out), ds = to_device(step.seed);
  Workspace w;
  Product p{step.out, dx.data(), dy.data(), step.f_out.cols, true, step.alpha,
            step.seed.data ? ds.data() : nullptr, (1.0f - step.alpha) * step.seed_scale};
  const double change = run_product(device(pg), p, w);
  dy.download(step.f_out.data, elements(step.f_out));
  return change;
}

int CudaBackend::iterate_impl(const PreparedGraph& pg, const IterationLoop& loop) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const CudaGraph& g = device(pg);
  DeviceArray<float> f_users = to_device(loop.f_users), f_items = to_device(loop.f_items);
  const DeviceArray<float> seed_users = to_device(loop.seed_users), seed_items = to_device(loop.seed_items);
  const Index k = loop.f_users.cols;
  Workspace w;
  // F_U <- alpha * S * F_I + (1 - alpha) * user_seed_scale * Y_U
  const Product users{Side::users, f_items.data(), f_users.data(), k, true, loop.alpha,
                      loop.seed_users.data ? seed_users.data() : nullptr,
                      (1.0f - loop.alpha) * loop.user_seed_scale};
  // F_I <- alpha * S^T * F_U + (1 - alpha) * Y_I
  const Product items{Side::items, f_users.data(), f_items.data(), k, true, loop.alpha,
                      loop.seed_items.data ? seed_items.data() : nullptr, 1.0f - loop.alpha};
  int it = 1;
  for (; it <= loop.max_iterations; ++it) {
    const double change_users = run_product(g, users, w);
    const double change_items = run_product(g, items, w);
    if (loop.after_iteration(it, change_users, change_items)) break;
  }
  f_users.download(loop.f_users.data, elements(loop.f_users));
  f_items.download(loop.f_items.data, elements(loop.f_items));
  return it > loop.max_iterations ? loop.max_iterations : it;
}

namespace {

// y = A x by cusparseSpMM (CSR, ALG2, row-major dense) on device operands; the buffer is
// grown as needed and kept by the caller.
void cusparse_product(cusparseHandle_t handle, const DeviceSide& a, const float* x, float* y, Index k,
                      DeviceArray<char>& buffer) {
  if (a.nnz > 0 && a.row_offsets32.size() == 0)
    throw InputError(fmt::format("cuSPARSE anchor: the graph has {} edges; it keeps 32-bit row offsets (at most "
                                 "2^31 - 1 edges)",
                                 a.nnz));
  if (a.rows == 0 || k == 0) return;
  const SparseLibrary& lib = sparse_library();
  Descriptor<cusparseSpMatDescr_t, decltype(lib.destroy_sp_mat)> mat{{}, lib.destroy_sp_mat};
  Descriptor<cusparseDnMatDescr_t, decltype(lib.destroy_dn_mat)> dx{{}, lib.destroy_dn_mat};
  Descriptor<cusparseDnMatDescr_t, decltype(lib.destroy_dn_mat)> dy{{}, lib.destroy_dn_mat};
  check_status(lib.create_csr(&mat.handle, a.rows, a.cols, a.nnz, const_cast<std::int32_t*>(a.row_offsets32.data()),
                                 const_cast<Index*>(a.indices.data()), const_cast<float*>(a.values.data()),
                                 CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F),
               "cusparseCreateCsr");
  check_status(lib.create_dn_mat(&dx.handle, a.cols, k, k, const_cast<float*>(x), CUDA_R_32F, CUSPARSE_ORDER_ROW),
               "cusparseCreateDnMat (x)");
  check_status(lib.create_dn_mat(&dy.handle, a.rows, k, k, y, CUDA_R_32F, CUSPARSE_ORDER_ROW),
               "cusparseCreateDnMat (y)");
  const float one = 1, zero = 0;
  std::size_t bytes = 0;
  check_status(lib.spmm_buffer_size(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                       &one, mat.handle, dx.handle, &zero, dy.handle, CUDA_R_32F,
                                       CUSPARSE_SPMM_CSR_ALG2, &bytes),
               "cusparseSpMM_bufferSize");
  if (buffer.size() < bytes) buffer.resize(bytes);
  check_status(lib.spmm(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &one,
                            mat.handle, dx.handle, &zero, dy.handle, CUDA_R_32F, CUSPARSE_SPMM_CSR_ALG2,
                            buffer.data()),
               "cusparseSpMM");
}

// Host values for the timing hooks: F(0) = a fixed pattern in [0, 1).
std::vector<float> pattern(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 2654435761u) % 1000u) / 1000.0f;
  return v;
}

// Seconds per call of body(), `repeat` calls after one warm-up, timed with CUDA events.
template <class Body>
double time_device(int repeat, Body&& body) {
  body();
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  float ms = 0;
  try {
    check(cudaEventRecord(start), "cudaEventRecord");
    for (int i = 0; i < repeat; ++i) body();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  } catch (...) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms / 1000.0 / std::max(repeat, 1);
}

}  // namespace

void CudaBackend::multiply_cusparse(const PreparedGraph& pg, Side out, ConstDenseView x, DenseView y) const {
  if (&pg.backend() != this) throw InputError("multiply_cusparse: the graph was prepared by another backend");
  const bool users = out == Side::users;
  if (x.rows != (users ? pg.items() : pg.users()) || y.rows != (users ? pg.users() : pg.items()) || x.cols != y.cols)
    throw InputError(fmt::format("multiply_cusparse: operands are x {} x {} and y {} x {}", x.rows, x.cols, y.rows,
                                 y.cols));
  const std::lock_guard<std::mutex> lock(mutex_);
  DeviceArray<float> dx = to_device(x), dy(elements(y));
  DeviceArray<char> buffer;
  cusparse_product(context_->handle(), device(pg).out(out), dx.data(), dy.data(), y.cols, buffer);
  dy.download(y.data, elements(y));
}

double CudaBackend::iteration_seconds(const PreparedGraph& pg, Index k, int repeat) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const CudaGraph& g = device(pg);
  DeviceArray<float> f_users, f_items, seed_items;
  f_users.upload(pattern(static_cast<std::size_t>(g.users.rows) * k));
  f_items.upload(pattern(static_cast<std::size_t>(g.items.rows) * k));
  seed_items.upload(pattern(static_cast<std::size_t>(g.items.rows) * k));
  Workspace w;
  const Product users{Side::users, f_items.data(), f_users.data(), k, true, 0.85f, nullptr, 0.0f};
  const Product items{Side::items, f_users.data(), f_items.data(), k, true, 0.85f, seed_items.data(), 0.15f};
  return time_device(repeat, [&] {
    run_product(g, users, w);
    run_product(g, items, w);
  });
}

double CudaBackend::cusparse_seconds(const PreparedGraph& pg, Index k, int repeat) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const CudaGraph& g = device(pg);
  DeviceArray<float> f_users, f_items;
  f_users.upload(pattern(static_cast<std::size_t>(g.users.rows) * k));
  f_items.upload(pattern(static_cast<std::size_t>(g.items.rows) * k));
  DeviceArray<char> buffer;
  const cusparseHandle_t handle = context_->handle();
  return time_device(repeat, [&] {
    cusparse_product(handle, g.users, f_items.data(), f_users.data(), k, buffer);  // Y_U = W X_I
    cusparse_product(handle, g.items, f_users.data(), f_items.data(), k, buffer);  // X_I = W^T Y_U
  });
}

}  // namespace driftrec::propagation::cuda
