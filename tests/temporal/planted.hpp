// A planted deterministic sequence for the trainer tests: every user's label follows the
// cycle 1, 0, 2, 0, 1, 0, 2, ... (even users) or 2, 0, 1, 0, ... (odd users), one label per
// period, always active. What follows a 0 depends on the label before it, so the model
// must remember one step back; the first label is never 0, so every step is predictable.
// With factors, X(t) = a fixed 2-vector of the period's label.
#pragma once
#include <cmath>

#include "temporal/features.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::temporal::testing {

inline constexpr int kPlantedCycle[4] = {1, 0, 2, 0};

inline int planted_label(int user, int period) {
  return kPlantedCycle[(period + (user % 2 == 0 ? 0 : 2)) % 4];
}

inline SequenceInputs planted_inputs(int users, int periods, bool with_factors) {
  SequenceInputs in;
  for (int t = 0; t < periods; ++t) {
    RowMatrix f = RowMatrix::Zero(users, 3), x(users, 2);
    for (int u = 0; u < users; ++u) {
      const int l = planted_label(u, t);
      f(u, l) = 1;
      x(u, 0) = static_cast<float>(std::cos(2.0 * l));
      x(u, 1) = static_cast<float>(std::sin(2.0 * l));
    }
    in.interests.push_back(f);
    in.interest_truth.push_back(f);
    if (with_factors) in.factors.push_back(x);
    in.activity.emplace_back(static_cast<std::size_t>(users), 1.0f);
  }
  return in;
}

// Training options that learn the planted sequence to near-zero loss in a few seconds.
inline SequenceModelOptions planted_options(CellKind cell, std::uint64_t seed) {
  SequenceModelOptions o;
  o.cell = cell;
  o.hidden = 12;
  o.bptt = 6;
  o.learning_rate = 0.05f;
  o.epochs = 80;
  o.batch_users = 4;
  o.patience = 1000;
  o.seed = seed;
  o.threads = 1;
  return o;
}

}  // namespace driftrec::temporal::testing
