// What stepping a trained sequence model forward one period needs besides its weights
// (temporal/sequence_step.hpp): the state its recurrences were in after the last period it
// was fed. Each feature of period t depends on period t-1 through a recurrence:
//   F_U(t)   temporal label propagation seeds period t with mu * the raw F_U(t-1);
//   X(t)     temporal ALS starts from period t-1's factors (users and items) and pulls X(t)
//            toward X(t-1) (the drift prior); y_i(t-1) is the result's item_factors;
//   gap      needs each user's last period with an event;
//   h, c     the cell's state (the attention cell: the keys and values of every period fed,
//            predictor.hpp RecurrentState);
//   mixture  the interest mixture's experts and gate features (mixture_fit.hpp), when the
//            result has one: each user's two label EWMAs and labelled-period count, and the
//            population's label distribution of the last period fed (the next period's
//            shift is measured against it). Its gate and head are the result's weights.
// The decayed history G_{t-1} that both propagation and ALS also carry is a sum of the
// stored slices, so it is rebuilt from the store, not kept.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <vector>

#include "matrix_factorization/implicit_als.hpp"
#include "propagation/backend.hpp"
#include "temporal/predictor.hpp"

namespace driftrec::temporal {

// The interest mixture's running values after period t (mixture_fit.cpp mixture_steps):
//   ewma_short, ewma_long  L x users: sum_{s <= t} 2^(-(t - s)/h) y_u(s), not normalised
//   labelled               each user's periods 0..t with a label distribution
//   population             pi(t), L (zero when period t had no labelled event)
struct MixtureState {
  Eigen::MatrixXd ewma_short, ewma_long;
  std::vector<std::int32_t> labelled;
  Eigen::VectorXd population;
};

struct SequenceState {
  RecurrentState recurrent;                    // h (and c) after the last period fed, users x H
  propagation::DenseMatrix user_scores;        // raw F_U of that period, users x L
  matrix_factorization::Factors user_factors;  // X of that period, users x f
  std::vector<std::int32_t> last_active;       // each user's last fed period with an event; -1: none
  int fed_periods = 0;                         // periods fed: the window's, a summed head counting as one
  std::int64_t periods = 0;                    // the store periods those cover
  std::optional<MixtureState> mixture;         // when the result has an interest mixture
};

}  // namespace driftrec::temporal
