// The heads alone: softmax against a direct evaluation, losses against hand-written sums,
// and their gradients (parameters and hidden state) against central finite differences.
#include "temporal/heads.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "tests/temporal/gradient_check.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;

TEST_CASE("softmax columns sum to one and equal exp / sum exp, even for large logits",
          "[temporal]") {
  Matrix<double> logits(3, 2);
  logits << 1, 1000, 2, 1001, 3, 1002;
  const Matrix<double> p = softmax_columns<double>(logits);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (int l = 0; l < 3; ++l) {
    CHECK(p(l, 0) == Approx(std::exp(1.0 + l) / z).epsilon(1e-14));
    CHECK(p(l, 1) == Approx(std::exp(1.0 + l) / z).epsilon(1e-12));
  }
}

TEST_CASE("head losses are the masked sums of cross-entropy and squared error", "[temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const Shape shape{2, 3, 4, 2};
  const Parameters<double> p = random_parameters(CellKind::gru, shape, rng);
  const Matrix<double> h = random_matrix(3, 3, rng);
  Matrix<double> target(4, 3), mask(1, 3), factor = random_matrix(2, 3, rng);
  target << 0.5, 0, 0, 0.5, 1, 0, 0, 0, 0, 0, 0, 0;
  target.col(2).setZero();
  mask << 1, 1, 0;
  const Matrix<double> dist = interest_distribution(p, h);
  const Matrix<double> xhat = predicted_factor(p, h);
  double ce = 0, se = 0;
  for (int b = 0; b < 2; ++b) {
    for (int l = 0; l < 4; ++l)
      if (target(l, b) > 0) ce -= target(l, b) * std::log(dist(l, b));
    se += (xhat.col(b) - factor.col(b)).squaredNorm();
  }
  CHECK(interest_loss<double>(p, h, target, mask, 1.0, nullptr, nullptr) ==
        Approx(ce).epsilon(1e-13));
  CHECK(factor_loss<double>(p, h, factor, mask, 1.0, nullptr, nullptr) ==
        Approx(se).epsilon(1e-13));
}

TEST_CASE("head gradients match finite differences for parameters and hidden state", "[temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const Shape shape{2, 4, 5, 3};
  const Parameters<double> p = random_parameters(CellKind::lstm, shape, rng);
  const Batch<double> data = random_batch(shape, 6, 1, rng);
  const Matrix<double> h = random_matrix(4, 6, rng);
  const double scale = 0.3;
  for (bool interest : {true, false}) {
    INFO((interest ? "interest head" : "factor head"));
    const Matrix<double>& target = interest ? data.interest_targets[0] : data.factor_targets[0];
    const Matrix<double>& mask = interest ? data.interest_mask[0] : data.factor_mask[0];
    const auto loss = [&](const Parameters<double>& q, const Matrix<double>& hh,
                          Parameters<double>* g, Matrix<double>* dh) {
      return interest ? interest_loss(q, hh, target, mask, scale, g, dh)
                      : factor_loss(q, hh, target, mask, scale, g, dh);
    };
    Parameters<double> grad = zero_parameters<double>(CellKind::lstm, shape);
    Matrix<double> dh = Matrix<double>::Zero(4, 6);
    loss(p, h, &grad, &dh);
    const auto objective = [&](const Parameters<double>& q) {
      return scale * loss(q, h, nullptr, nullptr);
    };
    for (std::size_t t :
         {interest ? kInterestWeight : kFactorWeight, interest ? kInterestBias : kFactorBias}) {
      const CheckResult r = check_tensor(p, t, grad[t], objective);
      CHECK(r.analytic_norm > 1e-4);
      CHECK(r.relative_error < 1e-7);
      CHECK(r.max_abs_error < 1e-8);
    }
    // Gradient with respect to the hidden state, entry by entry.
    Matrix<double> hh = h;
    double worst = 0;
    for (Eigen::Index k = 0; k < hh.size(); ++k) {
      const double x = hh.data()[k];
      hh.data()[k] = x + 1e-6;
      const double up = scale * loss(p, hh, nullptr, nullptr);
      hh.data()[k] = x - 1e-6;
      const double down = scale * loss(p, hh, nullptr, nullptr);
      hh.data()[k] = x;
      worst = std::max(worst, std::abs((up - down) / 2e-6 - dh.data()[k]));
    }
    CHECK(dh.norm() > 1e-4);
    CHECK(worst < 1e-8);
    // Masked columns get no gradient.
    for (Eigen::Index b = 0; b < 6; ++b)
      if (mask(0, b) == 0) CHECK(dh.col(b).norm() == 0.0);
  }
}
