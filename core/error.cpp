#include "core/error.hpp"

#include "core/cpu_check.hpp"

#include <cstdio>
#include <cstdlib>

namespace driftrec::core {

// Every program that links driftrec_core gets the instruction-set check at load
// (core/cpu_check.hpp): this object is in all of them, and the pointer makes the linker take
// the check's object from the static library too.
[[gnu::used]] static const int* const kCpuCheckAnchor = &cpu_check_anchor;

void assertion_failed(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "driftrec: internal invariant broken at %s:%d: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace driftrec::core
