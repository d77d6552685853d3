// The CUDA kernels of implicit ALS (als_kernels.cuh).
// - cg_kernel: one warp per row. The row's four CG vectors (x, r, p, A p) live in shared
//   memory, lane l owning components l, l + 32, ...; a dot product is a per-lane sum then
//   a shuffle tree; G v reads G's rows coalesced (G is symmetric, so column c of G v is
//   sum_j G[j][c] v_j). The loop is the CPU kernel's (row_kernels.cpp, cg_row) step for
//   step, so the two agree to float rounding (the order of additions differs).
// - form_normal_kernel: one block per row builds A_r and b_r in double for cuSOLVER's
//   batched Cholesky (the reference solver).
#include <cuda_runtime.h>

#include "matrix_factorization/cuda/als_kernels.cuh"

namespace driftrec::matrix_factorization::cuda {
namespace {

constexpr int kWarp = 32;
constexpr unsigned kFull = 0xffffffffu;
constexpr float kResidualFloor = 1e-20f;  // the CPU kernel's stopping test on r . r

// sum_c a[c] b[c] over the warp, every lane getting the sum.
__device__ float warp_dot(const float* a, const float* b, int f, int lane) {
  float s = 0;
  for (int c = lane; c < f; c += kWarp) s += a[c] * b[c];
  for (int o = kWarp / 2; o > 0; o /= 2) s += __shfl_xor_sync(kFull, s, o);
  return s;
}

// out = G v (G symmetric f x f); each lane writes its own components.
__device__ void symv(const float* g, const float* v, float* out, int f, int lane) {
  for (int c = lane; c < f; c += kWarp) {
    float s = 0;
    for (int j = 0; j < f; ++j) s += g[static_cast<std::size_t>(j) * f + c] * v[j];
    out[c] = s;
  }
}

__global__ void cg_kernel(CgArgs a) {
  extern __shared__ float shared[];
  const int lane = threadIdx.x & (kWarp - 1);
  const int warp = threadIdx.x / kWarp;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / kWarp) + warp;
  if (row >= a.rows) return;  // the whole warp: no block-wide barrier follows
  const int f = a.f;
  float* x = shared + static_cast<std::size_t>(warp) * 4 * f;
  float* r = x + f;
  float* p = r + f;
  float* ap = p + f;
  float* x_out = a.x + row * f;
  const std::int64_t begin = a.indptr[row], end = a.indptr[row + 1];
  for (int c = lane; c < f; c += kWarp) x[c] = x_out[c];
  __syncwarp();

  // r = b - A x = eta prior - G x + sum_e (c_e - (c_e - 1)(y_e . x)) y_e
  symv(a.gram, x, r, f, lane);
  for (int c = lane; c < f; c += kWarp) r[c] = (a.prior ? a.eta * a.prior[row * f + c] : 0.0f) - r[c];
  for (std::int64_t e = begin; e < end; ++e) {
    const float v = a.values[e];
    if (!(v > 0)) continue;
    const float w = a.alpha * v;  // c - 1
    const float* yi = a.y + static_cast<std::size_t>(a.indices[e]) * f;
    const float s = 1.0f + w - w * warp_dot(x, yi, f, lane);
    for (int c = lane; c < f; c += kWarp) r[c] += s * yi[c];
  }
  for (int c = lane; c < f; c += kWarp) p[c] = r[c];
  __syncwarp();
  float rs_old = warp_dot(r, r, f, lane);
  // !(rs < floor), not rs >= floor: a NaN residual must reach x, where it is caught.
  for (int step = 0; step < a.steps && !(rs_old < kResidualFloor); ++step) {
    symv(a.gram, p, ap, f, lane);  // A p = G p + sum_e (c_e - 1)(y_e . p) y_e
    for (std::int64_t e = begin; e < end; ++e) {
      const float v = a.values[e];
      if (!(v > 0)) continue;
      const float* yi = a.y + static_cast<std::size_t>(a.indices[e]) * f;
      const float s = a.alpha * v * warp_dot(p, yi, f, lane);
      for (int c = lane; c < f; c += kWarp) ap[c] += s * yi[c];
    }
    const float p_ap = warp_dot(p, ap, f, lane);
    if (p_ap <= 0) break;  // rounding at convergence (A is positive definite); NaN goes on
    const float step_len = rs_old / p_ap;
    for (int c = lane; c < f; c += kWarp) {
      x[c] += step_len * p[c];
      r[c] -= step_len * ap[c];
    }
    const float rs_new = warp_dot(r, r, f, lane);
    for (int c = lane; c < f; c += kWarp) p[c] = r[c] + (rs_new / rs_old) * p[c];
    __syncwarp();  // symv reads every lane's p
    rs_old = rs_new;
  }
  bool bad = false;
  for (int c = lane; c < f; c += kWarp) {
    x_out[c] = x[c];
    bad = bad || !isfinite(x[c]);
  }
  if (__any_sync(kFull, bad) && lane == 0) atomicMin(a.bad_row, static_cast<std::int32_t>(row));
}

template <class T>
__global__ void symmetrize_kernel(T* g, int f, T diag) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= static_cast<std::int64_t>(f) * f) return;
  const int i = static_cast<int>(t % f), j = static_cast<int>(t / f);  // column-major (i, j)
  if (i > j) g[j + static_cast<std::size_t>(i) * f] = g[t];             // lower -> upper
  if (i == j) g[t] += diag;
}

__global__ void to_double_kernel(const float* in, double* out, std::int64_t n) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t < n) out[t] = in[t];
}

__global__ void form_normal_kernel(NormalArgs a) {
  const int i = blockIdx.x;  // row first + i
  const std::int64_t row = static_cast<std::int64_t>(a.first) + i;
  const int f = a.f;
  const std::int64_t begin = a.indptr[row], end = a.indptr[row + 1];
  double* ar = a.a + static_cast<std::size_t>(i) * f * f;
  double* br = a.b + static_cast<std::size_t>(i) * f;
  for (int t = threadIdx.x; t < f * f; t += blockDim.x) {
    const int p = t / f, q = t % f;
    double s = a.g[t];
    for (std::int64_t e = begin; e < end; ++e) {
      const float v = a.values[e];
      if (!(v > 0)) continue;
      const float* yi = a.y + static_cast<std::size_t>(a.indices[e]) * f;
      s += static_cast<double>(a.alpha) * v * static_cast<double>(yi[p]) * yi[q];
    }
    ar[t] = s;
  }
  for (int k = threadIdx.x; k < f; k += blockDim.x) {
    double s = a.prior ? static_cast<double>(a.eta) * a.prior[row * f + k] : 0.0;
    for (std::int64_t e = begin; e < end; ++e) {
      const float v = a.values[e];
      if (!(v > 0)) continue;
      const float* yi = a.y + static_cast<std::size_t>(a.indices[e]) * f;
      s += (1.0 + static_cast<double>(a.alpha) * v) * yi[k];
    }
    br[k] = s;
  }
}

__global__ void store_solution_kernel(const double* b, float* x, int f, int first, int count) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t < static_cast<std::int64_t>(count) * f) x[static_cast<std::size_t>(first) * f + t] = static_cast<float>(b[t]);
}

unsigned blocks(std::int64_t n, int per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }

}  // namespace

int launch_cg(const CgArgs& a) {
  if (a.rows == 0 || a.f == 0) return 0;
  const std::size_t per_warp = 4 * static_cast<std::size_t>(a.f) * sizeof(float);
  int warps = static_cast<int>(32768 / per_warp);
  warps = warps < 1 ? 1 : (warps > 8 ? 8 : warps);
  const std::size_t bytes = per_warp * warps;
  if (bytes > 48 * 1024)
    cudaFuncSetAttribute(cg_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  cg_kernel<<<blocks(a.rows, warps), warps * kWarp, bytes>>>(a);
  return static_cast<int>(cudaGetLastError());
}

int launch_symmetrize(float* g, std::int32_t f, float diag) {
  if (f == 0) return 0;
  symmetrize_kernel<float><<<blocks(static_cast<std::int64_t>(f) * f, 256), 256>>>(g, f, diag);
  return static_cast<int>(cudaGetLastError());
}

int launch_symmetrize_double(double* g, std::int32_t f, double diag) {
  if (f == 0) return 0;
  symmetrize_kernel<double><<<blocks(static_cast<std::int64_t>(f) * f, 256), 256>>>(g, f, diag);
  return static_cast<int>(cudaGetLastError());
}

int launch_to_double(const float* in, double* out, std::int64_t n) {
  if (n == 0) return 0;
  to_double_kernel<<<blocks(n, 256), 256>>>(in, out, n);
  return static_cast<int>(cudaGetLastError());
}

int launch_form_normal(const NormalArgs& a) {
  if (a.count == 0 || a.f == 0) return 0;
  form_normal_kernel<<<a.count, 256>>>(a);
  return static_cast<int>(cudaGetLastError());
}

int launch_store_solution(const double* b, float* x, std::int32_t f, std::int32_t first, std::int32_t count) {
  if (count == 0 || f == 0) return 0;
  store_solution_kernel<<<blocks(static_cast<std::int64_t>(count) * f, 256), 256>>>(b, x, f, first, count);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace driftrec::matrix_factorization::cuda
