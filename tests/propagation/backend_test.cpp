// The seam of propagation/backend.hpp: BipartiteGraph, the registry, and the algorithms
// running on the backend their options name (the numbers of each backend are checked in
// tests/conformance/).
#include <algorithm>
#include <fmt/format.h>
#include <random>
#include <string>
#include <utility>
#include <catch2/catch.hpp>
#include <limits>

#include "propagation/backend.hpp"
#include "propagation/random_walk.hpp"
#include "propagation/temporal_propagation.hpp"
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

TEST_CASE("check_edge_weights on blocks of rows names the entry make_bipartite_graph names on the whole",
          "[propagation][backend]") {
  // driftrec-mpi checks each rank's rows of the decayed history; the lowest block that
  // fails must give the single process's message, its row counted from the whole matrix.
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 20; ++trial) {
    graph::CsrMatrix w = test::random_skewed_matrix(rng, 30, 12, 120);
    std::uniform_int_distribution<std::size_t> bad(0, w.data.size() - 1);
    const std::size_t first = bad(rng), second = bad(rng);
    w.data[first] = std::numeric_limits<float>::infinity();
    w.data[second] = -2.0f;
    std::string whole;
    try {
      make_bipartite_graph(w, "decayed history");
      FAIL("no error");
    } catch (const driftrec::InputError& e) {
      whole = e.what();
    }
    const graph::Offset entry = std::min(first, second);
    const auto row =
        static_cast<graph::Index>(std::upper_bound(w.indptr.begin(), w.indptr.end(), entry) - w.indptr.begin() - 1);
    CAPTURE(trial, whole);
    CHECK(whole == fmt::format("decayed history: the value at row {}, column {} is {}; edge weights must be finite "
                               "and >= 0",
                               row, w.indices[entry], w.data[entry]));
    // The rows in three blocks: the first block that fails names the same entry.
    const graph::Index cut1 = std::uniform_int_distribution<graph::Index>(0, 30)(rng);
    const graph::Index cut2 = std::uniform_int_distribution<graph::Index>(cut1, 30)(rng);
    std::string blocks;
    for (auto [r0, r1] : {std::pair{0, cut1}, std::pair{cut1, cut2}, std::pair{cut2, 30}}) {
      graph::CsrMatrix part;
      part.n_rows = r1 - r0;
      part.n_cols = w.n_cols;  // indptr starts as {0}
      for (graph::Index r = r0; r < r1; ++r) part.indptr.push_back(part.indptr.back() + w.row_length(r));
      part.indices.assign(w.indices.begin() + w.indptr[r0], w.indices.begin() + w.indptr[r1]);
      part.data.assign(w.data.begin() + w.indptr[r0], w.data.begin() + w.indptr[r1]);
      try {
        check_edge_weights(part, "decayed history", r0);
      } catch (const driftrec::InputError& e) {
        blocks = e.what();
        break;
      }
    }
    CHECK(blocks == whole);
  }
}

TEST_CASE("the registry makes the cpu backend and names the registered ones on a bad name",
          "[propagation][backend]") {
  const auto registered = registered_backends();
  REQUIRE(std::find(registered.begin(), registered.end(), "cpu") != registered.end());
  const auto available = available_backends();
  REQUIRE(std::find(available.begin(), available.end(), "cpu") != available.end());
  REQUIRE(backend_available("cpu"));
  REQUIRE_FALSE(backend_available("no-such-backend"));
  REQUIRE(make_backend("cpu")->name() == "cpu");
  REQUIRE_THROWS_WITH(make_backend("no-such-backend"),
                      Catch::Contains("no-such-backend") && Catch::Contains("unknown") && Catch::Contains("cpu"));
  REQUIRE_THROWS_WITH(make_backend("cpu", {-1}), Catch::Contains("threads"));
}

namespace {

// A backend that counts its calls and runs them on a one-thread CPU backend: shows which
// backend an algorithm used, and how often it prepared a graph.
class CountingBackend final : public Backend {
 public:
  std::string_view name() const override { return "counting"; }
  mutable int prepared = 0, multiplies = 0, half_steps = 0;

 private:
  struct Handle final : PreparedGraph {
    Handle(const Backend& b, const BipartiteGraph& g, std::unique_ptr<PreparedGraph> in)
        : PreparedGraph(b, g), inner(std::move(in)) {}
    std::unique_ptr<PreparedGraph> inner;
  };
  static const PreparedGraph& inner(const PreparedGraph& g) { return *static_cast<const Handle&>(g).inner; }
  std::unique_ptr<PreparedGraph> prepare_impl(const BipartiteGraph& g) const override {
    ++prepared;
    return std::make_unique<Handle>(*this, g, cpu_->prepare(g));
  }
  std::unique_ptr<PreparedGraph> prepare_impl(BipartiteGraph&&) const override {
    FAIL("the algorithms under test prepare borrowed graphs here");
    return nullptr;
  }
  void multiply_impl(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const override {
    ++multiplies;
    cpu_->multiply(inner(g), out, x, y);
  }
  double half_step_impl(const PreparedGraph& g, const HalfStep& step) const override {
    ++half_steps;
    return cpu_->half_step(inner(g), step);
  }
  std::unique_ptr<Backend> cpu_ = make_backend("cpu", {1});
};

}  // namespace

TEST_CASE("the algorithms run on the backend in their options, one prepared graph per period",
          "[propagation][backend]") {
  std::mt19937_64 rng(test::test_seed());
  std::vector<graph::CsrMatrix> slices;
  for (int t = 0; t < 3; ++t) slices.push_back(test::random_skewed_matrix(rng, 60, 40, 300));
  const graph::CsrMatrix labels = test::random_item_labels(rng, 40, 3, 0.3);
  TemporalOptions o;
  o.propagation.threads = 1;
  const auto plain = propagate_temporal(slices, labels, o);
  const CountingBackend counting;
  o.propagation.backend = &counting;
  const auto counted = propagate_temporal(slices, labels, o);
  int iterations = 0;
  for (std::size_t t = 0; t < slices.size(); ++t) {
    REQUIRE(counted[t].interests == plain[t].interests);  // the same CPU kernels, bit for bit
    iterations += counted[t].iterations;
  }
  REQUIRE(counting.prepared == 3);
  REQUIRE(counting.half_steps == 2 * iterations);

  PageRankOptions p;
  p.block = 8;  // several blocks, one prepared graph
  p.backend = &counting;
  counting.prepared = 0;
  const BipartiteGraph g = make_bipartite_graph(slices[0]);
  const PageRankTopItems top = pagerank_top_items(g, p, RecommendOptions{});
  REQUIRE(counting.prepared == 1);
  const int blocks = (60 + 7) / 8;  // two products per iteration of each block
  REQUIRE(top.iterations > 0);
  REQUIRE(counting.multiplies >= 2 * top.iterations);
  REQUIRE(counting.multiplies <= 2 * top.iterations * blocks);

  // The expert tier runs on the backend that prepared the graph, and refuses options naming another.
  const auto cpu = make_backend("cpu", {1});
  LabelPropagationOptions lp;
  lp.backend = &counting;
  const DenseMatrix seeds = item_seed_labels(labels);
  Seeds s;
  s.items = view(seeds);
  REQUIRE_THROWS_WITH(propagate_labels(*cpu->prepare(g), s, lp), Catch::Contains("backend"));
}
