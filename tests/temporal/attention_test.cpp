// The causal self-attention cell: its forward pass against the equations evaluated entry by
// entry, causality (a later period never changes an earlier state), the analytic gradient of
// every tensor (with both heads) against finite differences, and training that is bit for
// bit the same for a seed with 1 or 2 threads.
#include "temporal/attention.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "temporal/network.hpp"
#include "temporal/trainer.hpp"
#include "tests/temporal/gradient_check.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;

TEST_CASE("attention forward equals the equations entry by entry", "[temporal][attention]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const Shape shape{3, 4, 2, 0};
  const int users = 2, steps = 20;  // more steps than kAttentionDistances: the last bias is shared
  const Parameters<double> p = random_parameters(CellKind::attention, shape, rng);
  REQUIRE(p[kCellInput].rows() == 16);
  REQUIRE(p[kCellHidden].rows() == 4);
  REQUIRE(p[kCellBias].rows() == 16 + kAttentionDistances);
  std::vector<Matrix<double>> inputs;
  for (int t = 0; t < steps; ++t) inputs.push_back(random_matrix(3, users, rng));
  const States<double> states = run_states<double>(p, inputs, {}, {});
  REQUIRE(states.h.size() == static_cast<std::size_t>(steps));
  const int h = 4;
  auto proj = [&](int block, int t, int b) {
    Eigen::VectorXd out(h);
    for (int i = 0; i < h; ++i) {
      double a = p[kCellBias](block * h + i, 0);
      for (int d = 0; d < 3; ++d) a += p[kCellInput](block * h + i, d) * inputs[t](d, b);
      out(i) = a;
    }
    return out;
  };
  for (int t = 0; t < steps; ++t)
    for (int b = 0; b < users; ++b) {
      const Eigen::VectorXd q = proj(1, t, b);
      std::vector<double> e;
      double top = -1e300;
      for (int s = 0; s <= t; ++s) {
        const double score =
            q.dot(proj(2, s, b)) / std::sqrt(4.0) + p[kCellBias](16 + std::min(t - s, kAttentionDistances - 1), 0);
        e.push_back(score);
        top = std::max(top, score);
      }
      double z = 0;
      for (double& x : e) z += (x = std::exp(x - top));
      Eigen::VectorXd c = Eigen::VectorXd::Zero(h);
      for (int s = 0; s <= t; ++s) c += e[static_cast<std::size_t>(s)] / z * proj(3, s, b);
      const Eigen::VectorXd expected = (proj(0, t, b) + p[kCellHidden] * c).array().tanh().matrix();
      CHECK((states.h[static_cast<std::size_t>(t)].col(b) - expected).norm() < 1e-12);
    }
}

TEST_CASE("attention is causal: changing period t + 1 leaves the states of 0..t unchanged", "[temporal][attention]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const Shape shape{4, 5, 3, 0};
  const Parameters<double> p = random_parameters(CellKind::attention, shape, rng);
  std::vector<Matrix<double>> inputs;
  for (int t = 0; t < 6; ++t) inputs.push_back(random_matrix(4, 3, rng));
  const States<double> a = run_states<double>(p, inputs, {}, {});
  inputs[4] = random_matrix(4, 3, rng);
  const States<double> b = run_states<double>(p, inputs, {}, {});
  for (int t = 0; t < 4; ++t) CHECK(a.h[static_cast<std::size_t>(t)] == b.h[static_cast<std::size_t>(t)]);
  CHECK((a.h[4] - b.h[4]).norm() > 1e-6);
  CHECK((a.h[5] - b.h[5]).norm() > 1e-6);
}

TEST_CASE("attention and both heads: analytic gradient of every tensor matches finite differences",
          "[temporal][attention]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const Shape shape{4, 3, 5, 2};
  const int users = 4, steps = 6;
  const Parameters<double> p = random_parameters(CellKind::attention, shape, rng);
  const Batch<double> batch = random_batch(shape, users, steps, rng);
  const double interest_scale = 1.0 / 9, factor_scale = 0.7 / 11;
  for (int bptt : {1, steps}) {  // bptt does not apply: the gradient is exact either way
    INFO("bptt " << bptt);
    Parameters<double> grad = zero_parameters<double>(CellKind::attention, shape);
    batch_loss(p, batch, interest_scale, factor_scale, bptt, &grad);
    const auto objective = [&](const Parameters<double>& q) {
      const LossSums<double> s = batch_loss<double>(q, batch, interest_scale, factor_scale, bptt, nullptr);
      return interest_scale * s.interest + factor_scale * s.factor;
    };
    for (std::size_t t = 0; t < kTensorCount; ++t) {
      INFO("tensor " << tensor_name(t));
      const CheckResult r = check_tensor(p, t, grad[t], objective);
      CHECK(r.analytic_norm > 1e-4);
      CHECK(r.relative_error < 1e-6);
      CHECK(r.max_abs_error < 1e-8);
    }
  }
}

TEST_CASE("attention training is bit-for-bit deterministic for a seed, with 1 or 2 threads", "[temporal][attention]") {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<float> u01(0, 1);
  SequenceInputs in;
  const int users = 40, periods = 6;
  for (int t = 0; t < periods; ++t) {
    RowMatrix f(users, 4), truth(users, 4), x(users, 3);
    for (int u = 0; u < users; ++u) {
      for (int l = 0; l < 4; ++l) {
        f(u, l) = u01(rng);
        truth(u, l) = u01(rng) < 0.4f ? u01(rng) : 0.0f;
      }
      for (int k = 0; k < 3; ++k) x(u, k) = u01(rng) - 0.5f;
    }
    in.interests.push_back(f);
    in.interest_truth.push_back(truth);
    in.factors.push_back(x);
    std::vector<float> a(static_cast<std::size_t>(users));
    for (auto& v : a) v = u01(rng) < 0.7f ? static_cast<float>(1 + rng() % 5) : 0.0f;
    in.activity.push_back(a);
  }
  const SequenceData d = assemble_sequences(in);
  SequenceModelOptions o;
  o.cell = CellKind::attention;
  o.hidden = 6;
  o.epochs = 4;
  o.batch_users = 40;
  o.seed = 3;
  o.patience = 100;
  o.threads = 2;
  const TrainingResult a = train_sequence_model(d, o);
  o.threads = 1;
  const TrainingResult c = train_sequence_model(d, o);
  for (std::size_t k = 0; k < kTensorCount; ++k) CHECK(a.model.parameters[k] == c.model.parameters[k]);
  REQUIRE(a.history.size() == c.history.size());
  for (std::size_t e = 0; e < a.history.size(); ++e) CHECK(a.history[e].validation_loss == c.history[e].validation_loss);
  // It learns something: the training loss falls.
  CHECK(a.history.back().train_loss < a.history.front().train_loss);
  o.seed = 4;
  const TrainingResult other = train_sequence_model(d, o);
  CHECK(a.model.parameters[kCellInput] != other.model.parameters[kCellInput]);
}
