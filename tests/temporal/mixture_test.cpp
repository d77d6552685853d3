// The interest mixture: its loss against a dense per-pair reference, its gradient against
// finite differences, the fallback rule (never worse on validation than any expert alone,
// on random data), a gate that learns which expert each pair needs, and the experts and
// gate inputs assembled from sequence features on a hand-computed case.
#include "temporal/mixture.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "temporal/mixture_fit.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::temporal;

namespace {

Matrix<double> random_distributions(Eigen::Index labels, Eigen::Index n, std::mt19937_64& rng, double sparsity) {
  std::uniform_real_distribution<double> u01(0, 1);
  Matrix<double> m(labels, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index l = 0; l < labels; ++l) m(l, j) = u01(rng) < sparsity ? 0.0 : u01(rng);
    m(j % labels, j) += 0.05;
    m.col(j) /= m.col(j).sum();
  }
  return m;
}

MixtureBatch random_batch(int labels, int hidden, int n, std::mt19937_64& rng) {
  std::normal_distribution<double> n01(0, 1);
  MixtureBatch b;
  for (auto& e : b.experts)
    e = ((1 - kExpertSmoothing) * random_distributions(labels, n, rng, 0.5).array() + kExpertSmoothing / labels).matrix();
  b.hidden = Matrix<double>(hidden, n).unaryExpr([&](double) { return std::tanh(n01(rng)); });
  b.gate_input = Matrix<double>(kGateFeatures, n).unaryExpr([&](double) { return n01(rng); });
  b.target = random_distributions(labels, n, rng, 0.6);
  for (int j = 0; j < n; j += 5) b.target.col(j).setZero();  // pairs without a target
  return b;
}

MixtureParameters random_parameters(int labels, int hidden, std::mt19937_64& rng) {
  std::normal_distribution<double> n01(0, 0.5);
  auto r = [&](Eigen::Index rows, Eigen::Index cols) -> Matrix<double> {
    return Matrix<double>(rows, cols).unaryExpr([&](double) { return n01(rng); });
  };
  MixtureParameters p = initial_mixture(r(labels, hidden), r(labels, 1));
  p[kGateWeight] = r(kExpertCount, kGateFeatures + hidden);
  p[kGateBias] = r(kExpertCount, 1);
  return p;
}

}  // namespace

TEST_CASE("mixture loss equals a per-pair reference: sum_k softmax gate * expert, then CE", "[temporal][mixture]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const int labels = 5, hidden = 3, n = 12;
  const MixtureBatch b = random_batch(labels, hidden, n, rng);
  const MixtureParameters p = random_parameters(labels, hidden, rng);
  double reference = 0;
  for (int j = 0; j < n; ++j) {
    Eigen::VectorXd z(kGateFeatures + hidden);
    z << b.gate_input.col(j), b.hidden.col(j);
    Eigen::VectorXd a = p[kGateWeight] * z + p[kGateBias];
    Eigen::VectorXd g = (a.array() - a.maxCoeff()).exp().matrix();
    g /= g.sum();
    Eigen::VectorXd logits = p[kHeadWeight] * b.hidden.col(j) + p[kHeadBias];
    Eigen::VectorXd neural = logits.array().exp().matrix();
    neural /= neural.sum();
    Eigen::VectorXd mix = g(kNeural) * neural;
    for (int k = 0; k < kFixedExperts; ++k) mix += g(k) * b.experts[k].col(j);
    CHECK(mix.sum() == Approx(1.0).epsilon(1e-12));
    for (int l = 0; l < labels; ++l)
      if (b.target(l, j) > 0) reference -= b.target(l, j) * std::log(mix(l));
  }
  CHECK(mixture_loss(p, b, nullptr) == Approx(reference).epsilon(1e-12));
  CHECK(target_count(b) == n - (n + 4) / 5);
  CHECK(mean_cross_entropy(p, b) == Approx(reference / static_cast<double>(target_count(b))).epsilon(1e-12));
  // only_expert: the prediction is that expert alone.
  MixtureParameters only = p;
  only.only_expert = kEwmaLong;
  CHECK((mixture_distribution(only, b) - b.experts[kEwmaLong]).norm() == 0.0);
}

TEST_CASE("mixture gradient of every tensor matches central finite differences", "[temporal][mixture]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const int labels = 4, hidden = 3, n = 9;
  const MixtureBatch b = random_batch(labels, hidden, n, rng);
  const MixtureParameters p = random_parameters(labels, hidden, rng);
  MixtureParameters grad = p;
  for (auto& m : grad.tensor) m.setZero();
  mixture_loss(p, b, &grad);
  for (std::size_t t = 0; t < kMixtureTensorCount; ++t) {
    INFO("tensor " << mixture_tensor_name(t));
    MixtureParameters q = p;
    Matrix<double> numeric(p[t].rows(), p[t].cols());
    const double eps = 1e-6;
    for (Eigen::Index k = 0; k < p[t].size(); ++k) {
      const double x = p[t].data()[k];
      q[t].data()[k] = x + eps;
      const double up = mixture_loss(q, b, nullptr);
      q[t].data()[k] = x - eps;
      const double down = mixture_loss(q, b, nullptr);
      q[t].data()[k] = x;
      numeric.data()[k] = (up - down) / (2 * eps);
    }
    CHECK(grad[t].norm() > 1e-4);
    CHECK((grad[t] - numeric).norm() / (grad[t].norm() + numeric.norm()) < 1e-6);
    CHECK((grad[t] - numeric).cwiseAbs().maxCoeff() < 1e-7);
  }
}

TEST_CASE("the fitted mixture is never worse on validation than the best expert alone (random data)",
          "[temporal][mixture]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  for (int round = 0; round < 6; ++round) {
    CAPTURE(seed, round);
    std::mt19937_64 rng(seed + static_cast<std::uint64_t>(round));
    const int labels = 6, hidden = 4;
    const MixtureBatch train = random_batch(labels, hidden, 150, rng);
    MixtureBatch validation = random_batch(labels, hidden, 60, rng);
    // Some rounds plant one expert as the truth of validation only: the gate cannot learn
    // that from the training pairs, so the fallback has to catch it.
    if (round % 2 == 1) validation.target = validation.experts[static_cast<std::size_t>(round % kFixedExperts)];
    MixtureOptions o;
    o.epochs = 15;
    o.batch_pairs = 32;
    o.seed = seed;
    const MixtureFit fit = train_mixture(train, validation, random_parameters(labels, hidden, rng), o);
    double best_expert = fit.validation_expert[0];
    for (int k = 0; k < kExpertCount; ++k) {
      INFO("expert " << expert_name(k));
      // Recomputed independently of the fit's bookkeeping.
      MixtureParameters alone = fit.parameters;
      alone.only_expert = k;
      CHECK(mean_cross_entropy(alone, validation) == Approx(fit.validation_expert[static_cast<std::size_t>(k)]));
      best_expert = std::min(best_expert, fit.validation_expert[static_cast<std::size_t>(k)]);
    }
    const double chosen = mean_cross_entropy(fit.parameters, validation);
    CHECK(chosen == Approx(fit.validation_chosen).epsilon(1e-12));
    CHECK(chosen <= best_expert + 1e-12);
    CHECK(chosen <= fit.validation_mixture + 1e-12);
    if (round % 2 == 1) CHECK(fit.parameters.only_expert == round % kFixedExperts);
  }
}

TEST_CASE("the gate learns from its inputs which expert a pair follows, beating every expert alone",
          "[temporal][mixture]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const int labels = 6, hidden = 2;
  auto planted = [&](int n) {
    MixtureBatch b = random_batch(labels, hidden, n, rng);
    // Gate feature 3 says which of two experts is the truth: ewma_short or population.
    for (int j = 0; j < n; ++j) {
      const bool repeat = j % 2 == 0;
      b.gate_input(3, j) = repeat ? 1.0 : -1.0;
      b.target.col(j) = b.experts[repeat ? kEwmaShort : kPopulation].col(j);
    }
    return b;
  };
  const MixtureBatch train = planted(400), validation = planted(100);
  MixtureOptions o;
  o.learning_rate = 0.05f;
  o.epochs = 60;
  o.batch_pairs = 64;
  o.patience = 10;
  o.seed = seed;
  const MixtureFit fit = train_mixture(train, validation, random_parameters(labels, hidden, rng), o);
  CHECK(fit.parameters.only_expert == -1);
  for (int k = 0; k < kExpertCount; ++k) CHECK(fit.validation_mixture < fit.validation_expert[static_cast<std::size_t>(k)] - 0.1);
  // The gate follows the feature: most of its weight on the right expert.
  const Matrix<double> g = gate_weights(fit.parameters, validation);
  CHECK(g(kEwmaShort, 0) > 0.8);
  CHECK(g(kPopulation, 1) > 0.8);
  // Deterministic for a seed and initial parameters.
  std::mt19937_64 init_rng(seed + 1);
  const MixtureParameters init = random_parameters(labels, hidden, init_rng);
  const MixtureFit a = train_mixture(train, validation, init, o);
  // With a progress callback: called once per epoch run, in order, and the fit unchanged.
  std::vector<std::pair<int, int>> calls;
  const MixtureFit b =
      train_mixture(train, validation, init, o, [&](int epoch, int epochs) { calls.emplace_back(epoch, epochs); });
  for (std::size_t t = 0; t < kMixtureTensorCount; ++t) CHECK(a.parameters[t] == b.parameters[t]);
  REQUIRE(calls.size() == static_cast<std::size_t>(b.epochs_run));
  for (std::size_t i = 0; i < calls.size(); ++i) CHECK(calls[i] == std::pair{static_cast<int>(i) + 1, o.epochs});
}

TEST_CASE("the gate-bias refit equals full-batch Adam through mixture_loss, bit for bit", "[temporal][mixture]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  for (int round = 0; round < 4; ++round) {
    CAPTURE(seed, round);
    std::mt19937_64 rng(seed + static_cast<std::uint64_t>(round));
    const int labels = 7 + round, hidden = 3 + 2 * round, n = 40 + 30 * round;
    const MixtureBatch validation = random_batch(labels, hidden, n, rng);
    const MixtureParameters start = random_parameters(labels, hidden, rng);
    MixtureOptions o;
    o.bias_steps = 60;
    o.bias_learning_rate = 0.05f;
    // The reference: every tensor's gradient from mixture_loss, all but the bias zeroed, one
    // plain Adam step on the bias, the validation cross-entropy recomputed from scratch.
    const double scale = 1.0 / static_cast<double>(target_count(validation));
    const double lr = o.bias_learning_rate;
    MixtureParameters q = start, best = start;
    Matrix<double> m = Matrix<double>::Zero(kExpertCount, 1), v = m;
    double best_loss = mean_cross_entropy(q, validation);
    for (int step = 1; step <= o.bias_steps; ++step) {
      MixtureParameters g;
      for (std::size_t k = 0; k < kMixtureTensorCount; ++k) g[k] = Matrix<double>::Zero(q[k].rows(), q[k].cols());
      mixture_loss(q, validation, &g);
      const Matrix<double> gb = g[kGateBias] * scale;
      const double c1 = 1 - std::pow(0.9, step), c2 = 1 - std::pow(0.999, step);
      m = 0.9 * m + 0.1 * gb;
      v = 0.999 * v + 0.001 * gb.cwiseProduct(gb);
      q[kGateBias].array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + 1e-8);
      const double loss = mean_cross_entropy(q, validation);
      if (std::isfinite(loss) && loss < best_loss) {
        best_loss = loss;
        best = q;
      }
    }
    const MixtureParameters fast = refit_gate_bias(start, validation, o);
    for (std::size_t t = 0; t < kMixtureTensorCount; ++t) {
      INFO(mixture_tensor_name(t));
      CHECK(fast[t] == best[t]);
    }
    CHECK(mean_cross_entropy(fast, validation) < mean_cross_entropy(start, validation));
  }
}

TEST_CASE("mixture experts and gate inputs on a hand-computed case", "[temporal][mixture]") {
  // 2 users, 2 labels, 3 periods, no factors. User 0 has label 0 in period 0 and label 1 in
  // period 1; user 1 is active in period 2 only.
  SequenceInputs in;
  for (int t = 0; t < 3; ++t) {
    RowMatrix f = RowMatrix::Zero(2, 2), y = RowMatrix::Zero(2, 2);
    in.interests.push_back(f);
    in.interest_truth.push_back(y);
  }
  in.interest_truth[0](0, 0) = 1;
  in.interest_truth[1](0, 1) = 1;
  in.interest_truth[2](1, 0) = 1;
  in.interests[1](0, 0) = 3;
  in.interests[1](0, 1) = 1;
  in.activity = {{1, 0}, {2, 0}, {0, 1}};
  const SequenceData d = assemble_sequences(in);
  std::vector<Eigen::VectorXd> pi = {Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1), Eigen::Vector2d(0.5, 0.5)};
  std::vector<Matrix<float>> hidden(3, Matrix<float>::Constant(1, 2, 0.25f));
  std::vector<std::vector<int>> users;
  const std::vector<MixtureBatch> steps = mixture_steps(d, in, pi, hidden, &users);
  REQUIRE(steps.size() == 3);
  CHECK(users[0] == std::vector<int>{0});  // step 0: user 0 has history, target period 1
  CHECK(users[1].empty());                 // step 1: user 0 inactive in period 2
  CHECK(users[2] == std::vector<int>{0, 1});
  const double e = kExpertSmoothing;
  auto smoothed = [&](double a, double b) { return Eigen::Vector2d((1 - e) * a + e / 2, (1 - e) * b + e / 2); };
  // The prediction step 2 reads periods 0..2; user 0 first.
  const MixtureBatch& s = steps[2];
  CHECK((s.experts[kPropagated].col(0) - smoothed(0.5, 0.5)).norm() < 1e-12);  // zero F_U: pi(2)
  // ewma_short at t = 2: y(1) * 1/2 + y(0) * 1/4 -> (1/4, 1/2) / (3/4)
  CHECK((s.experts[kEwmaShort].col(0) - smoothed(1.0 / 3, 2.0 / 3)).norm() < 1e-12);
  const double dl = std::exp2(-1.0 / 6);
  CHECK((s.experts[kEwmaLong].col(0) - smoothed(dl * dl / (dl * dl + dl), dl / (dl * dl + dl))).norm() < 1e-12);
  CHECK((s.experts[kPopulation].col(0) - smoothed(0.5, 0.5)).norm() < 1e-12);
  // Step 0, user 0: F_U(0) is zero -> pi(0); target = truth of period 1.
  CHECK((steps[0].experts[kPropagated].col(0) - smoothed(1, 0)).norm() < 1e-12);
  CHECK((steps[0].target.col(0) - Eigen::Vector2d(0, 1)).norm() < 1e-12);
  // Gate inputs of user 1 at step 2: activity 1, gap capped (never active before), one
  // labelled period (label 0: entropy 0), JS(pi(2), pi(1)) / log 2.
  CHECK(s.gate_input(0, 1) == Approx(std::log(2.0)));
  CHECK(s.gate_input(1, 1) == Approx(std::log1p(12.0)));
  CHECK(s.gate_input(2, 1) == Approx(0.0).margin(1e-12));
  CHECK(s.gate_input(3, 1) == 1.0);
  CHECK(s.gate_input(4, 1) == 0.0);
  // JS = H(m) - H(pi(2))/2 - H(pi(1))/2 with m = (1/4, 3/4), H(pi(2)) = log 2, H(pi(1)) = 0.
  const double js_exact = -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)) - 0.5 * std::log(2.0);
  CHECK(s.gate_input(5, 1) == Approx(js_exact / std::log(2.0)));
  CHECK(s.gate_input(6, 1) == Approx(std::log(2.0)));
  CHECK(s.gate_input(7, 1) == Approx(0.5));  // min((1, 0), (0.5, 0.5)) summed
  CHECK(s.hidden(0, 1) == 0.25);
}

TEST_CASE("mixture steps with a training sample: target batches of the sample's users only, the last of every user",
          "[temporal][mixture][train_users]") {
  // 5 users, 2 labels, 4 periods; every user active with a label every period.
  SequenceInputs in;
  for (int t = 0; t < 4; ++t) {
    RowMatrix f(5, 2), y(5, 2);
    for (int u = 0; u < 5; ++u) {
      f(u, 0) = static_cast<float>(1 + u + t);
      f(u, 1) = static_cast<float>(2 + u * t);
      y(u, (u + t) % 2) = 1;
      y(u, (u + t + 1) % 2) = 0;
    }
    in.interests.push_back(f);
    in.interest_truth.push_back(y);
    in.activity.push_back(std::vector<float>(5, 1.0f));
  }
  const SequenceData d = assemble_sequences(in);
  std::vector<Eigen::VectorXd> pi(4, Eigen::Vector2d(0.5, 0.5));
  std::vector<Matrix<float>> hidden;
  for (int t = 0; t < 4; ++t) hidden.push_back(Matrix<float>::Constant(1, 5, 0.1f * static_cast<float>(t)));
  std::vector<std::vector<int>> every_users, sample_users;
  const std::vector<MixtureBatch> every = mixture_steps(d, in, pi, hidden, &every_users);
  const std::vector<int> sample{1, 3};
  const std::vector<MixtureBatch> sampled = mixture_steps(d, in, pi, hidden, &sample_users, nullptr, &sample);
  REQUIRE(sampled.size() == 4);
  for (std::size_t t = 0; t < 3; ++t) {
    INFO("step " << t);
    REQUIRE(every_users[t] == std::vector<int>({0, 1, 2, 3, 4}));
    REQUIRE(sample_users[t] == sample);
    // The sample's columns are those of the batch of every user.
    for (std::size_t j = 0; j < sample.size(); ++j) {
      const auto c = static_cast<Eigen::Index>(sample[j]), k = static_cast<Eigen::Index>(j);
      CHECK(sampled[t].gate_input.col(k) == every[t].gate_input.col(c));
      CHECK(sampled[t].target.col(k) == every[t].target.col(c));
      for (int e = 0; e < kExpertCount; ++e) CHECK(sampled[t].experts[e].col(k) == every[t].experts[e].col(c));
    }
  }
  CHECK(sample_users[3] == std::vector<int>({0, 1, 2, 3, 4}));
  CHECK(sampled[3].gate_input == every[3].gate_input);
}

TEST_CASE("concatenate stacks the parts' columns in order and empties the parts", "[temporal][mixture]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::vector<MixtureBatch> parts;
  for (int n : {3, 0, 7, 1}) parts.push_back(random_batch(5, 4, n, rng));
  const std::vector<MixtureBatch> copies = parts;
  const MixtureBatch all = concatenate(parts);
  REQUIRE(all.size() == 11);
  // The reference: column j of the result is column j - offset of the part that holds it.
  Eigen::Index at = 0;
  for (const MixtureBatch& p : copies) {
    for (Eigen::Index j = 0; j < p.size(); ++j, ++at) {
      for (std::size_t k = 0; k < p.experts.size(); ++k) REQUIRE(all.experts[k].col(at) == p.experts[k].col(j));
      REQUIRE(all.hidden.col(at) == p.hidden.col(j));
      REQUIRE(all.gate_input.col(at) == p.gate_input.col(j));
      REQUIRE(all.target.col(at) == p.target.col(j));
    }
  }
  for (const MixtureBatch& p : parts) {
    CHECK(p.hidden.size() == 0);
    CHECK(p.target.size() == 0);
    CHECK(p.gate_input.size() == 0);
    for (const auto& e : p.experts) CHECK(e.size() == 0);
  }
  CHECK(concatenate(std::span<MixtureBatch>()).size() == 0);
}
