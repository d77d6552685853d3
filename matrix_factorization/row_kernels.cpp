// The inner kernels of the ALS half-sweep (Hu, Koren & Volinsky 2008), vectorised:
//
// - cg_solve_row: conjugate gradient on one row's normal equations from the current
//   solution (Takacs, Pilaszy & Tikk 2011; the loop of implicit's least_squares_cg),
//   never forming A: A p = G p + sum_e (c_e - 1)(y_e . p) y_e costs O(f^2 + nnz f).
//   For f = 16, 32, 64, 128 the row's four vectors (x, r, p, A p) are held in vector
//   variables for the whole row (in registers as far as the clone has them); the random
//   reads of y_e are prefetched a few entries ahead.
// - syrk_lower: the Gram matrix Y^T Y, four rows per pass.
//
// Both are written with GCC vector extensions and plain loops (no intrinsics, no
// -ffast-math). On x86-64 Linux each is compiled for AVX-512, AVX2 and the baseline and
// picked when the library loads (target_clones, or one definition per instruction set where
// the layout of the vectors differs), as the BLAS behind implicit's CPU solver picks its
// kernels at run time. A dot product adds in 16 lanes folded by a fixed tree, so
// results are the same for any thread count; between machine levels they may differ in
// the last bits (fused multiply-add).
#include "matrix_factorization/row_kernels.hpp"

#include "matrix_factorization/lanes16.hpp"

namespace driftrec::matrix_factorization::detail {
namespace {

using graph::Offset;

constexpr float kResidualFloor = 1e-20f;  // implicit's CG stopping test on r . r

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DRIFTREC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DRIFTREC_CLONES
#endif
#define DRIFTREC_INLINE inline __attribute__((always_inline))

// Vector arithmetic for the CG kernel, in two flavours with the same interface:
// - FixedOps<F, L> (F a multiple of 16): a row vector is F/16 chunks of 16 floats in the
//   layout L (matrix_factorization/lanes16.hpp: Wide16 for AVX-512, Split16 otherwise), so
//   x, r, p and A p stay in registers for the whole row as far as the clone has them;
// - DynOps: any f, vectors are spans of per-thread scratch.
// Both sum a dot product in 16 lanes folded by the same fixed tree, so no reassociation
// is needed (no -ffast-math) and the order of additions is fixed.

template <int F, class L>
struct FixedOps {
  static_assert(F % 16 == 0);
  static constexpr int kChunks = F / 16;
  struct Vec {
    L v[kChunks];
  };
  explicit FixedOps(int) {}
  Vec make(float*) const { return Vec{}; }
  DRIFTREC_INLINE void load(Vec& a, const float* p) const {
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) a.v[c] = load16<L>(p + 16 * c);
  }
  DRIFTREC_INLINE void store(const Vec& a, float* p) const {
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) store16(a.v[c], p + 16 * c);
  }
  DRIFTREC_INLINE float dot(const Vec& a, const float* b) const {
    L acc = a.v[0] * load16<L>(b);
    _Pragma("GCC unroll 16") for (int c = 1; c < kChunks; ++c) acc += a.v[c] * load16<L>(b + 16 * c);
    return fold16(acc);
  }
  DRIFTREC_INLINE float dot(const Vec& a, const Vec& b) const {
    L acc = a.v[0] * b.v[0];
    _Pragma("GCC unroll 16") for (int c = 1; c < kChunks; ++c) acc += a.v[c] * b.v[c];
    return fold16(acc);
  }
  DRIFTREC_INLINE void axpy(float s, const float* x, Vec& y) const {  // y += s x
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) y.v[c] += s * load16<L>(x + 16 * c);
  }
  DRIFTREC_INLINE void axpy(float s, const Vec& x, Vec& y) const {
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) y.v[c] += s * x.v[c];
  }
  DRIFTREC_INLINE void xpby(const Vec& x, float s, Vec& y) const {  // y = x + s y
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) y.v[c] = x.v[c] + s * y.v[c];
  }
  DRIFTREC_INLINE void copy(const Vec& x, Vec& y) const { y = x; }
  DRIFTREC_INLINE void scale_sub(float s, const float* prior, Vec& y) const {  // y = s prior - y
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) {
      const L base = prior ? s * load16<L>(prior + 16 * c) : L{};
      y.v[c] = base - y.v[c];
    }
  }
  // out = G v for a symmetric row-major G: out = sum_k v_k G[k, :] (rows, no reductions).
  DRIFTREC_INLINE void symv(const float* g, const Vec& v, Vec& out) const {
    alignas(64) float vs[F];
    store(v, vs);
    _Pragma("GCC unroll 16") for (int c = 0; c < kChunks; ++c) out.v[c] = L{};
    for (int k = 0; k < F; ++k) axpy(vs[k], g + static_cast<std::size_t>(k) * F, out);
  }
};

struct DynOps {
  struct Vec {
    float* d;
  };
  explicit DynOps(int f) : n(f) {}
  int n;
  Vec make(float* storage) const { return Vec{storage}; }
  DRIFTREC_INLINE void load(Vec& a, const float* p) const {
    for (int k = 0; k < n; ++k) a.d[k] = p[k];
  }
  DRIFTREC_INLINE void store(const Vec& a, float* p) const {
    for (int k = 0; k < n; ++k) p[k] = a.d[k];
  }
  DRIFTREC_INLINE float dot(const Vec& a, const float* b) const {
    float acc[16] = {};
    int k = 0;
    for (; k + 16 <= n; k += 16)
      for (int l = 0; l < 16; ++l) acc[l] += a.d[k + l] * b[k + l];
    for (int l = 0; k < n; ++k, ++l) acc[l] += a.d[k] * b[k];
    for (int w = 8; w > 0; w /= 2)
      for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
    return acc[0];
  }
  DRIFTREC_INLINE float dot(const Vec& a, const Vec& b) const { return dot(a, b.d); }
  DRIFTREC_INLINE void axpy(float s, const float* __restrict x, Vec& y) const {
    float* __restrict yd = y.d;
    for (int k = 0; k < n; ++k) yd[k] += s * x[k];
  }
  DRIFTREC_INLINE void axpy(float s, const Vec& x, Vec& y) const { axpy(s, x.d, y); }
  DRIFTREC_INLINE void xpby(const Vec& x, float s, Vec& y) const {
    for (int k = 0; k < n; ++k) y.d[k] = x.d[k] + s * y.d[k];
  }
  DRIFTREC_INLINE void copy(const Vec& x, Vec& y) const { store(x, y.d); }
  DRIFTREC_INLINE void scale_sub(float s, const float* prior, Vec& y) const {
    for (int k = 0; k < n; ++k) y.d[k] = (prior ? s * prior[k] : 0.0f) - y.d[k];
  }
  DRIFTREC_INLINE void symv(const float* g, const Vec& v, Vec& out) const {
    for (int k = 0; k < n; ++k) out.d[k] = 0;
    for (int k = 0; k < n; ++k) axpy(v.d[k], g + static_cast<std::size_t>(k) * n, out);
  }
};

constexpr Offset kPrefetchAhead = 4;  // entries ahead: hides the random reads of y_e

// Conjugate gradient on A x = b from the current x (implicit's least_squares_cg).
// `scratch` holds 4 f floats (DynOps keeps its vectors there).
template <class Ops>
DRIFTREC_INLINE void cg_row(const Ops& ops, int f, const RowProblem& q, int steps, float* x_io,
                            float* scratch) {
  using Vec = typename Ops::Vec;
  Vec x = ops.make(scratch), r = ops.make(scratch + f), p = ops.make(scratch + 2 * f),
      ap = ops.make(scratch + 3 * f);
  const auto y_row = [&](Offset e) __attribute__((always_inline)) {
    return q.y + static_cast<std::size_t>(q.idx[e]) * f;
  };
  // Every cache line of the row kPrefetchAhead entries on. Always inlined: GCC sees no side
  // effect in __builtin_prefetch, so a call to this lambda left out of line was found
  // "pure" and deleted, which dropped the prefetches of the fixed-size kernels silently.
  const auto prefetch = [&](Offset e) __attribute__((always_inline)) {
    if (e + kPrefetchAhead < q.n) {
      const char* line = reinterpret_cast<const char*>(y_row(e + kPrefetchAhead));
      for (int b = 0; b < f * static_cast<int>(sizeof(float)); b += 64) __builtin_prefetch(line + b);
    }
  };
  ops.load(x, x_io);

  // r = b - A x = eta prior - G x + sum_e (c_e - (c_e - 1)(y_e . x)) y_e
  ops.symv(q.gram, x, r);
  ops.scale_sub(q.eta, q.prior, r);
  for (Offset e = 0; e < q.n; ++e) {
    prefetch(e);
    const float v = q.val[e];
    if (!(v > 0)) continue;
    const float w = q.alpha * v;  // c - 1
    const float* yi = y_row(e);
    ops.axpy(1.0f + w - w * ops.dot(x, yi), yi, r);
  }
  ops.copy(r, p);
  float rs_old = ops.dot(r, r);
  // !(rs < floor), not rs >= floor: a NaN residual must reach x, where it is caught.
  for (int step = 0; step < steps && !(rs_old < kResidualFloor); ++step) {
    ops.symv(q.gram, p, ap);  // A p = G p + sum_e (c_e - 1)(y_e . p) y_e
    for (Offset e = 0; e < q.n; ++e) {
      prefetch(e);
      const float v = q.val[e];
      if (!(v > 0)) continue;
      const float* yi = y_row(e);
      ops.axpy(q.alpha * v * ops.dot(p, yi), yi, ap);
    }
    const float p_ap = ops.dot(p, ap);
    // A is positive definite: p_ap <= 0 is rounding at convergence (NaN goes on, to be caught).
    if (p_ap <= 0) break;
    const float step_len = rs_old / p_ap;
    ops.axpy(step_len, p, x);
    ops.axpy(-step_len, ap, r);
    const float rs_new = ops.dot(r, r);
    ops.xpby(r, rs_new / rs_old, p);
    rs_old = rs_new;
  }
  ops.store(x, x_io);
}

// f = 16, 32, 64 or 128, once per instruction set (lanes16.hpp: Wide16 with AVX-512, Split16
// below it; the function multiversioning picks one when the library loads).
template <class L>
DRIFTREC_INLINE void cg_row_fixed_lanes(int f, const RowProblem& q, int steps, float* x, float* scratch) {
  switch (f) {
    case 16: return cg_row(FixedOps<16, L>(16), 16, q, steps, x, scratch);
    case 32: return cg_row(FixedOps<32, L>(32), 32, q, steps, x, scratch);
    case 64: return cg_row(FixedOps<64, L>(64), 64, q, steps, x, scratch);
    default: return cg_row(FixedOps<128, L>(128), 128, q, steps, x, scratch);
  }
}
#ifdef DRIFTREC_LANES_DISPATCH
DRIFTREC_LANES_AVX512 void cg_row_fixed(int f, const RowProblem& q, int steps, float* x, float* scratch) {
  cg_row_fixed_lanes<Wide16>(f, q, steps, x, scratch);
}
DRIFTREC_LANES_AVX2 void cg_row_fixed(int f, const RowProblem& q, int steps, float* x, float* scratch) {
  cg_row_fixed_lanes<Split16>(f, q, steps, x, scratch);
}
DRIFTREC_LANES_DEFAULT
#endif
void cg_row_fixed(int f, const RowProblem& q, int steps, float* x, float* scratch) {
  cg_row_fixed_lanes<Split16>(f, q, steps, x, scratch);
}
DRIFTREC_CLONES void cg_row_any(int f, const RowProblem& q, int steps, float* x, float* scratch) {
  cg_row(DynOps(f), f, q, steps, x, scratch);
}

}  // namespace

void cg_solve_row(int f, const RowProblem& q, int steps, float* x, float* scratch) {
  if (f == 16 || f == 32 || f == 64 || f == 128) return cg_row_fixed(f, q, steps, x, scratch);
  cg_row_any(f, q, steps, x, scratch);
}

namespace {
// Four rows of Y per pass over out.
DRIFTREC_CLONES void syrk_lower_impl(int f, const float* __restrict y, std::ptrdiff_t rows,
                                     float* __restrict out) {
  std::ptrdiff_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* y0 = y + r * f;
    const float *y1 = y0 + f, *y2 = y1 + f, *y3 = y2 + f;
    for (int k = 0; k < f; ++k) {
      const float a0 = y0[k], a1 = y1[k], a2 = y2[k], a3 = y3[k];
      float* o = out + static_cast<std::size_t>(k) * f;
      for (int j = 0; j <= k; ++j) o[j] += a0 * y0[j] + a1 * y1[j] + a2 * y2[j] + a3 * y3[j];
    }
  }
  for (; r < rows; ++r) {
    const float* y0 = y + r * f;
    for (int k = 0; k < f; ++k) {
      float* o = out + static_cast<std::size_t>(k) * f;
      for (int j = 0; j <= k; ++j) o[j] += y0[k] * y0[j];
    }
  }
}
}  // namespace

void syrk_lower(int f, const float* y, std::ptrdiff_t rows, float* out) {
  syrk_lower_impl(f, y, rows, out);
}

}  // namespace driftrec::matrix_factorization::detail
