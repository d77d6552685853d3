// Shared by the temporal tests: small random models and batches in double precision, and
// a central finite-difference check of one parameter tensor against the analytic gradient.
#pragma once
#include <cmath>
#include <cstddef>
#include <functional>
#include <random>
#include <vector>

#include "temporal/network.hpp"
#include "temporal/parameters.hpp"

namespace driftrec::temporal::testing {

inline Parameters<double> random_parameters(CellKind cell, const Shape& shape, std::mt19937_64& rng,
                                            double scale = 0.5) {
  Parameters<double> p = zero_parameters<double>(cell, shape);
  std::normal_distribution<double> n01(0, scale);
  for (auto& m : p.tensor)
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = n01(rng);
  return p;
}

inline Matrix<double> random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng,
                                    double scale = 1.0) {
  std::normal_distribution<double> n01(0, scale);
  Matrix<double> m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = n01(rng);
  return m;
}

// Random inputs, target distributions (some sparse), factor targets, and masks with about
// a third of the (user, step) pairs masked out (masked targets are zero, as assembled).
// Every step keeps at least one unmasked user per head, so each head's gradient is not zero
// (with 6 users and one step, all masked was a 1-in-750 draw per head, and it failed the
// gradient norm checks).
inline Batch<double> random_batch(const Shape& s, int users, int steps, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u01(0, 1);
  const auto keep_one = [&](Matrix<double>& mask) {
    if (users > 0 && (mask.array() == 0).all()) mask(0, static_cast<Eigen::Index>(rng() % static_cast<unsigned>(users))) = 1;
  };
  Batch<double> b;
  for (int t = 0; t < steps; ++t) {
    b.inputs.push_back(random_matrix(s.input_size, users, rng));
    Matrix<double> target(s.labels, users), mask(1, users);
    Matrix<double> factor = random_matrix(s.factor_size, users, rng);
    Matrix<double> factor_mask(1, users);
    for (int u = 0; u < users; ++u) {
      for (int l = 0; l < s.labels; ++l) target(l, u) = u01(rng) < 0.5 ? u01(rng) : 0.0;
      target(0, u) += 0.1;
      target.col(u) /= target.col(u).sum();
      mask(0, u) = u01(rng) < 0.67 ? 1.0 : 0.0;
      factor_mask(0, u) = u01(rng) < 0.67 ? 1.0 : 0.0;
    }
    keep_one(mask);
    keep_one(factor_mask);
    for (int u = 0; u < users; ++u) {
      if (mask(0, u) == 0) target.col(u).setZero();
      if (factor_mask(0, u) == 0) factor.col(u).setZero();
    }
    b.interest_targets.push_back(target);
    b.interest_mask.push_back(mask);
    b.factor_targets.push_back(factor);
    b.factor_mask.push_back(factor_mask);
  }
  return b;
}

struct CheckResult {
  double max_abs_error = 0;   // max over entries of |analytic - numeric|
  double relative_error = 0;  // |analytic - numeric| / (|analytic| + |numeric|), Frobenius
  double analytic_norm = 0;
};

// Central differences (f(x + eps) - f(x - eps)) / 2 eps of `objective` for every entry of
// tensor `t` of p, compared with analytic(t).
inline CheckResult check_tensor(Parameters<double> p, std::size_t t, const Matrix<double>& analytic,
                                const std::function<double(const Parameters<double>&)>& objective,
                                double eps = 1e-6) {
  Matrix<double> numeric(p[t].rows(), p[t].cols());
  for (Eigen::Index k = 0; k < p[t].size(); ++k) {
    const double x = p[t].data()[k];
    p[t].data()[k] = x + eps;
    const double up = objective(p);
    p[t].data()[k] = x - eps;
    const double down = objective(p);
    p[t].data()[k] = x;
    numeric.data()[k] = (up - down) / (2 * eps);
  }
  CheckResult r;
  r.max_abs_error = (analytic - numeric).cwiseAbs().maxCoeff();
  r.analytic_norm = analytic.norm();
  const double denom = analytic.norm() + numeric.norm();
  r.relative_error = denom > 0 ? (analytic - numeric).norm() / denom : 0.0;
  return r;
}

}  // namespace driftrec::temporal::testing
