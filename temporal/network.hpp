// The whole sequence model on one batch of users: the cell (gru.hpp or lstm.hpp) over the
// batch's feature sequence, both heads (heads.hpp) at every step, and the gradient of
//
//   interest_scale * sum_{(u, t) unmasked} CE_ut  +  factor_scale * sum_{(u, t) unmasked} SE_ut
//
// by truncated back-propagation through time. The trainer sets interest_scale = 1 / (number
// of unmasked interest pairs) and factor_scale = factor_weight / (number of unmasked factor
// pairs), so the objective is CE + factor_weight * MSE averaged over pairs; the gradient
// checks call the same function in double precision.
#pragma once
#include <vector>

#include "temporal/parameters.hpp"

namespace driftrec::temporal {

// One batch of B users over T steps; column b of every matrix is the same user.
template <class S>
struct Batch {
  std::vector<Matrix<S>> inputs;            // T x (D x B)
  std::vector<Matrix<S>> interest_targets;  // T x (L x B); zero columns where masked
  std::vector<Matrix<S>> interest_mask;     // T x (1 x B); 0 = no target
  std::vector<Matrix<S>> factor_targets;    // T x (f x B), or empty when f = 0
  std::vector<Matrix<S>> factor_mask;       // T x (1 x B), or empty when f = 0
  Matrix<S> h0, c0;  // initial state (H x B); empty = zeros. c0 is used by the LSTM only.
};

template <class S>
struct LossSums {
  S interest = 0;  // sum of masked cross-entropies
  S factor = 0;    // sum of masked squared errors
};

// Forward (and, when grad is not null, backward accumulating into *grad) over the batch.
// bptt >= 1 is the truncation window.
template <class S>
LossSums<S> batch_loss(const Parameters<S>& p, const Batch<S>& batch, S interest_scale,
                       S factor_scale, int bptt, Parameters<S>* grad);

// The hidden (and for the LSTM cell) states after each step: h[t], c[t] for t = 0..T-1
// (c empty for the GRU). Used for prediction and to detach states in tests.
template <class S>
struct States {
  std::vector<Matrix<S>> h, c;
};
template <class S>
States<S> run_states(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs,
                     const Matrix<S>& h0, const Matrix<S>& c0);

}  // namespace driftrec::temporal
