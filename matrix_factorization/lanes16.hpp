// Lanes16: 16 floats as two 8-float GCC vectors, for the hand-vectorised kernels of this
// folder (the ALS CG row kernel, the batch top-K scorer), which are compiled once per
// instruction set (target_clones) from one source.
//
// Each half is one AVX2 register; AVX-512 runs the halves on its 256-bit registers and SSE
// splits each in two. One 16-float GCC vector type was used before: GCC lowered it well
// only for AVX-512, and the AVX2 clone took its scalar broadcasts and lane reads through the
// stack (16 scalar stores read back as vectors: failed store forwards), which made the ALS
// fit about ten times slower on a CPU without AVX-512 than with it (bench/als/README.md).
// The arithmetic is lane for lane what the 16-float vector did, so results are unchanged.
//
// Internal to the kernels' .cpp files: every function is always inlined, so no vector
// crosses a call.
#pragma once

#include <algorithm>
#include <cstring>

namespace driftrec::matrix_factorization::detail {

#define DRIFTREC_LANES_INLINE inline __attribute__((always_inline))

using V8 = float __attribute__((vector_size(32)));
using V4 = float __attribute__((vector_size(16)));
using V2 = float __attribute__((vector_size(8)));

struct Lanes16 {  // lanes 0-7 and 8-15
  V8 lo, hi;
};
DRIFTREC_LANES_INLINE Lanes16 operator+(const Lanes16& a, const Lanes16& b) { return {a.lo + b.lo, a.hi + b.hi}; }
DRIFTREC_LANES_INLINE Lanes16 operator-(const Lanes16& a, const Lanes16& b) { return {a.lo - b.lo, a.hi - b.hi}; }
DRIFTREC_LANES_INLINE Lanes16 operator*(const Lanes16& a, const Lanes16& b) { return {a.lo * b.lo, a.hi * b.hi}; }
DRIFTREC_LANES_INLINE Lanes16 operator*(float s, const Lanes16& a) { return {s * a.lo, s * a.hi}; }
DRIFTREC_LANES_INLINE Lanes16& operator+=(Lanes16& a, const Lanes16& b) { return a = a + b; }

DRIFTREC_LANES_INLINE Lanes16 load16(const float* p) {
  Lanes16 v;
  std::memcpy(&v.lo, p, sizeof v.lo);
  std::memcpy(&v.hi, p + 8, sizeof v.hi);
  return v;
}
DRIFTREC_LANES_INLINE void store16(const Lanes16& v, float* p) {
  std::memcpy(p, &v.lo, sizeof v.lo);
  std::memcpy(p + 8, &v.hi, sizeof v.hi);
}

// The sum of the 16 lanes: lane l + 8, then + 4, + 2, + 1 (a fixed tree, so the order of
// additions never depends on the instruction set or the thread count).
DRIFTREC_LANES_INLINE float fold16(const Lanes16& v) {
  const V8 a = v.lo + v.hi;
  const V4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  const V2 c = __builtin_shufflevector(b, b, 0, 1) + __builtin_shufflevector(b, b, 2, 3);
  return c[0] + c[1];
}

// The largest of the 16 lanes (a NaN lane may or may not win, as with std::max).
DRIFTREC_LANES_INLINE float max16(const Lanes16& v) {
  const V8 a = v.lo > v.hi ? v.lo : v.hi;
  const V4 a0 = __builtin_shufflevector(a, a, 0, 1, 2, 3), a1 = __builtin_shufflevector(a, a, 4, 5, 6, 7);
  const V4 b = a0 > a1 ? a0 : a1;
  const V2 b0 = __builtin_shufflevector(b, b, 0, 1), b1 = __builtin_shufflevector(b, b, 2, 3);
  const V2 c = b0 > b1 ? b0 : b1;
  return std::max(c[0], c[1]);
}

#undef DRIFTREC_LANES_INLINE

}  // namespace driftrec::matrix_factorization::detail
