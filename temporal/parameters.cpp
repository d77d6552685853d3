#include "temporal/parameters.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

#include "graph/random.hpp"

namespace driftrec::temporal {
namespace {

constexpr std::array<std::string_view, kTensorCount> kNames = {
    "cell_input",    "cell_hidden",   "cell_bias",  "interest_weight",
    "interest_bias", "factor_weight", "factor_bias"};

void xavier_block(Matrix<float>& m, Eigen::Index row0, Eigen::Index rows, graph::Rng& rng) {
  const double a = std::sqrt(6.0 / static_cast<double>(rows + m.cols()));
  for (Eigen::Index c = 0; c < m.cols(); ++c)
    for (Eigen::Index r = row0; r < row0 + rows; ++r)
      m(r, c) = static_cast<float>(a * (2 * rng.uniform() - 1));
}

// An H x H orthogonal block: a Gaussian matrix orthonormalised column by column (modified
// Gram-Schmidt), i.e. the Q of its QR factorisation with a positive diagonal in R, which is
// uniformly (Haar) distributed.
void orthogonal_block(Matrix<float>& m, Eigen::Index row0, graph::Rng& rng) {
  const Eigen::Index h = m.cols();
  Eigen::MatrixXd q(h, h);
  for (Eigen::Index c = 0; c < h; ++c)
    for (Eigen::Index r = 0; r < h; ++r) q(r, c) = rng.normal();
  for (Eigen::Index k = 0; k < h; ++k) {
    for (Eigen::Index j = 0; j < k; ++j) q.col(k) -= q.col(j).dot(q.col(k)) * q.col(j);
    q.col(k).normalize();
  }
  m.block(row0, 0, h, h) = q.cast<float>();
}

}  // namespace

int gate_count(CellKind cell) { return cell == CellKind::gru ? 3 : 4; }

std::string_view cell_name(CellKind cell) {
  return cell == CellKind::gru ? "gru" : cell == CellKind::lstm ? "lstm" : "attention";
}

CellKind parse_cell(std::string_view name, std::string_view what) {
  for (CellKind c : {CellKind::gru, CellKind::lstm, CellKind::attention})
    if (name == cell_name(c)) return c;
  throw InputError(fmt::format("{}: expected gru, lstm or attention, found '{}'", what, name));
}

std::string_view tensor_name(std::size_t tensor) { return kNames.at(tensor); }

bool is_weight(std::size_t tensor) {
  return tensor == kCellInput || tensor == kCellHidden || tensor == kInterestWeight ||
         tensor == kFactorWeight;
}

template <class S>
Parameters<S> zero_parameters(CellKind cell, const Shape& s) {
  const int gh = gate_count(cell) * s.hidden;
  Parameters<S> p;
  p.cell = cell;
  p[kCellInput] = Matrix<S>::Zero(gh, s.input_size);
  const bool attention = cell == CellKind::attention;
  p[kCellHidden] = Matrix<S>::Zero(attention ? s.hidden : gh, s.hidden);
  p[kCellBias] = Matrix<S>::Zero(attention ? gh + kAttentionDistances : gh, 1);
  p[kInterestWeight] = Matrix<S>::Zero(s.labels, s.hidden);
  p[kInterestBias] = Matrix<S>::Zero(s.labels, 1);
  p[kFactorWeight] = Matrix<S>::Zero(s.factor_size, s.hidden);
  p[kFactorBias] = Matrix<S>::Zero(s.factor_size, 1);
  return p;
}

template Parameters<float> zero_parameters<float>(CellKind, const Shape&);
template Parameters<double> zero_parameters<double>(CellKind, const Shape&);

Parameters<float> initial_parameters(CellKind cell, const Shape& shape, std::uint64_t seed) {
  Parameters<float> p = zero_parameters<float>(cell, shape);
  const int gates = gate_count(cell);
  const Eigen::Index h = shape.hidden;
  for (std::size_t t : {kCellInput, kCellHidden, kInterestWeight, kFactorWeight}) {
    graph::Rng rng(seed, 0x7e4a0 + t, 0);
    if (t == kCellInput || t == kCellHidden) {
      for (int g = 0; g < gates; ++g) {
        if (t == kCellInput)
          xavier_block(p[t], g * h, h, rng);
        else if (g * h < p[t].rows())  // the attention cell has one H x H block (U_o)
          orthogonal_block(p[t], g * h, rng);
      }
    } else {
      xavier_block(p[t], 0, p[t].rows(), rng);
    }
  }
  if (cell == CellKind::lstm) p[kCellBias].middleRows(h, h).setOnes();
  return p;
}

}  // namespace driftrec::temporal
