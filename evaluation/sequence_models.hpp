// The sequence model of temporal/ (temporal/sequence_fit.hpp: a GRU or LSTM over each
// user's per-period features, fitted on the data strictly before a period P) as rows of
// `driftrec evaluate`:
//   sequence_gru / sequence_lstm / sequence_attention: the predicted interest distribution
//              (the cells of gru.hpp, lstm.hpp, attention.hpp), and item scores
//              x_hat_u(P) . y_i(P-1) (the predicted factor through the last training
//              period's item factors);
//   hybrid     the hybrid item scores of sequence_fit.hpp on the GRU's fit, the weight w
//              chosen over temporal::kInterestWeights by recall@20 on the fit's last
//              training period P-1 (temporal::choose_interest_weight), so no GRU is
//              trained for this row alone;
//   mixture    the interest mixture of temporal/mixture_fit.hpp on the GRU's fit (gated
//              experts: propagated interests, the user's EWMAs, the population's last
//              period, the neural head), falling back to its best expert on the
//              training history's last period.
// Every fit sees only the Training, so nothing from P or later reaches it. Fits are
// cached per (P, cell) and shared by the rows, so the GRU behind `hybrid` is trained once;
// the features of P (propagation, temporal ALS) come from a FeatureCache, so the GRU and
// the LSTM (and any other row given the same cache) compute them once.
#pragma once
#include <vector>

#include "evaluation/feature_cache.hpp"
#include "evaluation/model.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::evaluation {

// The rows sequence_gru, sequence_lstm, sequence_attention, hybrid and mixture, sharing one
// cache of fits (o.model.cell is set per row) and `features` (null: a cache of their own).
std::vector<ModelSpec> sequence_models(const temporal::SequenceOptions& o,
                                       const temporal::SequenceProgress& progress = {},
                                       std::shared_ptr<FeatureCache> features = nullptr);

}  // namespace driftrec::evaluation
