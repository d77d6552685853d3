// The instruction-set check of core/cpu_check.hpp. This file is compiled for baseline x86-64
// whatever DRIFTREC_ARCH is (core/CMakeLists.txt) and uses only compiler builtins and libc
// (no C++ library templates: an inline function of a header is emitted in several objects
// and the linker keeps one of them, which may be an AVX2 copy), so it runs on any x86-64 CPU.
#include "core/cpu_check.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__AVX__)
#error "core/cpu_check.cpp must be compiled for baseline x86-64 (see core/CMakeLists.txt)"
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#ifndef DRIFTREC_ARCH_NAME
#define DRIFTREC_ARCH_NAME "the compiler's default"
#endif

namespace driftrec::core {

const char* const kCpuFeatureNames[kCpuFeatureCount] = {
    "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "bmi",
    "bmi2", "f16c", "lzcnt", "movbe", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"};

unsigned available_cpu_features() noexcept {
  unsigned m = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();  // the check runs before libgcc's own constructor may have
  auto set = [&m](int i, bool has) {
    if (has) m |= 1u << i;
  };
  set(0, __builtin_cpu_supports("sse3"));
  set(1, __builtin_cpu_supports("ssse3"));
  set(2, __builtin_cpu_supports("sse4.1"));
  set(3, __builtin_cpu_supports("sse4.2"));
  set(4, __builtin_cpu_supports("popcnt"));
  set(5, __builtin_cpu_supports("avx"));  // the CPU's and the operating system's (XSAVE) support
  set(6, __builtin_cpu_supports("avx2"));
  set(7, __builtin_cpu_supports("fma"));
  set(8, __builtin_cpu_supports("bmi"));
  set(9, __builtin_cpu_supports("bmi2"));
  // clang 14's __builtin_cpu_supports does not know f16c, lzcnt and movbe: read CPUID.
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    set(10, (c & bit_F16C) != 0);
    set(12, (c & bit_MOVBE) != 0);
  }
  if (__get_cpuid(0x80000001u, &a, &b, &c, &d)) set(11, (c & bit_LZCNT) != 0);
  set(13, __builtin_cpu_supports("avx512f"));
  set(14, __builtin_cpu_supports("avx512cd"));
  set(15, __builtin_cpu_supports("avx512bw"));
  set(16, __builtin_cpu_supports("avx512dq"));
  set(17, __builtin_cpu_supports("avx512vl"));
#endif
  return m;
}

int cpu_check_message(unsigned required, unsigned available, char* out, std::size_t size) noexcept {
  if (size == 0) return 0;
  out[0] = '\0';
  const unsigned missing = required & ~available;
  if (missing == 0) return 0;
  char names[256] = "";
  int count = 0;
  for (int i = 0; i < kCpuFeatureCount; ++i)
    if ((missing >> i) & 1u) {
      if (count++ > 0) std::strncat(names, ", ", sizeof names - std::strlen(names) - 1);
      std::strncat(names, kCpuFeatureNames[i], sizeof names - std::strlen(names) - 1);
    }
  std::snprintf(out, size,
                "driftrec: this build was compiled for %s and this CPU lacks %s (CPU feature%s "
                "used by the compiled code). Rebuild for this CPU with the CMake option "
                "-DDRIFTREC_ARCH=x86-64 (portable) or -DDRIFTREC_ARCH=native; for the Python "
                "module: pip install . -Ccmake.define.DRIFTREC_ARCH=x86-64\n",
                DRIFTREC_ARCH_NAME, names, count > 1 ? "s" : "");
  return count;
}

#ifndef DRIFTREC_CPU_CHECK_NO_CONSTRUCTOR
namespace {

// Priority 101: before the constructors of static objects of the default priority (65535)
// in the same binary or module, which are compiled for DRIFTREC_ARCH.
[[gnu::constructor(101)]] void check_cpu_at_load() {
  char message[1024];
  if (cpu_check_message(kBuildCpuFeatures, available_cpu_features(), message, sizeof message) > 0) {
    std::fputs(message, stderr);
    std::fflush(stderr);
    std::_Exit(1);
  }
}

}  // namespace
#endif  // DRIFTREC_CPU_CHECK_NO_CONSTRUCTOR

// core/error.cpp holds a pointer to this, so the linker takes this object (and its
// constructor) into every program that uses driftrec_core.
extern const int cpu_check_anchor = 0;

}  // namespace driftrec::core
