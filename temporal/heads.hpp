// The two output heads of the sequence model, read from the hidden state h (H x B):
//
//   interest head: p = softmax(V h + c) over the L labels; loss -sum_l y_l log p_l against a
//                  target distribution y (cross-entropy; the "next-period interests")
//   factor head:   x_hat = P h + d (f values); loss |x_hat - x|^2 against the target factor
//                  (squared Euclidean error; items are scored later as x_hat . y_i)
//
// Each column carries a mask weight (1 = in the loss, 0 = no target). The heads return
// the masked SUMS of their losses; the caller scales them (by 1 / count of unmasked pairs,
// and factor_weight) and passes the scales in so that the gradients are of the scaled loss.
// softmax-with-cross-entropy has gradient (sum_l y_l) p - y with respect to the logits.
#pragma once
#include "temporal/parameters.hpp"

namespace driftrec::temporal {

// Column-wise softmax of logits (stable: shifts by the column maximum).
template <class S>
Matrix<S> softmax_columns(const Matrix<S>& logits);

// Interest distribution predicted from hidden states (L x B).
template <class S>
Matrix<S> interest_distribution(const Parameters<S>& p, const Matrix<S>& hidden);

// Predicted factors (f x B).
template <class S>
Matrix<S> predicted_factor(const Parameters<S>& p, const Matrix<S>& hidden);

// sum over columns b with mask(0, b) != 0 of mask(0, b) * CE(target.col(b), p.col(b)).
// When grad is not null, adds scale * d(sum)/d(head parameters) to grad and
// scale * d(sum)/d(hidden) to d_hidden (H x B).
template <class S>
S interest_loss(const Parameters<S>& p, const Matrix<S>& hidden, const Matrix<S>& target,
                const Matrix<S>& mask, S scale, Parameters<S>* grad, Matrix<S>* d_hidden);

// The same for the factor head: sum of mask * |x_hat - target|^2.
template <class S>
S factor_loss(const Parameters<S>& p, const Matrix<S>& hidden, const Matrix<S>& target,
              const Matrix<S>& mask, S scale, Parameters<S>* grad, Matrix<S>* d_hidden);

}  // namespace driftrec::temporal
