// Gradient checks of the GRU and LSTM cells with both heads: every parameter tensor of the
// analytic back-propagation (full window, bptt >= T, so the gradient is exact) against
// central finite differences of the same objective, in double precision, on random inputs
// with masked targets.
#include <catch2/catch.hpp>
#include <random>

#include "temporal/network.hpp"
#include "tests/temporal/gradient_check.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;

namespace {

void check_every_tensor(CellKind cell) {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const Shape shape{4, 3, 5, 2};
  const int users = 4, steps = 6;
  const Parameters<double> p = random_parameters(cell, shape, rng);
  const Batch<double> batch = random_batch(shape, users, steps, rng);
  const double interest_scale = 1.0 / 9, factor_scale = 0.7 / 11;
  const int bptt = steps;  // the whole sequence: exact gradient
  Parameters<double> grad = zero_parameters<double>(cell, shape);
  batch_loss(p, batch, interest_scale, factor_scale, bptt, &grad);
  const auto objective = [&](const Parameters<double>& q) {
    const LossSums<double> s =
        batch_loss<double>(q, batch, interest_scale, factor_scale, bptt, nullptr);
    return interest_scale * s.interest + factor_scale * s.factor;
  };
  for (std::size_t t = 0; t < kTensorCount; ++t) {
    INFO(cell_name(cell) << " tensor " << tensor_name(t));
    const CheckResult r = check_tensor(p, t, grad[t], objective);
    CHECK(r.analytic_norm > 1e-4);  // the tensor takes part in the loss
    // 1e-6: central differences in double left up to 1.2e-7 on a rare draw (CI saw it on
    // lstm cell_hidden); a wrong gradient is off by more than 1e-4 (test below).
    CHECK(r.relative_error < 1e-6);
    CHECK(r.max_abs_error < 1e-8);
  }
}

}  // namespace

TEST_CASE("GRU and both heads: analytic gradient of every tensor matches finite differences",
          "[temporal]") {
  check_every_tensor(CellKind::gru);
}

TEST_CASE("LSTM and both heads: analytic gradient of every tensor matches finite differences",
          "[temporal]") {
  check_every_tensor(CellKind::lstm);
}

TEST_CASE("a wrong gradient fails the check (the check can fail)", "[temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const Shape shape{3, 2, 3, 1};
  const Parameters<double> p = random_parameters(CellKind::gru, shape, rng);
  const Batch<double> batch = random_batch(shape, 3, 4, rng);
  Parameters<double> grad = zero_parameters<double>(CellKind::gru, shape);
  batch_loss(p, batch, 1.0, 1.0, 4, &grad);
  grad[kCellHidden](1, 0) += 1e-4;
  const auto objective = [&](const Parameters<double>& q) {
    const LossSums<double> s = batch_loss<double>(q, batch, 1.0, 1.0, 4, nullptr);
    return s.interest + s.factor;
  };
  CHECK(check_tensor(p, kCellHidden, grad[kCellHidden], objective).max_abs_error > 5e-5);
}

TEST_CASE("truncated BPTT equals the exact gradient of a model detached at window starts",
          "[temporal]") {
  for (CellKind cell : {CellKind::gru, CellKind::lstm}) {
    INFO(cell_name(cell));
    std::mt19937_64 rng(driftrec::test::test_seed());
    const Shape shape{3, 4, 4, 2};
    const int users = 3, steps = 7, bptt = 3;  // windows [0, 3), [3, 6), [6, 7)
    const Parameters<double> p = random_parameters(cell, shape, rng);
    const Batch<double> batch = random_batch(shape, users, steps, rng);
    Parameters<double> truncated = zero_parameters<double>(cell, shape);
    Parameters<double> full = zero_parameters<double>(cell, shape);
    batch_loss(p, batch, 0.5, 0.25, bptt, &truncated);
    batch_loss(p, batch, 0.5, 0.25, steps, &full);

    // The reference: states entering each window computed once with p and then held
    // constant; each window runs from its held state.
    const States<double> held = run_states<double>(p, batch.inputs, {}, {});
    const auto detached = [&](const Parameters<double>& q) {
      double total = 0;
      for (int start = 0; start < steps; start += bptt) {
        const int end = std::min(steps, start + bptt);
        Batch<double> w;
        for (int t = start; t < end; ++t) {
          w.inputs.push_back(batch.inputs[t]);
          w.interest_targets.push_back(batch.interest_targets[t]);
          w.interest_mask.push_back(batch.interest_mask[t]);
          w.factor_targets.push_back(batch.factor_targets[t]);
          w.factor_mask.push_back(batch.factor_mask[t]);
        }
        if (start > 0) {
          w.h0 = held.h[start - 1];
          if (cell == CellKind::lstm) w.c0 = held.c[start - 1];
        }
        const LossSums<double> s = batch_loss<double>(q, w, 0.5, 0.25, bptt, nullptr);
        total += 0.5 * s.interest + 0.25 * s.factor;
      }
      return total;
    };
    double difference = 0;
    for (std::size_t t = 0; t < kTensorCount; ++t) {
      INFO("tensor " << tensor_name(t));
      const CheckResult r = check_tensor(p, t, truncated[t], detached);
      // 1e-6: central differences in double left up to 1.2e-7 on a rare draw (CI saw it on
    // lstm cell_hidden); a wrong gradient is off by more than 1e-4 (test below).
    CHECK(r.relative_error < 1e-6);
      CHECK(r.max_abs_error < 1e-8);
      difference += (truncated[t] - full[t]).norm();
    }
    CHECK(difference > 1e-3);  // the truncation really cut something
    // The heads do not depend on the recurrence: their gradients agree.
    CHECK((truncated[kInterestWeight] - full[kInterestWeight]).norm() < 1e-12);
  }
}
