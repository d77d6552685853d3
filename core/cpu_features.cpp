// The instruction-set features this build was compiled to use, read from the compiler's
// predefined macros in a file compiled with the project's flags (DRIFTREC_ARCH), so the list
// follows -march=x86-64-v3, -march=native or the portable x86-64 without a second table.
// Only a constant (constinit): no code of this file runs, so none of it can be an instruction
// the CPU lacks.
#include "core/cpu_check.hpp"

namespace driftrec::core {

namespace {

constexpr unsigned bit(int i) { return 1u << i; }

constexpr unsigned build_features() {
  unsigned m = 0;
  // The order is kCpuFeatureNames's (core/cpu_check.cpp).
#ifdef __SSE3__
  m |= bit(0);
#endif
#ifdef __SSSE3__
  m |= bit(1);
#endif
#ifdef __SSE4_1__
  m |= bit(2);
#endif
#ifdef __SSE4_2__
  m |= bit(3);
#endif
#ifdef __POPCNT__
  m |= bit(4);
#endif
#ifdef __AVX__
  m |= bit(5);
#endif
#ifdef __AVX2__
  m |= bit(6);
#endif
#ifdef __FMA__
  m |= bit(7);
#endif
#ifdef __BMI__
  m |= bit(8);
#endif
#ifdef __BMI2__
  m |= bit(9);
#endif
#ifdef __F16C__
  m |= bit(10);
#endif
#ifdef __LZCNT__
  m |= bit(11);
#endif
#ifdef __MOVBE__
  m |= bit(12);
#endif
#ifdef __AVX512F__
  m |= bit(13);
#endif
#ifdef __AVX512CD__
  m |= bit(14);
#endif
#ifdef __AVX512BW__
  m |= bit(15);
#endif
#ifdef __AVX512DQ__
  m |= bit(16);
#endif
#ifdef __AVX512VL__
  m |= bit(17);
#endif
  return m;
}

}  // namespace

constinit const unsigned kBuildCpuFeatures = build_features();

}  // namespace driftrec::core
