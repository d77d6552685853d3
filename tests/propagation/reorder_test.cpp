// propagation/reorder: the degree order is a permutation sorted by decreasing degree
// (ties by id), relabel gives the same matrix under the permutations (checked densely),
// to_order / from_order are inverse, and a half-step on the relabelled graph, mapped back,
// equals the half-step on the original graph up to float rounding.
#include "propagation/reorder.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <random>

#include "propagation/backend.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

TEST_CASE("degree_order and relabel renumber the graph without changing it", "[propagation][rmat]") {
  std::mt19937_64 rng(test::test_seed());
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 900, 400, 12000));
  const VertexOrder order = degree_order(g);
  for (const auto* side : {&order.user_old, &order.item_old}) {
    const graph::CsrMatrix& m = side == &order.user_old ? g.user_items : g.item_users;
    std::vector<Index> sorted = *side;
    std::sort(sorted.begin(), sorted.end());
    std::vector<Index> ids(sorted.size());
    std::iota(ids.begin(), ids.end(), Index{0});
    REQUIRE(sorted == ids);  // a permutation
    for (std::size_t p = 1; p < side->size(); ++p) {
      const auto a = m.row_length((*side)[p - 1]), b = m.row_length((*side)[p]);
      REQUIRE((a > b || (a == b && (*side)[p - 1] < (*side)[p])));
    }
  }
  const graph::CsrMatrix w2 = relabel(g.user_items, order, 2);
  graph::validate_csr(w2, "relabelled");
  const Eigen::MatrixXd d = test::dense(g.user_items), d2 = test::dense(w2);
  for (Index p = 0; p < g.users(); ++p)
    for (Index q = 0; q < g.items(); ++q) REQUIRE(d2(p, q) == d(order.user_old[p], order.item_old[q]));
}

TEST_CASE("a half-step on the degree-ordered graph, mapped back, equals the original one",
          "[propagation][rmat]") {
  std::mt19937_64 rng(test::test_seed());
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 2000, 600, 30000));
  const VertexOrder order = degree_order(g);
  const BipartiteGraph s = make_bipartite_graph(relabel(g.user_items, order, 2));
  const int k = 8;
  const DenseMatrix f_items = test::random_dense(rng, g.items(), k);
  const DenseMatrix seed = test::random_dense(rng, g.users(), k);
  DenseMatrix round_trip(g.items(), k);
  from_order(view(to_order(view(f_items), order.item_old)), order.item_old, view(round_trip));
  REQUIRE(round_trip == f_items);

  const auto backend = make_backend("cpu", {2});
  DenseMatrix want = DenseMatrix::Zero(g.users(), k);
  HalfStep step;
  step.out = Side::users;
  step.alpha = 0.8f;
  step.f_in = view(f_items);
  step.f_out = view(want);
  step.seed = view(seed);
  step.seed_scale = 0.5f;
  backend->half_step(*backend->prepare(g), step);

  const DenseMatrix f_items_s = to_order(view(f_items), order.item_old);
  const DenseMatrix seed_s = to_order(view(seed), order.user_old);
  DenseMatrix got_s = DenseMatrix::Zero(g.users(), k), got(g.users(), k);
  step.f_in = view(f_items_s);
  step.f_out = view(got_s);
  step.seed = view(seed_s);
  backend->half_step(*backend->prepare(s), step);
  from_order(view(got_s), order.user_old, view(got));
  REQUIRE((got - want).cwiseAbs().maxCoeff() <= 1e-5f * (1.0f + want.cwiseAbs().maxCoeff()));
  REQUIRE_THROWS_AS(to_order(view(f_items), order.user_old), driftrec::InputError);
}

TEST_CASE("make_ordered_graph equals relabelling the built graph", "[propagation][rmat]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 700, 300, 9000);
  const BipartiteGraph g = make_bipartite_graph(w);
  const VertexOrder order = degree_order(g);
  const OrderedGraph og = make_ordered_graph(w, 2);
  REQUIRE(og.order.user_old == order.user_old);
  REQUIRE(og.order.item_old == order.item_old);
  const BipartiteGraph want = make_bipartite_graph(relabel(w, order, 1));
  REQUIRE(og.graph.user_items.indptr == want.user_items.indptr);
  REQUIRE(og.graph.user_items.indices == want.user_items.indices);
  REQUIRE(og.graph.user_items.data == want.user_items.data);
  REQUIRE(og.graph.item_users.indices == want.item_users.indices);
  REQUIRE(og.graph.user_inv_sqrt_degree == want.user_inv_sqrt_degree);
  REQUIRE(og.graph.item_inv_sqrt_degree == want.item_inv_sqrt_degree);
  graph::CsrMatrix bad = w;
  bad.indices[0] = 300;  // out of range
  REQUIRE_THROWS_WITH(make_ordered_graph(bad, 1, "slice 3"), Catch::Contains("slice 3"));
}
