#include "core/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace driftrec::core {

void assertion_failed(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "driftrec: internal invariant broken at %s:%d: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace driftrec::core
