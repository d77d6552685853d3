#include <catch2/catch.hpp>
#include <limits>

#include "propagation/backend.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;

TEST_CASE("make_bipartite_graph stores the transpose and inverse square-root degrees",
          "[propagation][backend]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 40, 25, 150);
  const BipartiteGraph g = make_bipartite_graph(w);
  const Eigen::MatrixXd d = test::dense(w);
  REQUIRE(test::dense(g.user_items) == d);
  REQUIRE(test::dense(g.item_users) == d.transpose());
  REQUIRE(g.users() == 40);
  REQUIRE(g.items() == 25);
  REQUIRE(g.nnz() == w.nnz());
  for (Eigen::Index u = 0; u < d.rows(); ++u) {
    const double deg = d.row(u).sum();
    REQUIRE(g.user_inv_sqrt_degree[u] == Approx(deg > 0 ? 1 / std::sqrt(deg) : 0.0).margin(1e-12));
  }
  for (Eigen::Index i = 0; i < d.cols(); ++i) {
    const double deg = d.col(i).sum();
    REQUIRE(g.item_inv_sqrt_degree[i] == Approx(deg > 0 ? 1 / std::sqrt(deg) : 0.0).margin(1e-12));
  }
}

TEST_CASE("make_bipartite_graph rejects negative and non-finite weights, naming the matrix",
          "[propagation][backend]") {
  for (float bad : {-1.0f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    const graph::Triplet t[] = {{0, 0, 1.0f}, {1, 1, bad}};
    REQUIRE_THROWS_WITH(make_bipartite_graph(graph::csr_from_triplets(2, 2, t), "slice 3"),
                        Catch::Contains("slice 3") && Catch::Contains("row 1, column 1"));
  }
  graph::CsrMatrix broken = graph::csr_from_triplets(2, 2, {});
  broken.indptr.pop_back();
  REQUIRE_THROWS_AS(make_bipartite_graph(broken), driftrec::InputError);
}
