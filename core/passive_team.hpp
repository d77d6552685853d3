// A team of threads that sleep between jobs, for a serial loop of many short parallel steps
// such as a mini-batch training loop (temporal/trainer.cpp).
//
// Why not an OpenMP region per step: libgomp's threads spin while they wait, at the end of a
// region and between regions (up to GOMP_SPINCOUNT iterations before sleeping). With one
// region per mini-batch of a few milliseconds, on a machine with more runnable threads than
// cores, the thread that waits spins through the time slices in which the other one was
// descheduled: perf put 65% of a sequence row's CPU time of `driftrec evaluate` in libgomp.
// These threads wait on a condition variable instead; a job costs a wake-up (some
// microseconds), small against a mini-batch. The environment (OMP_WAIT_POLICY) would be the
// other way, but it is read when libgomp loads, before any driftrec code runs.
//
// The calling thread hands out the job and sleeps until the workers are done. Each worker
// sets its own omp_get_max_threads() to 1 when it starts, so Eigen's matrix products in a
// body stay serial (as ParallelFor::serial_nested does in an OpenMP team); the caller's
// OpenMP settings are not touched.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel.hpp"

namespace driftrec::core {

class PassiveTeam {
 public:
  // threads workers; 0: OpenMP's default, omp_get_max_threads().
  explicit PassiveTeam(int threads);
  ~PassiveTeam();
  PassiveTeam(const PassiveTeam&) = delete;
  PassiveTeam& operator=(const PassiveTeam&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }

  // body(i) for every i in [0, n), handed out one index at a time to whichever worker is
  // free; returns when every call has returned. The first exception a body throws is
  // rethrown here; the indices not yet started are then skipped.
  void run(std::int64_t n, const std::function<void(std::int64_t)>& body);

 private:
  void work();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;  // one per run()
  bool stop_ = false;
  int running_ = 0;  // workers still in the current job
  const std::function<void(std::int64_t)>* body_ = nullptr;
  std::int64_t n_ = 0;
  std::atomic<std::int64_t> next_{0};
  ExceptionCapture* capture_ = nullptr;
};

}  // namespace driftrec::core
