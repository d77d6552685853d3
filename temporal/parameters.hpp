// The sequence model's parameters: one recurrent cell (GRU, LSTM or causal attention) and two linear heads,
// held as seven named dense tensors so that initialisation, Adam, clipping, gradient
// reduction, serialisation and the finite-difference checks treat them uniformly.
// Templated on the scalar: float for training and prediction, double for the gradient
// checks. Activations are column-major with one column per user (H x B, D x B, ...).
//
//   cell_input   G*H x D   input weights of the G gate blocks (GRU: G = 3, LSTM: G = 4)
//   cell_hidden  G*H x H   recurrent weights
//   cell_bias    G*H x 1
//   interest_weight  L x H,  interest_bias  L x 1   (interest head, softmax over L labels)
//   factor_weight    f x H,  factor_bias    f x 1   (factor head; f may be 0)
#pragma once
#include <Eigen/Dense>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace driftrec::temporal {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;  // column-major

enum class CellKind { gru, lstm, attention };

// Gate blocks of a cell: GRU (update z, reset r, candidate n), LSTM (input i, forget f,
// candidate g, output o), attention (embedding u, query q, key k, value v; attention.hpp:
// its cell_hidden is H x H and its cell_bias 4H + kAttentionDistances rows).
int gate_count(CellKind cell);
std::string_view cell_name(CellKind cell);  // "gru" / "lstm" / "attention"
// The cell named `name` (gru, lstm, attention); throws InputError naming `what` otherwise.
CellKind parse_cell(std::string_view name, std::string_view what);
inline constexpr int kAttentionDistances = 16;  // relative-position biases of the attention cell

enum Tensor : std::size_t {
  kCellInput,
  kCellHidden,
  kCellBias,
  kInterestWeight,
  kInterestBias,
  kFactorWeight,
  kFactorBias,
  kTensorCount
};
std::string_view tensor_name(std::size_t tensor);  // "cell_input", ...
// Whether L2 regularisation applies (weights yes, biases no).
bool is_weight(std::size_t tensor);

struct Shape {
  int input_size = 0;   // D
  int hidden = 0;       // H
  int labels = 0;       // L
  int factor_size = 0;  // f (0: no factor head)
};

template <class S>
struct Parameters {
  CellKind cell = CellKind::gru;
  std::array<Matrix<S>, kTensorCount> tensor;

  const Matrix<S>& operator[](std::size_t t) const { return tensor[t]; }
  Matrix<S>& operator[](std::size_t t) { return tensor[t]; }
  int hidden() const { return static_cast<int>(tensor[kCellHidden].cols()); }
  Shape shape() const {
    return {static_cast<int>(tensor[kCellInput].cols()), hidden(),
            static_cast<int>(tensor[kInterestWeight].rows()),
            static_cast<int>(tensor[kFactorWeight].rows())};
  }
};

// All tensors zero, with the shapes of `shape` for `cell`.
template <class S>
Parameters<S> zero_parameters(CellKind cell, const Shape& shape);

// Seeded initialisation: input and head weights Xavier-uniform (Glorot & Bengio 2010) per
// gate block, recurrent weights orthogonal per gate block (Saxe et al. 2014), biases zero
// except the LSTM forget gate at 1 (Jozefowicz et al. 2015). Deterministic for a seed.
Parameters<float> initial_parameters(CellKind cell, const Shape& shape, std::uint64_t seed);

template <class T, class S>
Parameters<T> cast_parameters(const Parameters<S>& p) {
  Parameters<T> out;
  out.cell = p.cell;
  for (std::size_t t = 0; t < kTensorCount; ++t) out[t] = p[t].template cast<T>();
  return out;
}

}  // namespace driftrec::temporal
