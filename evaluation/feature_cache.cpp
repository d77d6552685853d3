#include "evaluation/feature_cache.hpp"

namespace driftrec::evaluation {

std::shared_ptr<const temporal::SequenceFeatures> FeatureCache::sequence(const Training& t,
                                                                         const temporal::SequenceOptions& o,
                                                                         const temporal::SequenceProgress& progress) {
  const std::string key = temporal::features_key(o);
  // One lock over the computation too: two rows asking at once for the same features must
  // not compute them twice, and evaluation fits one row at a time anyway.
  std::lock_guard lock(mutex_);
  if (t.period != period_) {
    sequence_.clear();
    period_ = t.period;
  }
  if (auto it = sequence_.find(key); it != sequence_.end()) return it->second;
  auto computed = std::make_shared<temporal::SequenceFeatures>(temporal::sequence_features(t, o, progress));
  // Assembled once here rather than in each fit: the GRU, LSTM and attention rows train on
  // the same sequences, and at 10^5 users each copy is about 5 KB a user.
  computed->data = std::make_shared<const temporal::SequenceData>(temporal::assemble_sequences(computed->inputs, o.features));
  std::shared_ptr<const temporal::SequenceFeatures> f = std::move(computed);
  ++computed_;
  sequence_.emplace(key, f);
  return f;
}

std::size_t FeatureCache::computed() const {
  std::lock_guard lock(mutex_);
  return computed_;
}

}  // namespace driftrec::evaluation
