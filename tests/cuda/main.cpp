// The CUDA test executable (driftrec_cuda_tests): the CUDA backends against the CPU ones.
// Where CUDA cannot run (a build without it, or no device) it prints why and exits 77,
// which CTest reports as SKIPPED (SKIP_RETURN_CODE), never as passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "core/device.hpp"

int main(int argc, char* argv[]) {
  if (const std::string why = driftrec::core::cuda_unavailable_reason(); !why.empty()) {
    std::printf("SKIPPED: the CUDA tests need CUDA: %s\n", why.c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
