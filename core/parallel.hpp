// The one way driftrec runs a loop on OpenMP threads. An exception must not leave an OpenMP
// region (the runtime calls std::terminate), so every region that can throw or allocate
// runs its body through ExceptionCapture: the first exception thrown by any thread is kept,
// the other threads skip their remaining work, and the exception is rethrown after the
// region ends.
//
// Thread counts travel in the options structs of each algorithm: 0 means OpenMP's default
// (omp_get_max_threads()), n > 0 exactly n. Nothing here calls omp_set_num_threads.
#pragma once
#include <omp.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

namespace driftrec::core {

// 0 -> omp_get_max_threads(), otherwise `requested` (at least 1).
inline int thread_count(int requested) {
  return requested > 0 ? requested : omp_get_max_threads();
}

// Keeps the first exception thrown by any thread of a region.
class ExceptionCapture {
 public:
  // Runs f(); an exception it throws is kept (the first one only) instead of escaping.
  template <class F>
  void run(F&& f) noexcept {
    if (failed()) return;
    try {
      std::forward<F>(f)();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // Rethrows the kept exception, if any. Call after the region.
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

enum class Schedule { fixed, dynamic };  // OpenMP schedule(static) / schedule(dynamic, chunk)

struct ParallelFor {
  int threads = 0;                     // 0: OpenMP's default
  Schedule schedule = Schedule::fixed;
  std::int64_t chunk = 1;              // for Schedule::dynamic
  bool parallel = true;                // false: run on the calling thread (small inputs)
};

// body(i) for i in [0, n) on opt.threads threads. The first exception thrown by body is
// rethrown after the loop; once one is thrown the remaining iterations are skipped.
template <class Body>
void parallel_for(std::int64_t n, const ParallelFor& opt, Body&& body) {
  ExceptionCapture capture;
  const int threads = opt.parallel ? thread_count(opt.threads) : 1;
  if (opt.schedule == Schedule::dynamic) {
    const std::int64_t chunk = opt.chunk > 0 ? opt.chunk : 1;
#pragma omp parallel for schedule(dynamic, chunk) num_threads(threads) if (threads > 1)
    for (std::int64_t i = 0; i < n; ++i) capture.run([&] { body(i); });
  } else {
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (std::int64_t i = 0; i < n; ++i) capture.run([&] { body(i); });
  }
  capture.rethrow();
}

// A region with per-thread state: each thread calls make_state() once (allocation inside
// is captured), then body(i, state) for its iterations of [0, n) (dynamic schedule).
template <class MakeState, class Body>
void parallel_for_with_state(std::int64_t n, const ParallelFor& opt, MakeState&& make_state,
                             Body&& body) {
  ExceptionCapture capture;
  const int threads = opt.parallel ? thread_count(opt.threads) : 1;
  const std::int64_t chunk = opt.chunk > 0 ? opt.chunk : 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    std::optional<decltype(make_state())> state;
    capture.run([&] { state.emplace(make_state()); });
#pragma omp for schedule(dynamic, chunk)
    for (std::int64_t i = 0; i < n; ++i)
      if (state) capture.run([&] { body(i, *state); });
  }
  capture.rethrow();
}

}  // namespace driftrec::core
