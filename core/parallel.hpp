// The one way driftrec runs a loop on OpenMP threads. An exception must not leave an OpenMP
// region (the runtime calls std::terminate), so every region that can throw or allocate
// runs its body through ExceptionCapture: the first exception thrown by any thread is kept,
// the other threads skip their remaining work, and the exception is rethrown after the
// region ends.
//
// Thread counts travel in the options structs of each algorithm: 0 means OpenMP's default
// (omp_get_max_threads()), n > 0 exactly n. The caller's OpenMP settings are never changed
// (ParallelFor::serial_nested changes only the region's own implicit tasks, see below).
#pragma once
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.hpp"

namespace driftrec::core {

// requested > 0: requested; otherwise OpenMP's default, omp_get_max_threads(). Options are
// validated (threads >= 0) by their own validate(), which names the option.
inline int thread_count(int requested) {
  return requested > 0 ? requested : omp_get_max_threads();
}

// The check those validate()s share for a bare `threads` argument or field: InputError
// naming `threads` when it is negative.
inline void check_threads(int threads) {
  if (threads < 0)
    throw InputError("threads: expected 0 (OpenMP's default) or a positive count, got " + std::to_string(threads));
}

// Keeps the first exception thrown by any thread of a region. For a hand-written region:
//   core::ExceptionCapture capture;
//   #pragma omp parallel
//   { ... capture.run([&] { ... }); ... }
//   capture.rethrow();
class ExceptionCapture {
 public:
  // Runs f() unless an exception was already kept; an exception f throws is kept (the first
  // one only, its type intact) instead of escaping.
  template <class F>
  void run(F&& f) noexcept {
    if (failed()) return;
    try {
      std::forward<F>(f)();
    } catch (...) {
      // Only the thread that flips the flag writes error_; it is read after the region's
      // closing barrier, which orders the write before the read.
      if (!failed_.exchange(true, std::memory_order_relaxed)) error_ = std::current_exception();
    }
  }
  // Whether an exception has been kept (other threads may still be running).
  bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  // Rethrows the kept exception, if any. Call after the region has ended.
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

enum class Schedule { fixed, dynamic };  // OpenMP schedule(static) / schedule(dynamic, chunk)

struct ParallelFor {
  int threads = 0;                     // 0: OpenMP's default
  Schedule schedule = Schedule::fixed;
  std::int64_t chunk = 1;              // for Schedule::dynamic (values < 1 mean 1)
  bool parallel = true;                // false: one thread, the calling one (small inputs)
  // true: inside the region omp_get_max_threads() is 1 on every thread, so code that opens
  // a parallel region of its own (Eigen's matrix products do when the team has one thread)
  // stays serial, and `threads` is the whole budget. Set with omp_set_num_threads(1) in each
  // of the region's implicit tasks: an OpenMP setting belongs to the task, and those tasks
  // end with the region, so the caller's omp_get_max_threads() is the same afterwards.
  bool serial_nested = false;
};

// A region with per-thread state: body(i, state) for i in [0, n), where `state` is the
// calling thread's own, built by make_state() on the thread's first iteration (at most once
// per thread; a thread with no iterations builds none). State must be move-constructible.
// Schedule::fixed hands out the iterations exactly as OpenMP's schedule(static) does, so a
// result that depends on which thread ran an iteration is reproduced for a thread count.
// The first exception thrown by make_state or body is rethrown after the loop; once one is
// thrown, the remaining iterations are skipped on every thread.
template <class MakeState, class Body>
void parallel_for_with_state(std::int64_t n, const ParallelFor& opt, MakeState&& make_state,
                             Body&& body) {
  using State = std::decay_t<std::invoke_result_t<MakeState&>>;
  if (n <= 0) return;
  ExceptionCapture capture;
  const int threads = opt.parallel ? thread_count(opt.threads) : 1;
  const std::int64_t chunk = std::max<std::int64_t>(opt.chunk, 1);
  const bool dynamic = opt.schedule == Schedule::dynamic;
  const bool serial_nested = opt.serial_nested;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    if (serial_nested) omp_set_num_threads(1);
    std::optional<State> state;
    const auto step = [&](std::int64_t i) {
      capture.run([&] {
        if (!state) state.emplace(make_state());
        body(i, *state);
      });
    };
    if (dynamic) {
#pragma omp for schedule(dynamic, chunk) nowait
      for (std::int64_t i = 0; i < n; ++i) step(i);
    } else {
#pragma omp for schedule(static) nowait
      for (std::int64_t i = 0; i < n; ++i) step(i);
    }
  }
  capture.rethrow();
}

// body(i) for i in [0, n) on opt.threads threads. The first exception thrown by body is
// rethrown after the loop; once one is thrown the remaining iterations are skipped.
template <class Body>
void parallel_for(std::int64_t n, const ParallelFor& opt, Body&& body) {
  struct NoState {};
  parallel_for_with_state(
      n, opt, [] { return NoState{}; }, [&body](std::int64_t i, NoState&) { body(i); });
}

// f() on the calling thread with omp_get_max_threads() == 1 while it runs (a one-thread
// region with serial_nested), so the Eigen matrix products in f stay serial. For a serial
// loop of many small products, such as a mini-batch training loop: Eigen's own team then
// costs more in waiting at its barriers than it computes (on a loaded machine most of all),
// and its blocking, so the rounding, depends on the core count. An exception f throws is
// rethrown; the caller's OpenMP settings are the same afterwards.
template <class F>
void with_serial_products(F&& f) {
  ParallelFor o;
  o.threads = 1;
  o.serial_nested = true;
  parallel_for(1, o, [&f](std::int64_t) { f(); });
}

}  // namespace driftrec::core
