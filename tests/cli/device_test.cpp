// --device on propagate, factorize, train and evaluate: a bad word, and --device cuda
// where CUDA cannot run (a build without it, or a machine without a GPU), exit 2 with one
// line saying which; --device auto runs there (on the CPU).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/device.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::run_cli;
using driftrec::test::TempDir;

namespace {
constexpr const char* kLog = "--users 120 --items 90 --labels 5 --periods 5 --events-per-period 4 --seed 5";

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("propagate, factorize, train and evaluate take --device cpu, cuda or auto, and cuda where it cannot run exits 2 saying why", "[cli][device]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const std::string why = core::cuda_unavailable_reason();
  for (const char* command : {"propagate", "factorize", "train", "evaluate"}) {
    INFO(command);
    const auto bad = run_cli(fmt::format("{} '{}' --device gpu --quiet", command, store));
    REQUIRE(bad.exit_code == 2);
    REQUIRE_THAT(bad.err, Catch::Contains("device") && Catch::Contains("cpu, cuda or auto"));
    if (!why.empty()) {
      const auto r = run_cli(fmt::format("{} '{}' --device cuda --quiet", command, store));
      REQUIRE(r.exit_code == 2);
      REQUIRE(lines(r.err) == 1);
      REQUIRE_THAT(r.err, Catch::Contains("device cuda: ") && Catch::Contains(why));
    }
  }
  if (!why.empty()) {  // auto falls back to the CPU
    const auto a = run_cli(fmt::format("propagate '{}' --device auto --name on_auto --json --quiet --threads 1", store));
    REQUIRE(a.exit_code == 0);
    const auto j = nlohmann::json::parse(a.out);
    REQUIRE(j["result"] == "on_auto");
  }
}
