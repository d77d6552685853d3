// core/passive_team.hpp: every index of every job runs exactly once on the team's own
// threads (never the caller's), jobs can follow each other many times, a body sees
// omp_get_max_threads() == 1 while the caller's setting is unchanged, and the first exception
// a body throws comes out of run() with its type, the job's remaining indices skipped.
#include "core/passive_team.hpp"

#include <omp.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/error.hpp"

using driftrec::InputError;
using driftrec::NumericalError;
using driftrec::core::PassiveTeam;

TEST_CASE("a passive team runs every index of every job exactly once on its own threads", "[core][passive_team]") {
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    PassiveTeam team(threads);
    REQUIRE(team.size() == threads);
    const auto caller = std::this_thread::get_id();
    std::mutex m;
    std::set<std::thread::id> ids;
    for (std::int64_t n : {0, 1, 2, 5, 64, 1000}) {
      CAPTURE(n);
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(n));
      team.run(n, [&](std::int64_t i) {
        runs[static_cast<std::size_t>(i)].fetch_add(1);
        const std::lock_guard lock(m);
        ids.insert(std::this_thread::get_id());
      });
      for (std::int64_t i = 0; i < n; ++i) REQUIRE(runs[static_cast<std::size_t>(i)].load() == 1);
    }
    CHECK(ids.count(caller) == 0);
    CHECK(ids.size() <= static_cast<std::size_t>(threads));
  }
}

TEST_CASE("a passive team's bodies see one OpenMP thread and the caller's setting is kept", "[core][passive_team]") {
  const int before = omp_get_max_threads();
  PassiveTeam team(2);
  std::atomic<int> most{0};
  team.run(8, [&](std::int64_t) { most = std::max(most.load(), omp_get_max_threads()); });
  CHECK(most.load() == 1);
  CHECK(omp_get_max_threads() == before);
}

TEST_CASE("a passive team rethrows the first exception with its type and stays usable", "[core][passive_team]") {
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    PassiveTeam team(threads);
    std::atomic<int> ran{0};
    CHECK_THROWS_AS(team.run(1000,
                             [&](std::int64_t i) {
                               ran.fetch_add(1);
                               if (i == 3) throw NumericalError("learning_rate: too large");
                             }),
                    NumericalError);
    // One thread takes the indices in order: none after the throw runs.
    if (threads == 1) CHECK(ran.load() == 4);
    std::atomic<int> again{0};
    team.run(100, [&](std::int64_t) { again.fetch_add(1); });
    CHECK(again.load() == 100);
  }
  CHECK_THROWS_AS(PassiveTeam(-1), InputError);
}

TEST_CASE("a passive team's jobs follow each other thousands of times", "[core][passive_team]") {
  PassiveTeam team(2);
  std::int64_t total = 0;
  std::atomic<std::int64_t> sum{0};
  for (int job = 0; job < 5000; ++job) {
    team.run(4, [&](std::int64_t i) { sum.fetch_add(i + 1); });
    total += 10;
  }
  CHECK(sum.load() == total);
}
