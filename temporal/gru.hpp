// Gated recurrent unit (Cho et al. 2014, "Learning phrase representations using RNN
// encoder-decoder for statistical machine translation"), in the original form where the
// reset gate acts before the recurrent product. For input x_t (D x B, one column per
// user) and previous state h_{t-1} (H x B), with W = cell_input, U = cell_hidden, b =
// cell_bias split into gate blocks z, r, n of H rows each:
//
//   z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)              update gate
//   r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)              reset gate
//   n_t = tanh (W_n x_t + U_n (r_t * h_{t-1}) + b_n)      candidate
//   h_t = z_t * h_{t-1} + (1 - z_t) * n_t
//
// The backward pass is back-propagation through time truncated to windows of `bptt`
// steps (TBPTT(k, k), Williams & Peng 1990): steps are cut into windows [0, k), [k, 2k),
// ..., and no gradient flows from a window into the state that entered it, so the
// gradient equals the exact gradient of a model whose state at each window start is a
// constant. With bptt >= T the gradient is exact.
#pragma once
#include <vector>

#include "temporal/parameters.hpp"

namespace driftrec::temporal {

// What the backward pass needs from the forward pass; h[0] is the initial state and
// h[t + 1] the state after step t.
template <class S>
struct GruTrace {
  std::vector<Matrix<S>> h, z, r, n;
};

// Runs the cell over inputs[0..T-1] from h0 (H x B).
template <class S>
void gru_forward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, const Matrix<S>& h0,
                 GruTrace<S>& trace);

// Accumulates into grad's cell tensors the gradient of a loss whose derivative with
// respect to h_{t+1} (the state after step t, not through later steps) is d_hidden[t].
template <class S>
void gru_backward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs,
                  const GruTrace<S>& trace, const std::vector<Matrix<S>>& d_hidden, int bptt,
                  Parameters<S>& grad);

}  // namespace driftrec::temporal
