#include "core/passive_team.hpp"

#include <omp.h>

namespace driftrec::core {

PassiveTeam::PassiveTeam(int threads) {
  check_threads(threads);
  const int n = thread_count(threads);
  workers_.reserve(static_cast<std::size_t>(n));
  try {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  } catch (...) {  // a thread could not start: stop those that did
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& w : workers_) w.join();
    throw;
  }
}

PassiveTeam::~PassiveTeam() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& w : workers_) w.join();
}

void PassiveTeam::run(std::int64_t n, const std::function<void(std::int64_t)>& body) {
  if (n <= 0) return;
  ExceptionCapture capture;
  {
    std::unique_lock lock(mutex_);
    body_ = &body;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    capture_ = &capture;
    running_ = size();
    ++generation_;
    lock.unlock();
    start_.notify_all();
    lock.lock();
    done_.wait(lock, [this] { return running_ == 0; });
    body_ = nullptr;
    capture_ = nullptr;
  }
  capture.rethrow();
}

void PassiveTeam::work() {
  omp_set_num_threads(1);  // this thread's own setting: Eigen's products stay serial
  std::uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    start_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    const auto* body = body_;
    const std::int64_t n = n_;
    ExceptionCapture* capture = capture_;
    lock.unlock();
    for (std::int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next_.fetch_add(1, std::memory_order_relaxed))
      capture->run([&] { (*body)(i); });
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

}  // namespace driftrec::core
