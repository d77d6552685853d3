// core/memory: the available-memory reading and the refusal of a job estimated larger.
#include "core/memory.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <string>

#include "core/error.hpp"

using namespace driftrec;

TEST_CASE("available_memory reads MemAvailable of /proc/meminfo, capped by the cgroup's headroom", "[core][memory]") {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  bool found = false;
  while (in >> key) {
    if (key == "MemAvailable:") {
      in >> kib;
      found = true;
      break;
    }
    in.ignore(1 << 10, '\n');
  }
  REQUIRE(found);  // Linux has had MemAvailable since 3.14
  const double got = static_cast<double>(core::available_memory());
  const double cgroup = static_cast<double>(core::cgroup_headroom());  // 0: no limit
  const double want = cgroup > 0 ? std::min(cgroup, static_cast<double>(kib) * 1024) : static_cast<double>(kib) * 1024;
  // The two readings are moments apart: other processes move it a little.
  CHECK(got == Approx(want).epsilon(0.2));
}

TEST_CASE("check_memory refuses an estimate above what is available, naming the option and both sizes",
          "[core][memory]") {
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
  CHECK_NOTHROW(core::check_memory(3.0 * kGiB, "--factors 64", "factorize", "the factors", "ask for fewer", 4 * kGiB));
  CHECK_NOTHROW(core::check_memory(1e30, "--factors 64", "factorize", "the factors", "ask for fewer", 0));  // unknown
  CHECK_THROWS_AS(core::check_memory(5.0 * kGiB, "--factors 64", "factorize", "x", "y", 4 * kGiB), InputError);
  CHECK_THROWS_WITH(core::check_memory(75.5 * kGiB, "--factors 100000", "factorize", "the Gram matrices",
                                       "ask for fewer --factors", 20 * kGiB),
                    "--factors 100000: factorize needs about 75.5 GiB of memory (the Gram matrices), but 20.0 GiB "
                    "is available; ask for fewer --factors");
  CHECK(core::format_bytes(100) == "100 B");
  CHECK(core::format_bytes(1536) == "1.5 KiB");
  CHECK(core::format_bytes(3.0 * kGiB * 1024) == "3.0 TiB");
}
