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
