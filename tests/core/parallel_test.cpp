// core/parallel.hpp: every index runs exactly once for any thread count and schedule, the
// thread count asked for is the team's, the fixed schedule is OpenMP's static one, per-thread
// state is built once by the thread that uses it, and an exception thrown by the body or by
// make_state comes out of the loop with its type, after which the remaining iterations are
// skipped.
#include "core/parallel.hpp"

#include <Eigen/Core>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "tests/test_util.hpp"

using driftrec::InputError;
using driftrec::NumericalError;
using namespace driftrec::core;

namespace {

const char* name(Schedule s) { return s == Schedule::fixed ? "fixed" : "dynamic"; }

ParallelFor options(int threads, Schedule schedule, std::int64_t chunk = 1) {
  ParallelFor o;
  o.threads = threads;
  o.schedule = schedule;
  o.chunk = chunk;
  return o;
}

// Restores the calling thread's omp_get_max_threads() (tests that change it on purpose).
class MaxThreads {
 public:
  explicit MaxThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~MaxThreads() { omp_set_num_threads(saved_); }
  MaxThreads(const MaxThreads&) = delete;
  MaxThreads& operator=(const MaxThreads&) = delete;

 private:
  int saved_;
};

}  // namespace

TEST_CASE("thread_count: 0 is OpenMP's default, a positive count is kept", "[core][parallel]") {
  MaxThreads max(3);
  CHECK(thread_count(0) == 3);
  CHECK(thread_count(1) == 1);
  CHECK(thread_count(5) == 5);
}

TEST_CASE("parallel_for visits every index exactly once for 1, 2, 3 threads and both schedules",
          "[core][parallel]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  for (int threads : {1, 2, 3})
    for (Schedule schedule : {Schedule::fixed, Schedule::dynamic})
      for (std::int64_t n : {std::int64_t{0}, std::int64_t{1}, std::int64_t{2},
                             static_cast<std::int64_t>(3 + rng() % 2000)}) {
        const auto chunk = static_cast<std::int64_t>(1 + rng() % 7);
        INFO("seed " << seed << ", " << threads << " threads, " << name(schedule) << ", n " << n
                     << ", chunk " << chunk);
        std::vector<std::atomic<int>> plain(static_cast<std::size_t>(n));
        std::vector<std::atomic<int>> with_state(static_cast<std::size_t>(n));
        parallel_for(n, options(threads, schedule, chunk), [&](std::int64_t i) { ++plain[i]; });
        parallel_for_with_state(
            n, options(threads, schedule, chunk), [] { return 0; },
            [&](std::int64_t i, int&) { ++with_state[i]; });
        for (std::int64_t i = 0; i < n; ++i) {
          INFO("index " << i);
          REQUIRE(plain[i] == 1);
          REQUIRE(with_state[i] == 1);
        }
      }
}

TEST_CASE("parallel_for runs on the number of threads asked for; 0 is OpenMP's default",
          "[core][parallel]") {
  MaxThreads max(2);
  for (int threads : {0, 1, 2, 3})
    for (Schedule schedule : {Schedule::fixed, Schedule::dynamic}) {
      INFO(threads << " threads, " << name(schedule));
      std::mutex mutex;
      std::set<int> team_sizes, thread_ids;
      parallel_for(64, options(threads, schedule), [&](std::int64_t) {
        // Every thread waits a little, so the dynamic schedule reaches every thread.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        std::lock_guard<std::mutex> lock(mutex);
        team_sizes.insert(omp_get_num_threads());
        thread_ids.insert(omp_get_thread_num());
      });
      const int expected = threads > 0 ? threads : 2;
      CHECK(team_sizes == std::set<int>{expected});
      if (schedule == Schedule::fixed) CHECK(static_cast<int>(thread_ids.size()) == expected);
    }
}

TEST_CASE("the fixed schedule gives each thread the iterations OpenMP's schedule(static) does",
          "[core][parallel]") {
  for (int threads : {2, 3})
    for (std::int64_t n : {2, 7, 100, 1001}) {
      INFO(threads << " threads, n " << n);
      std::vector<int> reference(static_cast<std::size_t>(n), -1), ours(static_cast<std::size_t>(n), -1);
#pragma omp parallel for schedule(static) num_threads(threads)
      for (std::int64_t i = 0; i < n; ++i) reference[i] = omp_get_thread_num();
      parallel_for(n, options(threads, Schedule::fixed), [&](std::int64_t i) { ours[i] = omp_get_thread_num(); });
      CHECK(ours == reference);
      parallel_for_with_state(
          n, options(threads, Schedule::fixed), [] { return omp_get_thread_num(); },
          [&](std::int64_t i, int& owner) { ours[i] = owner; });
      CHECK(ours == reference);
    }
}

TEST_CASE("parallel = false runs every iteration on the calling thread", "[core][parallel]") {
  const auto caller = std::this_thread::get_id();
  ParallelFor o = options(3, Schedule::dynamic);
  o.parallel = false;
  std::vector<int> order;
  bool same_thread = true;
  int largest_team = 0;
  parallel_for(50, o, [&](std::int64_t i) {
    same_thread = same_thread && std::this_thread::get_id() == caller;
    largest_team = std::max(largest_team, omp_get_num_threads());
    order.push_back(static_cast<int>(i));  // unsynchronised on purpose: one thread only
  });
  CHECK(same_thread);
  CHECK(largest_team == 1);
  REQUIRE(order.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("an exception thrown at a random iteration is rethrown after the loop, type kept",
          "[core][parallel]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  for (int threads : {1, 2, 3})
    for (Schedule schedule : {Schedule::fixed, Schedule::dynamic})
      for (bool with_state : {false, true})
        for (int round = 0; round < 5; ++round) {
          const auto n = static_cast<std::int64_t>(1 + rng() % 500);
          const auto bad = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
          INFO("seed " << seed << ", " << threads << " threads, " << name(schedule)
                       << (with_state ? ", with state" : "") << ", n " << n << ", throws at " << bad);
          std::atomic<std::int64_t> calls{0};
          auto body = [&](std::int64_t i) {
            ++calls;
            if (i == bad) throw InputError("row " + std::to_string(i) + ": bad value");
          };
          auto loop = [&] {
            if (with_state)
              parallel_for_with_state(
                  n, options(threads, schedule, 3), [] { return std::vector<double>(16); },
                  [&](std::int64_t i, std::vector<double>&) { body(i); });
            else
              parallel_for(n, options(threads, schedule, 3), body);
          };
          // An InputError stays an InputError (not only a driftrec::Error).
          REQUIRE_THROWS_MATCHES(loop(), InputError,
                                 Catch::Matchers::Message("row " + std::to_string(bad) + ": bad value"));
          CHECK(calls <= n);
          // One thread stops at the failing row: every later one is skipped.
          if (threads == 1) CHECK(calls == bad + 1);
        }
}

TEST_CASE("when several iterations throw, one exception comes out, one of those thrown",
          "[core][parallel]") {
  for (int threads : {1, 2, 3}) {
    INFO(threads << " threads");
    try {
      parallel_for(300, options(threads, Schedule::dynamic), [](std::int64_t i) {
        if (i % 7 == 3) throw NumericalError(std::to_string(i));
      });
      FAIL("nothing was thrown");
    } catch (const NumericalError& e) {
      const int i = std::stoi(e.what());
      CHECK(i % 7 == 3);
      if (threads == 1) CHECK(i == 3);  // the first in iteration order
    }
  }
}

TEST_CASE("after one thread throws, the other threads skip their remaining iterations",
          "[core][parallel]") {
  // Thread 0 throws at its first iteration; thread 1 finishes its first iteration only after
  // that, and must then run no other. The fixed schedule gives each thread 50 iterations.
  for (bool with_state : {false, true}) {
    INFO((with_state ? "with state" : "plain"));
    std::atomic<bool> thrown{false};
    std::atomic<int> after{0};
    auto body = [&](std::int64_t i) {
      if (i == 0) {
        thrown = true;
        throw InputError("first");
      }
      if (i == 50) {
        while (!thrown) std::this_thread::yield();
        // The capture records the exception right after the throw; give it ample time.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return;
      }
      ++after;
    };
    auto loop = [&] {
      if (with_state)
        parallel_for_with_state(
            100, options(2, Schedule::fixed), [] { return 0; },
            [&](std::int64_t i, int&) { body(i); });
      else
        parallel_for(100, options(2, Schedule::fixed), body);
    };
    REQUIRE_THROWS_AS(loop(), InputError);
    CHECK(after == 0);
  }
}

TEST_CASE("each thread builds its state once, on its first iteration, and only it uses it",
          "[core][parallel]") {
  struct State {
    int owner;
    std::unique_ptr<int> uses;  // move-only, as buffers and handles are
  };
  for (int threads : {1, 2, 3})
    for (Schedule schedule : {Schedule::fixed, Schedule::dynamic})
      for (std::int64_t n : {1, 2, 500}) {
        INFO(threads << " threads, " << name(schedule) << ", n " << n);
        std::mutex mutex;
        std::vector<int> built(static_cast<std::size_t>(threads), 0);
        std::vector<int> used(static_cast<std::size_t>(threads), 0);
        std::atomic<bool> foreign{false};
        parallel_for_with_state(
            n, options(threads, schedule, 4),
            [&] {
              std::lock_guard<std::mutex> lock(mutex);
              ++built[static_cast<std::size_t>(omp_get_thread_num())];
              return State{omp_get_thread_num(), std::make_unique<int>(0)};
            },
            [&](std::int64_t, State& s) {
              if (s.owner != omp_get_thread_num()) foreign = true;
              ++*s.uses;
              std::lock_guard<std::mutex> lock(mutex);
              used[static_cast<std::size_t>(s.owner)] = *s.uses;
            });
        CHECK_FALSE(foreign);
        int total_uses = 0;
        for (int t = 0; t < threads; ++t) {
          INFO("thread " << t);
          CHECK(built[static_cast<std::size_t>(t)] == (used[static_cast<std::size_t>(t)] > 0 ? 1 : 0));
          total_uses += used[static_cast<std::size_t>(t)];
        }
        CHECK(total_uses == n);
      }
}

TEST_CASE("an exception from make_state is rethrown and that thread runs no iteration",
          "[core][parallel]") {
  for (int threads : {1, 2, 3})
    for (Schedule schedule : {Schedule::fixed, Schedule::dynamic}) {
      INFO(threads << " threads, " << name(schedule));
      // The last thread of the team cannot build its state. The others hold their first
      // iteration until it has tried, so that it gets one under the dynamic schedule too.
      const int failing = threads - 1;
      std::atomic<bool> tried{false};
      std::atomic<int> failing_ran{0}, built{0};
      auto loop = [&] {
        parallel_for_with_state(
            200, options(threads, schedule),
            [&] {
              if (omp_get_thread_num() == failing) {
                tried = true;
                throw NumericalError("no memory for the accumulator");
              }
              ++built;
              return 0;
            },
            [&](std::int64_t, int&) {
              if (omp_get_thread_num() == failing) ++failing_ran;
              while (!tried) std::this_thread::yield();
            });
      };
      REQUIRE_THROWS_MATCHES(loop(), NumericalError,
                             Catch::Matchers::Message("no memory for the accumulator"));
      CHECK(failing_ran == 0);
      CHECK(built <= threads - 1);
    }
}

TEST_CASE("serial_nested makes omp_get_max_threads() 1 inside and leaves the caller's alone",
          "[core][parallel]") {
  MaxThreads max(3);
  for (int threads : {1, 2})
    for (bool parallel : {true, false})
      for (bool serial_nested : {false, true}) {
        INFO(threads << " threads, parallel " << parallel << ", serial_nested " << serial_nested);
        ParallelFor o = options(threads, Schedule::dynamic);
        o.parallel = parallel;
        o.serial_nested = serial_nested;
        std::atomic<int> largest{0}, smallest{1000};
        parallel_for(16, o, [&](std::int64_t) {
          const int m = omp_get_max_threads();
          largest = std::max(largest.load(), m);
          smallest = std::min(smallest.load(), m);
        });
        CHECK(largest == (serial_nested ? 1 : 3));
        CHECK(smallest == (serial_nested ? 1 : 3));
        CHECK(omp_get_max_threads() == 3);
        // A second region on the same threads starts from the caller's setting again.
        std::atomic<int> seen{0};
        parallel_for(16, options(threads, Schedule::dynamic),
                     [&](std::int64_t) { seen = omp_get_max_threads(); });
        CHECK(seen == 3);
      }
}

TEST_CASE("with_serial_products runs f once on the calling thread with Eigen serial, the caller's setting kept",
          "[core][parallel]") {
  MaxThreads max(3);
  const std::thread::id caller = std::this_thread::get_id();
  int runs = 0, inside = 0, eigen_inside = 0;
  bool same_thread = false;
  with_serial_products([&] {
    ++runs;
    inside = omp_get_max_threads();
    eigen_inside = Eigen::nbThreads();
    same_thread = std::this_thread::get_id() == caller;
  });
  CHECK(runs == 1);
  CHECK(inside == 1);
  CHECK(eigen_inside == 1);
  CHECK(same_thread);
  CHECK(omp_get_max_threads() == 3);
  CHECK(Eigen::nbThreads() == 3);
  CHECK_THROWS_AS(with_serial_products([] { throw driftrec::NumericalError("lower it"); }), driftrec::NumericalError);
  CHECK(omp_get_max_threads() == 3);
}

TEST_CASE("ExceptionCapture keeps the first exception and skips the work that follows",
          "[core][parallel]") {
  ExceptionCapture capture;
  CHECK_FALSE(capture.failed());
  CHECK_NOTHROW(capture.rethrow());
  int ran = 0;
  capture.run([&] { ++ran; });
  capture.run([&] {
    ++ran;
    throw InputError("first");
  });
  CHECK(capture.failed());
  capture.run([&] {
    ++ran;
    throw NumericalError("second");
  });
  CHECK(ran == 2);
  REQUIRE_THROWS_MATCHES(capture.rethrow(), InputError, Catch::Matchers::Message("first"));
}

TEST_CASE("ExceptionCapture in a hand-written region keeps a non-driftrec exception's type",
          "[core][parallel]") {
  ExceptionCapture capture;
  std::atomic<int> team{0}, after{0};
#pragma omp parallel num_threads(2)
  {
    team = omp_get_num_threads();
    capture.run([] {
      if (omp_get_thread_num() == 1) throw std::out_of_range("index 7");
    });
#pragma omp barrier
    capture.run([&] { ++after; });
  }
  REQUIRE(team == 2);
  CHECK(after == 0);
  REQUIRE_THROWS_MATCHES(capture.rethrow(), std::out_of_range, Catch::Matchers::Message("index 7"));
}
