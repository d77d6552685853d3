// Fits that the ranker's sources (ranker_model.cpp) share with the rows that make the same
// fit on the same Training: temporal ALS (gamma 0.9, eta 0.1), ALS (32 factors,
// regularisation 10), item-KNN (200 neighbours), RP3beta (alpha 1, beta 0.3) and temporal
// label propagation (alpha 0.85, gamma 0.9, mu 0.5) are settings of the grids of
// temporal_als, als, item_knn, rp3beta and label_propagation, fitted by those rows on the
// validation period and, when chosen, on each test period before the ranker asks. At 10^5
// users the ranker's five fits per period were more than half of its time.
//
// Every fit is deterministic, so the shared copy is exactly what the asking row would have
// computed. Only the keys declared with want() are kept (the ranker's settings), for at most
// two Trainings (the latest periods first: evaluation visits periods in order, and the
// ranker asks for two periods before the one it is fitted on, which no other row fits).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "evaluation/split.hpp"

namespace driftrec::evaluation {

// FNV-1a over the period and the training events: tells two Trainings of the same period
// apart (the same ModelSpec may serve several evaluations, the poisoning test's among them).
std::uint64_t training_fingerprint(const Training& t);

class SharedFits {
 public:
  // Keeps fits of `key` from now on.
  void want(const std::string& key);

  // compute() on the first call for (t, key), the same object on later ones when the key is
  // wanted; a fresh compute() every call otherwise. Thread-safe (one lock, computation
  // included: the evaluator fits one row at a time).
  template <class T>
  std::shared_ptr<const T> get(const Training& t, const std::string& key, const std::function<T()>& compute) {
    std::lock_guard lock(mutex_);
    if (!wanted_.contains(key)) return std::make_shared<const T>(compute());
    auto& entries = fits_[{t.period, training_fingerprint(t)}];
    if (auto it = entries.find(key); it != entries.end()) {
      ++served_;
      return std::static_pointer_cast<const T>(it->second);
    }
    auto fit = std::make_shared<const T>(compute());
    entries.emplace(key, fit);
    ++computed_;
    while (fits_.size() > kTrainings) fits_.erase(fits_.begin());  // the earliest period first
    return fit;
  }

  // Wanted fits computed and served from the cache so far; for tests.
  std::size_t computed() const;
  std::size_t served() const;

 private:
  static constexpr std::size_t kTrainings = 2;
  mutable std::mutex mutex_;
  std::set<std::string> wanted_;
  std::map<std::pair<std::size_t, std::uint64_t>, std::map<std::string, std::shared_ptr<const void>>> fits_;
  std::size_t computed_ = 0, served_ = 0;
};

}  // namespace driftrec::evaluation
