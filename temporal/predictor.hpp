// Prediction with a trained sequence model: run a user's whole feature sequence (every
// period up to now) through the cell and read both heads from the last state, giving the
// next period's interest distribution (softmax over the labels) and the next period's user
// factor (score items as factor . y_i with the item factors of the last period).
#pragma once
#include <Eigen/Dense>
#include <vector>

#include "temporal/features.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::temporal {

struct Prediction {
  RowMatrix interests;  // users x L, each row a distribution
  RowMatrix factors;    // users x f (f = 0: no factor head)
};

// Each user's recurrent state after the last period fed: users x H rows, h and (for the
// LSTM cell) c; `cell` is empty for the GRU. What stepping the model forward starts from.
// The attention cell carries no recurrence but attends over every period fed: its state is
// the keys and values of each of those periods (attention.hpp), one users x H matrix per
// period fed, oldest first; empty for the GRU and LSTM.
struct RecurrentState {
  RowMatrix hidden, cell;
  std::vector<RowMatrix> keys, values;
};

// Every user of `data`, reading its first `periods` periods (0: all data.periods): the
// prediction for the period after the last one read. A period's features depend on no
// later period (features.hpp), so reading the first P-1 periods of the data of P periods
// predicts exactly what the data of the first P-1 periods would. Users are run in chunks in
// parallel; the result does not depend on the thread count. Throws InputError when the
// data's shape does not fit the model or `periods` is outside 0..data.periods. With
// `state`, also each user's state after the last period read.
Prediction predict_next(const SequenceModel& model, const SequenceData& data, int threads = 0,
                        RecurrentState* state = nullptr, int periods = 0);

// One period more: feeds `features` (D x users, column u = z_u of the new period) to the
// cell from `state` (users x H, as predict_next left it; for the attention cell the keys
// and values of the periods fed, to which the new period's are appended), replaces `state`
// by the state after it and returns the prediction for the period after. The users run in the chunks
// predict_next uses, so stepping a state predict_next left with the next period's
// features gives bit for bit predict_next over every period. Throws InputError when the
// shapes do not fit the model.
Prediction predict_step(const SequenceModel& model, const Matrix<float>& features, RecurrentState& state,
                        int threads = 0);

struct UserPrediction {
  Eigen::VectorXf interests;  // L
  Eigen::VectorXf factor;     // f
};

// One user's sequence: features is D x T, column t = z(t) (e.g. a column of each of
// data.features). Throws InputError on a wrong row count or no periods.
UserPrediction predict_user(const SequenceModel& model, const Matrix<float>& features);

}  // namespace driftrec::temporal
