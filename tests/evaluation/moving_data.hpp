// A random log shared by the ranker's tests: seven periods of 100 s, 90 users, 50 items,
// a popular set that moves each period (so recent popularity, the users' own items and the
// learned weights all carry signal).
#pragma once
#include "evaluation/library_models.hpp"
#include "evaluation/split.hpp"
#include "graph/random.hpp"

namespace driftrec::test {

inline evaluation::EvaluationData moving_popularity_data(std::uint64_t seed) {
  constexpr graph::Index kUsers = 90, kItems = 50, kLabels = 4;
  graph::Rng rng(seed, 34, 0);
  std::vector<graph::Triplet> labels;
  for (graph::Index i = 0; i < kItems; ++i)
    if (i % 7 != 0) labels.push_back({i, i % kLabels, 1});  // some items without labels
  std::vector<graph::Event> ev;
  for (int p = 0; p < 7; ++p)
    for (graph::Index u = 0; u < kUsers; ++u) {
      if (rng.below(3) == 0) continue;
      const int n = 1 + static_cast<int>(rng.below(5));
      for (int k = 0; k < n; ++k) {
        graph::Index item = 0;
        if (rng.below(2) == 0)
          item = static_cast<graph::Index>((p * 6 + rng.below(8)) % kItems);  // this period's hits
        else
          item = static_cast<graph::Index>((u % kLabels + kLabels * rng.below(kItems / kLabels)) % kItems);  // own taste
        ev.push_back({p * 100 + 1 + static_cast<graph::Time>(rng.below(98)), u, item, 1.0f});
      }
    }
  graph::sort_events(ev);
  return evaluation::make_evaluation_data(kUsers, kItems, graph::csr_from_triplets(kItems, kLabels, labels),
                                          graph::to_columns(std::move(ev)), graph::Slicing::parse("100s"),
                                          graph::Aggregate::count);
}

// Small fits for that log: a window of 3 periods, 3 ALS sweeps, 2 threads.
inline evaluation::LibraryModelOptions small_library_options(std::uint64_t seed = 0) {
  evaluation::LibraryModelOptions o;
  o.window = 3;
  o.als_iterations = 3;
  o.threads = 2;
  o.seed = seed;
  return o;
}

}  // namespace driftrec::test
