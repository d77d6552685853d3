// The simple baselines every report carries (docs/evaluation.md, "Evaluation protocol"), each a
// ModelSpec fitted on a Training (the data strictly before the predicted period P):
//   popularity         items: events per item before P (repeats included);
//                      interests: the label distribution of every event before P (the
//                      interest-truth formula applied to all training events);
//   recent_popularity  the same over the last training period P-1 only;
//   last_period        interests: the label distribution of the user's events in the
//                      user's most recent training period with a labelled event;
//   ewma               interests: sum over the user's training periods k with labelled
//                      events of 2^(-(P-1-k)/half_life) * (the user's label distribution in
//                      k), normalised; half_life (in periods) tuned on validation.
// last_period and ewma return nothing (all zero) for a user with no labelled history, and
// the evaluator falls back to popularity for them.
#pragma once
#include "evaluation/model.hpp"

namespace driftrec::evaluation {

ModelSpec popularity_model();
ModelSpec recent_popularity_model();
ModelSpec last_period_model();
ModelSpec ewma_model(std::vector<double> half_lives = {1, 3, 6, 12, 24});

// The popularity interest prediction of a Training, as floats (what the evaluator uses
// for users a model has no prediction for).
std::vector<float> popularity_interest(const Training& t);

}  // namespace driftrec::evaluation
