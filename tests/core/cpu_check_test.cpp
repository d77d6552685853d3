// The load-time instruction-set check (core/cpu_check.hpp): the features the build says it
// uses are those the compiler's macros show in this file (compiled with the same flags), this
// machine has them (the tests are running), and a CPU without one gets a message naming each
// missing feature and the CMake option that rebuilds for it.
#include <catch2/catch.hpp>

#include <string>

#include "core/cpu_check.hpp"

using namespace driftrec;

namespace {

unsigned bit_of(const std::string& name) {
  for (int i = 0; i < core::kCpuFeatureCount; ++i)
    if (name == core::kCpuFeatureNames[i]) return 1u << i;
  FAIL("no feature " << name);
  return 0;
}

std::string message(unsigned required, unsigned available, int* count = nullptr) {
  char out[1024];
  const int n = core::cpu_check_message(required, available, out, sizeof out);
  if (count != nullptr) *count = n;
  return out;
}

}  // namespace

TEST_CASE("the build's CPU features follow the compiler's flags and this CPU has them", "[core][cpu_check]") {
  const unsigned build = core::kBuildCpuFeatures;
  CAPTURE(build, core::available_cpu_features());
#ifdef __AVX2__
  REQUIRE((build & bit_of("avx2")) != 0);
#else
  REQUIRE((build & bit_of("avx2")) == 0);
#endif
#ifdef __FMA__
  REQUIRE((build & bit_of("fma")) != 0);
#else
  REQUIRE((build & bit_of("fma")) == 0);
#endif
#ifdef __AVX512F__
  REQUIRE((build & bit_of("avx512f")) != 0);
#else
  REQUIRE((build & bit_of("avx512f")) == 0);
#endif
  REQUIRE((build & ~core::available_cpu_features()) == 0u);
  REQUIRE(message(build, core::available_cpu_features()).empty());
}

TEST_CASE("a CPU without a feature of the build gets each missing feature and the rebuild option", "[core][cpu_check]") {
  const unsigned v3 = bit_of("avx") | bit_of("avx2") | bit_of("fma") | bit_of("bmi2") | bit_of("f16c");
  int count = 0;
  const std::string one = message(v3, v3 & ~bit_of("fma"), &count);
  REQUIRE(count == 1);
  REQUIRE_THAT(one, Catch::Contains("lacks fma (CPU feature used") && Catch::Contains("-DDRIFTREC_ARCH=x86-64") &&
                        Catch::Contains("DRIFTREC_ARCH=native"));
  REQUIRE_THAT(one, !Catch::Contains("avx2"));
  const std::string three = message(v3, bit_of("avx"), &count);
  REQUIRE(count == 4);
  REQUIRE_THAT(three, Catch::Contains("lacks avx2, fma, bmi2, f16c (CPU features"));
  // More features than the caller's buffer holds: cut, still terminated.
  char small[16];
  REQUIRE(core::cpu_check_message(v3, 0, small, sizeof small) == 5);
  REQUIRE(std::string(small).size() == sizeof small - 1);
  REQUIRE(message(0, 0).empty());
}
