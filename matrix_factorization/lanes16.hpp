// 16 floats in two layouts, for the hand-vectorised kernels of this folder (the ALS CG row
// kernel, the batch top-K scorer), each compiled once per instruction set from one source:
//
// - Wide16: one 16-float GCC vector, one AVX-512 register;
// - Split16: two 8-float GCC vectors, one AVX2 register each.
//
// Neither is best everywhere, measured (bench/als/README.md, bench/export/README.md):
// GCC lowers Wide16 well only for AVX-512; in the AVX2 clone it took its scalar broadcasts
// and lane reads through the stack (failed store forwards), and the ALS fit was about ten
// times slower on a CPU without AVX-512. Split16 fixes that, but in the AVX-512 clone it
// runs on 256-bit registers, twice the instructions: the ALS sweep on a 1.2 * 10^7-entry
// matrix was 1.19x and top-K 1.17x slower than with Wide16. So the AVX-512 version of each
// kernel uses Wide16 and the others Split16 (DRIFTREC_LANES_* below: one definition per
// instruction set, GCC's function multiversioning picks one when the library loads).
//
// Both have the same interface (load16<L>, store16, fold16, max16, + - * and a scalar
// times a vector) and the same arithmetic lane for lane, folds included, so a kernel gives
// the same results with either. Internal to the kernels' .cpp files: every function is
// always inlined, so no vector crosses a call.
#pragma once

#include <algorithm>
#include <cstring>

namespace driftrec::matrix_factorization::detail {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
// One definition per instruction set of a function of the same name and signature.
#define DRIFTREC_LANES_DISPATCH 1
#define DRIFTREC_LANES_AVX512 __attribute__((target("arch=x86-64-v4")))
#define DRIFTREC_LANES_AVX2 __attribute__((target("arch=x86-64-v3")))
#define DRIFTREC_LANES_DEFAULT __attribute__((target("default")))
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // 64-byte vectors never cross a call (all inlined)
#endif

#define DRIFTREC_LANES_INLINE inline __attribute__((always_inline))

using V16 = float __attribute__((vector_size(64)));
using V8 = float __attribute__((vector_size(32)));
using V4 = float __attribute__((vector_size(16)));
using V2 = float __attribute__((vector_size(8)));

using Wide16 = V16;

struct Split16 {  // lanes 0-7 and 8-15
  V8 lo, hi;
};
DRIFTREC_LANES_INLINE Split16 operator+(const Split16& a, const Split16& b) { return {a.lo + b.lo, a.hi + b.hi}; }
DRIFTREC_LANES_INLINE Split16 operator-(const Split16& a, const Split16& b) { return {a.lo - b.lo, a.hi - b.hi}; }
DRIFTREC_LANES_INLINE Split16 operator*(const Split16& a, const Split16& b) { return {a.lo * b.lo, a.hi * b.hi}; }
DRIFTREC_LANES_INLINE Split16 operator*(float s, const Split16& a) { return {s * a.lo, s * a.hi}; }
DRIFTREC_LANES_INLINE Split16& operator+=(Split16& a, const Split16& b) { return a = a + b; }

template <class L>
DRIFTREC_LANES_INLINE L load16(const float* p);
template <>
DRIFTREC_LANES_INLINE Wide16 load16<Wide16>(const float* p) {
  Wide16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <>
DRIFTREC_LANES_INLINE Split16 load16<Split16>(const float* p) {
  Split16 v;
  std::memcpy(&v.lo, p, sizeof v.lo);
  std::memcpy(&v.hi, p + 8, sizeof v.hi);
  return v;
}

DRIFTREC_LANES_INLINE void store16(const Wide16& v, float* p) { std::memcpy(p, &v, sizeof v); }
DRIFTREC_LANES_INLINE void store16(const Split16& v, float* p) {
  std::memcpy(p, &v.lo, sizeof v.lo);
  std::memcpy(p + 8, &v.hi, sizeof v.hi);
}

// The sum of the 16 lanes: lane l + 8, then + 4, + 2, + 1 (a fixed tree, so the order of
// additions never depends on the layout, the instruction set or the thread count).
DRIFTREC_LANES_INLINE float fold16(const Wide16& lanes) {
  V16 v = lanes;
  v += __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3);
  v += __builtin_shufflevector(v, v, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1);
  return v[0] + v[1];
}
DRIFTREC_LANES_INLINE float fold16(const Split16& v) {
  const V8 a = v.lo + v.hi;
  const V4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  const V2 c = __builtin_shufflevector(b, b, 0, 1) + __builtin_shufflevector(b, b, 2, 3);
  return c[0] + c[1];
}

// The largest of the 16 lanes, by the same tree (a NaN lane may or may not win, as with
// std::max).
DRIFTREC_LANES_INLINE float max16(const Wide16& lanes) {
  V16 m = lanes;
  V16 s = __builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  m = m > s ? m : s;
  s = __builtin_shufflevector(m, m, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3);
  m = m > s ? m : s;
  s = __builtin_shufflevector(m, m, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1);
  m = m > s ? m : s;
  return std::max(m[0], m[1]);
}
DRIFTREC_LANES_INLINE float max16(const Split16& v) {
  const V8 a = v.lo > v.hi ? v.lo : v.hi;
  const V4 a0 = __builtin_shufflevector(a, a, 0, 1, 2, 3), a1 = __builtin_shufflevector(a, a, 4, 5, 6, 7);
  const V4 b = a0 > a1 ? a0 : a1;
  const V2 b0 = __builtin_shufflevector(b, b, 0, 1), b1 = __builtin_shufflevector(b, b, 2, 3);
  const V2 c = b0 > b1 ? b0 : b1;
  return std::max(c[0], c[1]);
}

#undef DRIFTREC_LANES_INLINE

}  // namespace driftrec::matrix_factorization::detail
