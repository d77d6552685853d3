// graph/decay: G_t = gamma G_(t-1) + W_t against a dense accumulation, and the dropping
// of entries that decay below the smallest normal float.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <random>

#include "graph/decay.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using graph::Index;

namespace {

graph::CsrMatrix random_csr(std::mt19937_64& rng, Index rows, Index cols, double density) {
  std::vector<graph::Triplet> t;
  std::uniform_real_distribution<float> value(0.5f, 3.0f);
  std::bernoulli_distribution keep(density);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      if (keep(rng)) t.push_back({r, c, value(rng)});
  return graph::csr_from_triplets(rows, cols, t);
}

Eigen::MatrixXd dense(const graph::CsrMatrix& m) {
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(m.n_rows, m.n_cols);
  for (Index r = 0; r < m.n_rows; ++r)
    for (graph::Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) d(r, m.indices[e]) += m.data[e];
  return d;
}

}  // namespace

TEST_CASE("decay_step equals gamma * history + slice computed densely", "[graph][decay]") {
  std::mt19937_64 rng(test::test_seed());
  for (int round = 0; round < 20; ++round) {
    const Index rows = 1 + static_cast<Index>(rng() % 12), cols = 1 + static_cast<Index>(rng() % 15);
    const float gamma = std::array{0.0f, 0.25f, 0.5f, 1.0f}[round % 4];
    graph::CsrMatrix g = random_csr(rng, rows, cols, 0.3);
    Eigen::MatrixXd ref = dense(g);
    for (int t = 0; t < 4; ++t) {
      const graph::CsrMatrix w = random_csr(rng, rows, cols, 0.2);
      g = graph::decay_step(g, w, gamma);
      ref = gamma * ref + dense(w);
      graph::validate_csr(g, "G");
      INFO("round " << round << " step " << t << " gamma " << gamma);
      REQUIRE((dense(g) - ref).cwiseAbs().maxCoeff() < 1e-5);
    }
  }
}

TEST_CASE("entries that decay below the smallest normal float are dropped", "[graph][decay]") {
  const graph::Triplet one[] = {{0, 0, 1.0f}};
  const graph::Triplet other[] = {{1, 1, 1.0f}};
  graph::CsrMatrix g = graph::csr_from_triplets(2, 2, one);
  const graph::CsrMatrix w = graph::csr_from_triplets(2, 2, other);
  int steps = 0;
  while (g.indptr[1] > 0) {  // row 0's entry halves every step until it is dropped
    REQUIRE(g.data[0] >= graph::kMinDecayedWeight);
    g = graph::decay_step(g, w, 0.5f);
    ++steps;
  }
  CHECK(steps == 127);  // 2^-126 (step 126) is the smallest normal float; 2^-127 is dropped
  CHECK(g.nnz() == 1);  // the fresh entry stays
  CHECK(g.indices[0] == 1);
}
