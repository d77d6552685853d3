// Long short-term memory (Hochreiter & Schmidhuber 1997, "Long short-term memory") with
// the forget gate of Gers, Schmidhuber & Cummins 2000; the forget bias starts at 1
// (Jozefowicz, Zaremba & Sutskever 2015). For input x_t (D x B) and state (h, c)_{t-1},
// with W = cell_input, U = cell_hidden, b = cell_bias split into gate blocks i, f, g, o:
//
//   i_t = sigma(W_i x_t + U_i h_{t-1} + b_i)     input gate
//   f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)     forget gate
//   g_t = tanh (W_g x_t + U_g h_{t-1} + b_g)     candidate
//   o_t = sigma(W_o x_t + U_o h_{t-1} + b_o)     output gate
//   c_t = f_t * c_{t-1} + i_t * g_t
//   h_t = o_t * tanh(c_t)
//
// Backward: truncated BPTT over windows of `bptt` steps exactly as in gru.hpp; neither
// dh nor dc crosses a window start.
#pragma once
#include <vector>

#include "temporal/parameters.hpp"

namespace driftrec::temporal {

// h[0], c[0] are the initial state; h[t + 1], c[t + 1] the state after step t. gates[t]
// holds the activated i, f, g, o blocks (4H x B).
template <class S>
struct LstmTrace {
  std::vector<Matrix<S>> h, c, gates;
};

template <class S>
void lstm_forward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, const Matrix<S>& h0,
                  const Matrix<S>& c0, LstmTrace<S>& trace);

// Accumulates into grad's cell tensors; d_hidden[t] is dL/dh_{t+1} from the heads.
template <class S>
void lstm_backward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs,
                   const LstmTrace<S>& trace, const std::vector<Matrix<S>>& d_hidden, int bptt,
                   Parameters<S>& grad);

}  // namespace driftrec::temporal
