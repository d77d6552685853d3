// Prediction with a trained sequence model: run a user's whole feature sequence (every
// period up to now) through the cell and read both heads from the last state, giving the
// next period's interest distribution (softmax over the labels) and the next period's user
// factor (score items as factor . y_i with the item factors of the last period).
#pragma once
#include <Eigen/Dense>

#include "temporal/features.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::temporal {

struct Prediction {
  RowMatrix interests;  // users x L, each row a distribution
  RowMatrix factors;    // users x f (f = 0: no factor head)
};

// Every user of `data`, reading all data.periods periods: the prediction for the period
// after the last. Users are run in chunks in parallel; the result does not depend on the
// thread count. Throws InputError when the data's shape does not fit the model.
Prediction predict_next(const SequenceModel& model, const SequenceData& data, int threads = 0);

struct UserPrediction {
  Eigen::VectorXf interests;  // L
  Eigen::VectorXf factor;     // f
};

// One user's sequence: features is D x T, column t = z(t) (e.g. a column of each of
// data.features). Throws InputError on a wrong row count or no periods.
UserPrediction predict_user(const SequenceModel& model, const Matrix<float>& features);

}  // namespace driftrec::temporal
