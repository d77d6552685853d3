// The instruction-set check run when a driftrec binary or the Python module is loaded.
//
// The default build compiles for x86-64-v3 (AVX2, FMA, BMI2, F16C; CMake DRIFTREC_ARCH), so
// on an older CPU the first vector instruction would end the process with SIGILL and no
// word of why. Before any other code of the program runs (a constructor of priority 101 in
// core/cpu_check.cpp, a file compiled for baseline x86-64 and written with builtins and libc
// only, so nothing in it can be an AVX instruction), the CPU's features are compared with
// those the build was compiled for (the compiler's predefined macros, core/cpu_features.cpp);
// if one is missing the process prints which, and the CMake option that rebuilds for the
// CPU, and exits with status 1 (the environment, not the user's input, is at fault).
// core/error.cpp refers to the check, so every program that links driftrec_core has it.
//
// The Python package must not end the interpreter: its __init__.py first imports a small
// module of its own (python/cpu_check_module.cpp, compiled for baseline x86-64 with this file
// built under DRIFTREC_CPU_CHECK_NO_CONSTRUCTOR), which returns the same message, and raises
// ImportError with it before the extension compiled for DRIFTREC_ARCH is loaded.
#pragma once
#include <cstddef>

namespace driftrec::core {

// Bit i set: the feature kCpuFeatureNames[i] (__builtin_cpu_supports's name for it).
inline constexpr int kCpuFeatureCount = 18;
extern const char* const kCpuFeatureNames[kCpuFeatureCount];

// The features the build's code may use (from the compiler's macros in that build).
extern const unsigned kBuildCpuFeatures;
// The features this CPU has, of those above.
unsigned available_cpu_features() noexcept;
// Writes the message for a CPU that has `available` but the build needs `required` into
// `out` (NUL-terminated, cut to `size`) and returns the number of features missing; 0
// (and an empty `out`) when none is.
int cpu_check_message(unsigned required, unsigned available, char* out, std::size_t size) noexcept;

// Defined beside the check; core/error.cpp refers to it so that the linker keeps the check.
extern const int cpu_check_anchor;

}  // namespace driftrec::core
