// Features that several evaluated rows derive from the same Training (the sequence rows'
// propagated interests and temporal ALS factors: sequence_gru, sequence_lstm and hybrid
// today, any new sequence row tomorrow), computed once per training period and options and
// shared, instead of once per row. Computing them is deterministic, so a shared copy gives
// every row exactly what its own computation would have.
//
// Evaluation visits the validation period and then each test period in order, so entries
// of an earlier period are dropped when a later one is asked for: at most one period's
// features are held.
#pragma once
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "evaluation/split.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::evaluation {

class FeatureCache {
 public:
  // temporal::sequence_features(t, o, progress) with its `data` assembled, computed on the
  // first call for (t.period, temporal::features_key(o)) and the same object on later ones;
  // fits that train_sequence takes it by shared_ptr share its sequences. Thread-safe;
  // `progress` hears only the call that computes.
  std::shared_ptr<const temporal::SequenceFeatures> sequence(const Training& t, const temporal::SequenceOptions& o,
                                                             const temporal::SequenceProgress& progress = {});
  // How many times features were computed (not served from the cache); for tests.
  std::size_t computed() const;

 private:
  mutable std::mutex mutex_;
  std::size_t period_ = std::numeric_limits<std::size_t>::max();
  std::map<std::string, std::shared_ptr<const temporal::SequenceFeatures>> sequence_;
  std::size_t computed_ = 0;
};

}  // namespace driftrec::evaluation
