// The one-pass iteration of propagation/cpu/spmm.hpp (fused_iteration, behind
// CpuBackend::iteration) and the W^T products of a graph without its stored transpose
// (fused_spmm_transposed): bit for bit equal to the half-steps over the stored transpose,
// for k in {1, 3, 8, 16, 20, 32, 37} (the fixed widths and the generic path), 1..3 threads
// and blocks from a few rows to the whole matrix, on random skewed matrices (seeds printed).
// The arithmetic is the same (each item sums its terms in increasing user order), so the
// tolerance is zero; the bfloat16 gather's users half equals fused_spmm_bf16's bit for bit,
// and its items half the float32 one from those users.
#include <catch2/catch.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/spmm.hpp"
#include "propagation/label_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

namespace {

const int kWidths[] = {1, 3, 8, 16, 20, 32, 37};

struct State {
  DenseMatrix f_users, f_items, y_users, y_items;
};

State random_state(std::mt19937_64& rng, Index users, Index items, Index k) {
  return {test::random_dense(rng, users, k), test::random_dense(rng, items, k),
          test::random_dense(rng, users, k), test::random_dense(rng, items, k)};
}

Iteration iteration_of(State& s, float alpha) {
  Iteration it;
  it.alpha = alpha;
  it.f_users = view(s.f_users);
  it.f_items = view(s.f_items);
  it.seed_users = view(std::as_const(s.y_users));
  it.seed_scale_users = 0.5f;
  it.seed_items = view(std::as_const(s.y_items));
  return it;
}

// The reference: half_step(users) then half_step(items) on the stored transpose.
IterationChange two_half_steps(const Backend& be, const PreparedGraph& g, State& s, float alpha) {
  IterationChange c;
  c.users = be.half_step(g, {Side::users, alpha, view(std::as_const(s.f_items)), view(s.f_users),
                             view(std::as_const(s.y_users)), 0.5f});
  c.items = be.half_step(g, {Side::items, alpha, view(std::as_const(s.f_users)), view(s.f_items),
                             view(std::as_const(s.y_items)), 1.0f});
  return c;
}

bool bitwise_equal(const DenseMatrix& a, const DenseMatrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::equal(a.data(), a.data() + a.size(), b.data(), [](float x, float y) {
           return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
         });
}

}  // namespace

TEST_CASE("the one-pass iteration equals the two half-steps over the stored transpose, bit for bit",
          "[propagation][fused_iteration]") {
  const std::uint64_t seed = GENERATE(11u, 12u);
  const int threads = GENERATE(1, 2, 3);
  const graph::Offset block = GENERATE(graph::Offset{64}, graph::Offset{1} << 16, graph::Offset{1} << 30);
  CAPTURE(seed, threads, block);
  std::mt19937_64 rng(seed);
  // > 3 x kMinWorkPerThread entries + rows, so that three threads really run.
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 20000, 7000, 450000));
  REQUIRE(g.nnz() + g.users() > 3 * cpu::kMinWorkPerThread);
  cpu::CpuBackend be(threads);
  be.set_iteration_block_cost(block);
  const auto pg = be.prepare(g);
  for (const int k : kWidths) {
    CAPTURE(k);
    State fused = random_state(rng, g.users(), g.items(), k), split = fused;
    for (int it = 0; it < 2; ++it) {
      const IterationChange a = be.iteration(*pg, iteration_of(fused, 0.85f));
      const IterationChange b = two_half_steps(be, *pg, split, 0.85f);
      REQUIRE(bitwise_equal(fused.f_users, split.f_users));
      REQUIRE(bitwise_equal(fused.f_items, split.f_items));
      REQUIRE(a.users == b.users);
      REQUIRE(a.items == b.items);
      REQUIRE(a.users > 0);
    }
  }
}

TEST_CASE("without the stored transpose the W^T products and half-steps are unchanged, bit for bit",
          "[propagation][fused_iteration]") {
  const std::uint64_t seed = GENERATE(21u, 22u);
  const int threads = GENERATE(1, 2, 3);
  CAPTURE(seed, threads);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 15000, 9000, 420000);
  const BipartiteGraph with = make_bipartite_graph(w);
  const BipartiteGraph without = make_bipartite_graph(w, "W", Transpose::none);
  REQUIRE_FALSE(without.transpose_stored);
  REQUIRE(without.item_users.nnz() == 0);
  REQUIRE(without.item_inv_sqrt_degree == with.item_inv_sqrt_degree);
  cpu::CpuBackend be(threads);
  const auto a = be.prepare(with), b = be.prepare(without);
  for (const int k : kWidths) {
    CAPTURE(k);
    const DenseMatrix x = test::random_dense(rng, w.n_rows, k), seed_items = test::random_dense(rng, w.n_cols, k);
    DenseMatrix ya(w.n_cols, k), yb(w.n_cols, k);
    be.multiply(*a, Side::items, view(x), view(ya));
    be.multiply(*b, Side::items, view(x), view(yb));
    REQUIRE(bitwise_equal(ya, yb));
    // The simple reference: y = W^T x, each entry scattered serially in double. The float
    // sum's rounding grows with the sum of its terms' magnitudes, not with the result: the
    // skewed matrix's first columns sum ~20,000 terms of both signs, so the bound is
    // relative to sum |w x| (the portable build passed a bound relative to |y| only by
    // the luck of its inputs; under x86-64-v3 the inputs' own rounding differs).
    Eigen::MatrixXd want = Eigen::MatrixXd::Zero(w.n_cols, k), magnitude = want;
    for (Index r = 0; r < w.n_rows; ++r)
      for (graph::Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e)
        for (int c = 0; c < k; ++c) {
          want(w.indices[e], c) += double(w.data[e]) * x(r, c);
          magnitude(w.indices[e], c) += std::abs(double(w.data[e]) * x(r, c));
        }
    test::require_within(yb, want, (1e-5 * magnitude.array() + 1e-4).matrix());
    ya = test::random_dense(rng, w.n_cols, k);
    yb = ya;
    const double ca = be.half_step(*a, {Side::items, 0.7f, view(x), view(ya), view(seed_items), 1.0f});
    const double cb = be.half_step(*b, {Side::items, 0.7f, view(x), view(yb), view(seed_items), 1.0f});
    REQUIRE(bitwise_equal(ya, yb));
    REQUIRE(ca == cb);
    // And the one-pass iteration needs no transpose either.
    State s1 = random_state(rng, w.n_rows, w.n_cols, k), s2 = s1;
    be.iteration(*a, iteration_of(s1, 0.9f));
    be.iteration(*b, iteration_of(s2, 0.9f));
    REQUIRE(bitwise_equal(s1.f_users, s2.f_users));
    REQUIRE(bitwise_equal(s1.f_items, s2.f_items));
  }
}

TEST_CASE("the one-pass iteration with a bfloat16 gather equals its users half-step and float32 items",
          "[propagation][fused_iteration]") {
  const std::uint64_t seed = 31;
  const int threads = GENERATE(1, 2);
  CAPTURE(seed, threads);
  std::mt19937_64 rng(seed);
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 12000, 5000, 300000), "W", Transpose::none);
  cpu::CpuBackend bf(threads, GatherPrecision::bfloat16), fp(threads);
  const auto gb = bf.prepare(g), gf = fp.prepare(g);
  for (const int k : {8, 20, 37}) {
    CAPTURE(k);
    State fused = random_state(rng, g.users(), g.items(), k), split = fused;
    bf.iteration(*gb, iteration_of(fused, 0.85f));
    bf.half_step(*gb, {Side::users, 0.85f, view(std::as_const(split.f_items)), view(split.f_users),
                       view(std::as_const(split.y_users)), 0.5f});
    fp.half_step(*gf, {Side::items, 0.85f, view(std::as_const(split.f_users)), view(split.f_items),
                       view(std::as_const(split.y_items)), 1.0f});
    REQUIRE(bitwise_equal(fused.f_users, split.f_users));
    REQUIRE(bitwise_equal(fused.f_items, split.f_items));
  }
}

TEST_CASE("the one-pass iteration reports a non-finite change as NaN", "[propagation][fused_iteration]") {
  std::mt19937_64 rng(41);
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 3000, 1000, 40000), "W",
                                                Transpose::none);
  cpu::CpuBackend be(2);
  const auto pg = be.prepare(g);
  State s = random_state(rng, g.users(), g.items(), 20);
  s.f_items(g.user_items.indices[0], 3) = std::numeric_limits<float>::infinity();
  const IterationChange c = be.iteration(*pg, iteration_of(s, 0.85f));
  REQUIRE(std::isnan(c.users));
  REQUIRE(std::isnan(c.items));
}

TEST_CASE("propagate_labels without the stored transpose converges to the closed form",
          "[propagation][fused_iteration]") {
  const std::uint64_t seed = GENERATE(51u, 52u);
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 120, 70, 900);
  const graph::CsrMatrix labels = test::random_item_labels(rng, 70, 5, 0.3);
  LabelPropagationOptions o;
  o.alpha = 0.8f;
  o.tolerance = 1e-7;
  o.max_iterations = 400;
  o.threads = 2;
  for (const Reorder r : {Reorder::off, Reorder::on}) {
    o.reorder = r;
    const PropagationResult got = propagate_labels(w, labels, nullptr, o);
    REQUIRE(got.converged);
    const Eigen::MatrixXd want = test::closed_form(
        test::dense(w), Eigen::MatrixXd::Zero(w.n_rows, 5),
        item_seed_labels(labels).cast<double>(), 0.8);
    test::require_within(got.user_labels, want.topRows(w.n_rows),
                         Eigen::MatrixXd::Constant(w.n_rows, 5, 1e-5));
    test::require_within(got.item_labels, want.bottomRows(w.n_cols),
                         Eigen::MatrixXd::Constant(w.n_cols, 5, 1e-5));
  }
}

TEST_CASE("propagate_labels with low_memory (W alone, one pass) gives the default's results bit for bit",
          "[propagation][fused_iteration]") {
  const std::uint64_t seed = GENERATE(61u, 62u);
  const int threads = GENERATE(1, 2);
  CAPTURE(seed, threads);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 3000, 900, 40000);
  const graph::CsrMatrix labels = test::random_item_labels(rng, 900, 7, 0.3);
  LabelPropagationOptions o;
  o.tolerance = 1e-7;
  o.max_iterations = 50;
  o.threads = threads;
  for (const Reorder r : {Reorder::off, Reorder::on}) {
    CAPTURE(static_cast<int>(r));
    o.reorder = r;
    o.low_memory = LowMemory::off;
    const PropagationResult two = propagate_labels(w, labels, nullptr, o);
    o.low_memory = LowMemory::on;
    const PropagationResult one = propagate_labels(w, labels, nullptr, o);
    CHECK(one.iterations == two.iterations);
    CHECK(one.user_labels == two.user_labels);  // bitwise
    CHECK(one.item_labels == two.item_labels);
  }
}
