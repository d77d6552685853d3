// The cells' forward passes against a direct, unit-by-unit evaluation of the equations
// stated in gru.hpp and lstm.hpp (scalar loops, no matrix products), from a non-zero
// initial state.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "temporal/network.hpp"
#include "tests/temporal/gradient_check.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;

namespace {

double sigma(double a) { return 1 / (1 + std::exp(-a)); }

// Gate block g, unit k of W x + U h + b, for column b of x and h (the recurrent input
// can be replaced, as the GRU candidate needs).
double affine(const Parameters<double>& p, int row, const Matrix<double>& x,
              const std::vector<double>& h, int col) {
  double s = p[kCellBias](row, 0);
  for (Eigen::Index j = 0; j < x.rows(); ++j) s += p[kCellInput](row, j) * x(j, col);
  for (std::size_t j = 0; j < h.size(); ++j) s += p[kCellHidden](row, j) * h[j];
  return s;
}

}  // namespace

TEST_CASE("GRU forward equals the unit-by-unit equations of Cho et al.", "[temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const Shape shape{3, 4, 2, 0};
  const int users = 3, steps = 5, h = 4;
  const Parameters<double> p = random_parameters(CellKind::gru, shape, rng);
  const Batch<double> b = random_batch(shape, users, steps, rng);
  const Matrix<double> h0 = random_matrix(h, users, rng);
  const States<double> s = run_states<double>(p, b.inputs, h0, {});
  for (int u = 0; u < users; ++u) {
    std::vector<double> prev(h0.col(u).data(), h0.col(u).data() + h);
    for (int t = 0; t < steps; ++t) {
      std::vector<double> z(h), r(h), reset(h), next(h);
      for (int k = 0; k < h; ++k) {
        z[k] = sigma(affine(p, k, b.inputs[t], prev, u));
        r[k] = sigma(affine(p, h + k, b.inputs[t], prev, u));
        reset[k] = r[k] * prev[k];
      }
      for (int k = 0; k < h; ++k) {
        const double n = std::tanh(affine(p, 2 * h + k, b.inputs[t], reset, u));
        next[k] = z[k] * prev[k] + (1 - z[k]) * n;
        CHECK(s.h[t](k, u) == Approx(next[k]).epsilon(1e-12).margin(1e-13));
      }
      prev = next;
    }
  }
}

TEST_CASE("LSTM forward equals the unit-by-unit equations with a forget gate", "[temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const Shape shape{3, 4, 2, 0};
  const int users = 3, steps = 5, h = 4;
  const Parameters<double> p = random_parameters(CellKind::lstm, shape, rng);
  const Batch<double> b = random_batch(shape, users, steps, rng);
  const Matrix<double> h0 = random_matrix(h, users, rng), c0 = random_matrix(h, users, rng);
  const States<double> s = run_states<double>(p, b.inputs, h0, c0);
  for (int u = 0; u < users; ++u) {
    std::vector<double> prev(h0.col(u).data(), h0.col(u).data() + h);
    std::vector<double> cell(c0.col(u).data(), c0.col(u).data() + h);
    for (int t = 0; t < steps; ++t) {
      std::vector<double> next(h);
      for (int k = 0; k < h; ++k) {
        const double i = sigma(affine(p, k, b.inputs[t], prev, u));
        const double f = sigma(affine(p, h + k, b.inputs[t], prev, u));
        const double g = std::tanh(affine(p, 2 * h + k, b.inputs[t], prev, u));
        const double o = sigma(affine(p, 3 * h + k, b.inputs[t], prev, u));
        cell[k] = f * cell[k] + i * g;
        next[k] = o * std::tanh(cell[k]);
        CHECK(s.c[t](k, u) == Approx(cell[k]).epsilon(1e-12).margin(1e-13));
        CHECK(s.h[t](k, u) == Approx(next[k]).epsilon(1e-12).margin(1e-13));
      }
      prev = next;
    }
  }
}

TEST_CASE("initial parameters: orthogonal recurrent blocks, forget bias 1, seeded", "[temporal]") {
  const Shape shape{5, 6, 4, 3};
  const Parameters<float> lstm = initial_parameters(CellKind::lstm, shape, 42);
  for (int g = 0; g < 4; ++g) {
    const Matrix<double> u = lstm[kCellHidden].block(g * 6, 0, 6, 6).cast<double>();
    CHECK((u.transpose() * u - Matrix<double>::Identity(6, 6)).cwiseAbs().maxCoeff() < 1e-5);
  }
  CHECK(lstm[kCellBias].middleRows(6, 6).isOnes());
  CHECK(lstm[kCellBias].topRows(6).isZero());
  const Parameters<float> gru = initial_parameters(CellKind::gru, shape, 42);
  CHECK(gru[kCellBias].isZero());
  const double a = std::sqrt(6.0 / (6 + 5));  // Xavier bound of a 6 x 5 gate block
  CHECK(gru[kCellInput].cwiseAbs().maxCoeff() <= a);
  CHECK(gru[kCellInput].cwiseAbs().maxCoeff() > 0.5 * a);
  const Parameters<float> again = initial_parameters(CellKind::gru, shape, 42);
  const Parameters<float> other = initial_parameters(CellKind::gru, shape, 43);
  for (std::size_t k = 0; k < kTensorCount; ++k) CHECK(again[k] == gru[k]);
  CHECK(other[kCellInput] != gru[kCellInput]);
}
