// A causal self-attention cell over a user's periods (single head, in the spirit of
// Vaswani et al. 2017 and SASRec, Kang & McAuley 2018), beside the GRU and LSTM. For
// inputs x_0..x_t (D x B each) the state after step t reads periods 0..t only:
//
//   u_t = W_u x_t + b_u                      the period's own embedding
//   q_t = W_q x_t + b_q,  k_s = W_k x_s + b_k,  v_s = W_v x_s + b_v
//   e_ts = q_t . k_s / sqrt(H) + r_min(t - s, R - 1)       for s <= t
//   a_ts = softmax_s(e_ts),   c_t = sum_{s <= t} a_ts v_s
//   h_t = tanh(u_t + U_o c_t)
//
// Positions: r (R = kAttentionDistances learned biases) by how many periods back s lies,
// the last shared by every longer distance; the gap since the user's last active period
// is an input feature (features.hpp), so keys and queries see it.
// Tensors (parameters.hpp): cell_input 4H x D holds W_u, W_q, W_k, W_v; cell_hidden H x H
// holds U_o; cell_bias (4H + R) x 1 holds b_u, b_q, b_k, b_v, then r.
// No state is carried from step to step, so the gradient is exact: `bptt` does not apply
// and an initial state (h0) is ignored. What step t reads of the earlier steps is their keys
// and values alone, so a model is stepped one period on by keeping k_s and v_s of every
// period fed (predictor.hpp RecurrentState) and extending a trace that holds only those.
#pragma once
#include <vector>

#include "temporal/parameters.hpp"

namespace driftrec::temporal {

template <class S>
struct AttentionTrace {
  std::vector<Matrix<S>> u, q, k, v;  // per step, H x B (u before the tanh)
  std::vector<Matrix<S>> weights;     // per step t, (t + 1) x B: a_ts
  std::vector<Matrix<S>> context;     // c_t, H x B
  std::vector<Matrix<S>> h;           // h_t, H x B (h[t] is the state AFTER step t)
};

// One step more: the step after the trace's last (t = trace.k.size()), from `input` (D x B)
// and the keys and values of the earlier steps, which are all it reads of them (a trace
// holding only k and v extends as a whole one does: the stepped state). Appends the new
// step's u, q, k, v, weights, context and h. attention_forward is this step by step, so a
// stepped state gives bit for bit what the whole sequence gives.
template <class S>
void attention_extend(const Parameters<S>& p, const Matrix<S>& input, AttentionTrace<S>& trace);

template <class S>
void attention_forward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, AttentionTrace<S>& trace);

// Accumulates into grad's cell tensors the gradient of a loss with dL/dh_t = d_hidden[t].
template <class S>
void attention_backward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, const AttentionTrace<S>& trace,
                        const std::vector<Matrix<S>>& d_hidden, Parameters<S>& grad);

}  // namespace driftrec::temporal
