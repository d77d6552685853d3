// temporal/sequence_fit: the hybrid's blend of scaled factor scores and label match.
#include "temporal/sequence_fit.hpp"

#include <catch2/catch.hpp>
#include <random>

#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::temporal;
using graph::Index;

TEST_CASE("hybrid scores blend the scaled factor scores and label match", "[temporal][sequence_fit]") {
  std::mt19937_64 rng(test::test_seed());
  std::normal_distribution<float> normal;
  matrix_factorization::Factors items(7, 3);
  propagation::DenseMatrix seeds = propagation::DenseMatrix::Zero(7, 2);
  for (Index i = 0; i < 7; ++i) {
    for (int f = 0; f < 3; ++f) items(i, f) = normal(rng);
    seeds(i, i % 2) = 1;
  }
  const Eigen::VectorXf factor = Eigen::VectorXf::Random(3), interests = Eigen::Vector2f(0.8f, 0.2f);
  std::vector<float> w0(7), w1(7), half(7);
  hybrid_scores(items, seeds, factor, interests, 0.0, w0);
  hybrid_scores(items, seeds, factor, interests, 1.0, w1);
  hybrid_scores(items, seeds, factor, interests, 0.5, half);
  const Eigen::VectorXf dot = items * factor;
  const float fmax = dot.cwiseAbs().maxCoeff();
  for (Index i = 0; i < 7; ++i) {
    CHECK(w0[i] == Approx(dot(i) / fmax));
    CHECK(w1[i] == Approx(i % 2 == 0 ? 1.0f : 0.25f));  // match / max match
    CHECK(half[i] == Approx(0.5f * w0[i] + 0.5f * w1[i]));
  }
}

TEST_CASE("hybrid scores from their parts equal the one-expression blend bit for bit", "[temporal][sequence_fit]") {
  // The blend as hybrid_scores wrote it before it was cut into hybrid_parts and hybrid_blend
  // (choose_interest_weight scores each user's parts once for every weight).
  auto reference = [](const matrix_factorization::Factors& items, const propagation::DenseMatrix& seeds,
                      const Eigen::VectorXf& factor, const Eigen::VectorXf& interests, double weight) {
    const Eigen::VectorXf by_factor = items * factor;
    const Eigen::VectorXf match = seeds * interests;
    const float f_max = by_factor.size() ? by_factor.cwiseAbs().maxCoeff() : 0.0f;
    const float m_max = match.size() ? match.maxCoeff() : 0.0f;
    const Eigen::VectorXf scores =
        static_cast<float>(1 - weight) * (f_max > 0 ? Eigen::VectorXf(by_factor / f_max) : by_factor) +
        static_cast<float>(weight) * (m_max > 0 ? Eigen::VectorXf(match / m_max) : match);
    return std::vector<float>(scores.data(), scores.data() + scores.size());
  };
  std::mt19937_64 rng(test::test_seed());
  std::normal_distribution<float> normal;
  for (const Index n : {1, 37, 203}) {
    CAPTURE(n);
    matrix_factorization::Factors items(n, 16);
    propagation::DenseMatrix seeds = propagation::DenseMatrix::Zero(n, 30);
    for (Index i = 0; i < n; ++i) {
      for (int f = 0; f < 16; ++f) items(i, f) = normal(rng);
      seeds(i, (i * 7) % 30) = 1;
      seeds(i, (i * 11 + 3) % 30) = 0.5f;
    }
    Eigen::VectorXf interests(30);
    for (int l = 0; l < 30; ++l) interests(l) = std::abs(normal(rng));
    interests /= interests.sum();
    for (const bool zero_factor : {false, true}) {
      const Eigen::VectorXf factor = zero_factor ? Eigen::VectorXf::Zero(16) : Eigen::VectorXf(Eigen::VectorXf::Random(16));
      HybridParts parts;
      hybrid_parts(items, seeds, factor, interests, parts);
      for (const double w : {0.0, 0.25, 0.5, 0.75, 1.0}) {
        std::vector<float> got(static_cast<std::size_t>(n)), blended(got.size());
        hybrid_scores(items, seeds, factor, interests, w, got);
        hybrid_blend(parts, w, blended);
        const std::vector<float> want = reference(items, seeds, factor, interests, w);
        REQUIRE(got == want);
        REQUIRE(blended == want);
      }
    }
  }
}
