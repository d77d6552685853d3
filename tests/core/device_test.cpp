// --device / device= (core/device.hpp): the words it takes, and what asking for CUDA does
// where CUDA can or cannot run. Which branch runs depends on the build and the machine;
// each asserts the behaviour that machine must show.
#include <catch2/catch.hpp>

#include "core/device.hpp"
#include "core/error.hpp"

using namespace driftrec;
using core::Device;

TEST_CASE("parse_device takes cpu, cuda and auto and names the option otherwise", "[core][device]") {
  REQUIRE(core::parse_device("cpu") == Device::cpu);
  REQUIRE(core::parse_device("cuda") == Device::cuda);
  REQUIRE(core::parse_device("auto") == Device::automatic);
  REQUIRE(core::device_name(Device::automatic) == "auto");
  REQUIRE_THROWS_WITH(core::parse_device("gpu", "--device"),
                      Catch::Contains("--device") && Catch::Contains("cpu, cuda or auto") && Catch::Contains("gpu"));
}

TEST_CASE("use_cuda: cpu never, auto where CUDA runs, cuda or an InputError saying why", "[core][device]") {
  REQUIRE_FALSE(core::use_cuda(Device::cpu));
  const std::string why = core::cuda_unavailable_reason();
  INFO("cuda_unavailable_reason: '" << why << "'");
  REQUIRE(core::use_cuda(Device::automatic) == why.empty());
  if (why.empty()) {
    REQUIRE(core::built_with_cuda());
    REQUIRE(core::use_cuda(Device::cuda));
  } else {
    REQUIRE_THROWS_AS(core::use_cuda(Device::cuda, "--device"), InputError);
    REQUIRE_THROWS_WITH(core::use_cuda(Device::cuda, "--device"), Catch::StartsWith("--device cuda: ") && Catch::Contains(why));
    if (!core::built_with_cuda()) REQUIRE_THROWS_WITH(core::use_cuda(Device::cuda), Catch::Contains("no CUDA"));
  }
}
